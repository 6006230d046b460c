"""How backups read on screen: a file size as people read it (shared by the backups page and the audit log)."""

from __future__ import annotations

MB = 1024 * 1024
GB = 1024 * MB


def size_text(size_bytes: int) -> str:
    """A file size in MB (GB from 1 GB on): "12.3 MB", "0.04 MB", "1.25 GB"."""
    if size_bytes >= GB:
        return f"{size_bytes / GB:,.2f} GB"
    megabytes = size_bytes / MB
    return f"{megabytes:,.1f} MB" if megabytes >= 10 else f"{megabytes:,.2f} MB"
