"""One validated settings object, read from the environment and `.env`.

Nothing else in the project reads ``os.environ``: every module asks :func:`get_settings`.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    """Application settings (env vars, case-insensitive; `.env` in the project root is read too)."""

    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", extra="ignore", case_sensitive=False)

    env: Literal["dev", "test", "prod"] = Field("dev", alias="APP_ENV")
    data_dir: Path = Field(PROJECT_ROOT / "data", alias="DATA_DIR")
    database_url: str = Field("", alias="DATABASE_URL")
    secret_key: SecretStr | None = Field(None, alias="SECRET_KEY")
    gemini_api_key: SecretStr | None = Field(None, alias="GEMINI_API_KEY")
    gemini_model: str = Field("gemini-2.5-flash", alias="GEMINI_MODEL")
    gemini_base_url: str | None = Field(None, alias="GEMINI_BASE_URL")
    gemini_timeout_s: float = Field(20.0, alias="GEMINI_TIMEOUT_S", gt=0)
    gemini_max_retries: int = Field(2, alias="GEMINI_MAX_RETRIES", ge=0, le=10)
    redis_url: str | None = Field(None, alias="REDIS_URL")
    company_name: str = Field("Demo Company", alias="COMPANY_NAME")
    # the language of the pages and briefings (BCP 47 tag: <html lang>, the PDFs' /Lang)
    locale: str = Field("en", alias="APP_LOCALE", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8050, alias="PORT")
    max_upload_mb: int = Field(200, alias="MAX_UPLOAD_MB", gt=0)
    db_pool_size: int = Field(5, alias="DB_POOL_SIZE", ge=1)
    db_max_overflow: int = Field(10, alias="DB_MAX_OVERFLOW", ge=0)
    receipts_min_for_learned_lead_time: int = Field(5, alias="RECEIPTS_MIN_FOR_LEAD_TIME", ge=1)
    recompute_batch_size: int = Field(2000, alias="RECOMPUTE_BATCH_SIZE", ge=50)
    login_max_failures: int = Field(5, alias="LOGIN_MAX_FAILURES", ge=1)
    login_lock_seconds: int = Field(300, alias="LOGIN_LOCK_SECONDS", ge=1)
    login_address_max_failures: int = Field(100, alias="LOGIN_ADDRESS_MAX_FAILURES", ge=1)
    login_account_max_failures: int = Field(20, alias="LOGIN_ACCOUNT_MAX_FAILURES", ge=1)
    login_lock_max_seconds: int = Field(3600, alias="LOGIN_LOCK_MAX_SECONDS", ge=1)
    session_max_age_hours: float = Field(12.0, alias="SESSION_MAX_AGE_HOURS", gt=0, le=24 * 90)
    session_cookie_secure: bool | None = Field(None, alias="SESSION_COOKIE_SECURE")
    trusted_proxy_hops: int = Field(0, alias="TRUSTED_PROXY_HOPS", ge=0, le=5)
    demo_seed_on_start: bool = Field(True, alias="DEMO_SEED_ON_START")
    # e-mailed briefings (services/mailer.py); secrets only from the environment
    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT", ge=1, le=65535)
    smtp_user: str | None = Field(None, alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(None, alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(None, alias="SMTP_FROM")
    smtp_starttls: bool = Field(True, alias="SMTP_STARTTLS")
    smtp_timeout_s: float = Field(20.0, alias="SMTP_TIMEOUT_S", gt=0)
    smtp_attempts: int = Field(3, alias="SMTP_ATTEMPTS", ge=1, le=10)
    smtp_retry_wait_s: float = Field(2.0, alias="SMTP_RETRY_WAIT_S", ge=0)

    @field_validator("database_url")
    @classmethod
    def _explicit_driver(cls, value: str) -> str:
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the project ships psycopg2.
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg2://" + value[len("postgresql://") :]
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'inventory.db').as_posix()}"
        if self.secret_key is None and self.env == "prod":
            raise ValueError("SECRET_KEY is required when APP_ENV=prod")
        return self

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes (``MAX_UPLOAD_MB`` megabytes of 1,048,576 bytes)."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The secret key; in dev/test one is generated once and kept in the data folder."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / ".secret_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
