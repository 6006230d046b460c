"""Settings read from the environment (prefix CUSTINFO_)."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"

# The one default time zone: stored times are UTC, shown and reasoned about ("today") in this zone.
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    """Runtime configuration; every field maps to CUSTINFO_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CUSTINFO_", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("./var")
    database_url: str = ""
    secret_key: str = DEV_SECRET
    key_file: Path | None = None
    # Where each commit's last audit sequence number and MAC are appended, outside the database.
    audit_anchor_file: Path | None = None
    # Where backup archives are written (a mounted remote disk is best) and the key that encrypts them,
    # which is neither the field key ring nor anywhere in the database.
    backup_dir: Path | None = None
    backup_key_file: Path | None = None
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    timezone: str = DEFAULT_TIMEZONE
    language: Literal["zh_CN", "en"] = "zh_CN"
    session_hours: int = 8
    token_hours: int = 24
    assets_dir: Path | None = None

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("CUSTINFO_SECRET_KEY must be set to a private value in production")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("CUSTINFO_SECRET_KEY must be at least 32 characters in production")
        self.trusted_proxy_networks  # noqa: B018 - an unparsable entry must fail at start
        return self

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The reverse proxies (as networks) whose X-Forwarded-For header names the client."""
        try:
            return tuple(
                ipaddress.ip_network(item.strip(), strict=False)
                for item in self.trusted_proxies.split(",")
                if item.strip()
            )
        except ValueError:
            raise ValueError(
                "CUSTINFO_TRUSTED_PROXIES must list IP addresses or networks, separated by commas"
            ) from None

    @cached_property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'custinfo.db').resolve()}"

    @cached_property
    def effective_key_file(self) -> Path:
        """Where the field-encryption key ring lives (outside the database)."""
        return self.key_file or self.data_dir / "keys.json"

    @cached_property
    def effective_audit_anchor_file(self) -> Path:
        """Where the audit chain's anchor records are appended (put it on storage the database host cannot rewrite)."""
        return self.audit_anchor_file or self.data_dir / "audit-anchor.jsonl"

    @cached_property
    def effective_backup_dir(self) -> Path:
        """Where backup archives are written and rotated."""
        return self.backup_dir or self.data_dir / "backups"

    @cached_property
    def effective_backup_key_file(self) -> Path:
        """The key that encrypts backup archives (kept apart from the archives and from the field key ring)."""
        return self.backup_key_file or self.data_dir / "backup-key.json"
