"""The one place that reads configuration: environment variables, validated once, on first use."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    stage: str = Field(default="local", alias="APP_STAGE")
    region: str = Field(default="eu-west-3", alias="AWS_REGION")
    endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")

    table_name: str = Field(alias="TABLE_NAME")
    # The partner directory: reference data loaded in bulk from an export, read-only for the
    # API, so it lives in its own table (its own capacity, backups and permissions).
    directory_table_name: str = Field(alias="DIRECTORY_TABLE_NAME")
    bucket_name: str = Field(alias="BUCKET_NAME")
    # The stack's customer-managed key: every object we write is encrypted under it.
    kms_key_id: str = Field(alias="KMS_KEY_ID")
    # Queue names are `<queue_prefix>intake` and `<queue_prefix>svc-<service>`.
    queue_prefix: str = Field(alias="QUEUE_PREFIX")

    cognito_user_pool_id: str = Field(alias="COGNITO_USER_POOL_ID")
    cognito_app_client_id: str = Field(alias="COGNITO_APP_CLIENT_ID")
    # Where the pool's keys are published; defaults to the issuer's well-known address.
    jwks_url: str | None = Field(default=None, alias="JWKS_URL")
    jwks_cache_seconds: int = Field(default=3600, alias="JWKS_CACHE_SECONDS")

    max_body_bytes: int = Field(default=64 * 1024, alias="MAX_BODY_BYTES")
    # Signs page cursors. On AWS it comes from the stack (a secret per stage); the default only
    # serves the local stack and tests.
    cursor_secret: str = Field(default="local-only-cursor-secret", alias="CURSOR_SECRET")

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def cognito_jwks_url(self) -> str:
        return self.jwks_url or f"{self.cognito_issuer}/.well-known/jwks.json"

    def queue_name(self, queue: str) -> str:
        return f"{self.queue_prefix}{queue}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
