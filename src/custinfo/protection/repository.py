"""All SQL of the protection domain."""
