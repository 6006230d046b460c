"""All SQL of the auth domain."""
