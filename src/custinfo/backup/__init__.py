"""Encrypted backups of the whole database, verified by restoring them into a scratch database, and restore."""
