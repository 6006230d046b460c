"""All SQL of the audit domain."""
