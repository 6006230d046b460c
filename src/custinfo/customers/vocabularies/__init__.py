"""Editable, versioned controlled vocabularies (terms, labels, synonyms), seeded from the shipped file."""
