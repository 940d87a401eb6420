"""The one place that reads configuration: environment variables, validated once, on first use."""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

LOCAL_STAGE = "local"
# Known to everyone who reads this file: the local stage's only, refused on any other stage.
LOCAL_CURSOR_SECRET = "local-only-cursor-secret"  # noqa: S105
LOCAL_LOG_PSEUDONYM_SECRET = "local-only-log-pseudonym-secret"  # noqa: S105
MIN_SECRET_LENGTH = 32


class Settings(BaseModel):
    """Read from the environment (`from_environment`), by the variables' names (the aliases).

    A plain model rather than pydantic-settings: the environment is the only source, and
    pydantic-settings (with asyncio, dotenv and its cloud sources) cost every function's cold
    start about 40 ms (docs/performance.md)."""

    # An error names the setting, never its value: the values include the stage's secrets.
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    stage: str = Field(default=LOCAL_STAGE, alias="APP_STAGE")
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
    # The stage's EventBridge bus, where domain events go (`generation-demarches-<stage>`).
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")

    # The address the members' notifications come from (its domain is the stage's verified SES
    # identity), and the portal page their `List-Unsubscribe` points at
    # (`<PORTAL_URL>/#/preferences`).
    notifications_from: str = Field(
        default="notifications@generation-demarches.local", alias="NOTIFICATIONS_FROM"
    )
    portal_url: str = Field(default="http://127.0.0.1:8080", alias="PORTAL_URL")
    # The origins whose pages may call the API from a browser (CORS), comma-separated: the
    # stage's portal (and agent console). Any other origin gets no CORS header at all.
    portal_origins: str = Field(default="http://127.0.0.1:8080", alias="PORTAL_ORIGINS")

    cognito_user_pool_id: str = Field(alias="COGNITO_USER_POOL_ID")
    cognito_app_client_id: str = Field(alias="COGNITO_APP_CLIENT_ID")
    # Where the pool's keys are published; defaults to the issuer's well-known address.
    jwks_url: str | None = Field(default=None, alias="JWKS_URL")
    jwks_cache_seconds: int = Field(default=3600, alias="JWKS_CACHE_SECONDS")

    max_body_bytes: int = Field(default=64 * 1024, alias="MAX_BODY_BYTES")
    # What one member may do (API.md, "Limits"): the same on every stage, the local one
    # included, unless a stage sets otherwise.
    unused_uploads_max: int = Field(default=20, ge=1, alias="UNUSED_UPLOADS_MAX")
    requests_per_day: int = Field(default=30, ge=1, alias="REQUESTS_PER_DAY")
    replies_per_day: int = Field(default=50, ge=1, alias="REPLIES_PER_DAY")
    exports_per_day: int = Field(default=5, ge=1, alias="EXPORTS_PER_DAY")
    # Two keys, never one: the cursor key signs page cursors (rotating it only resets open
    # pages), the pseudonym key turns member ids into `member_ref` in logs (rotating it breaks
    # the link between old and new log lines, so it rotates on its own schedule). On AWS each
    # is a secret of the stage; the defaults serve the local stage only (`_secrets_fit_stage`).
    cursor_secret: str = Field(default=LOCAL_CURSOR_SECRET, alias="CURSOR_SECRET")
    log_pseudonym_secret: str = Field(
        default=LOCAL_LOG_PSEUDONYM_SECRET, alias="LOG_PSEUDONYM_SECRET"
    )

    @model_validator(mode="after")
    def _secrets_fit_stage(self) -> "Settings":
        """Outside the local stage, no committed default and no short or shared key: refuse."""
        if self.stage == LOCAL_STAGE:
            return self
        problems = [
            f"{name} must be set to a secret of the stage (at least {MIN_SECRET_LENGTH} chars)"
            for name, value, default in (
                ("CURSOR_SECRET", self.cursor_secret, LOCAL_CURSOR_SECRET),
                ("LOG_PSEUDONYM_SECRET", self.log_pseudonym_secret, LOCAL_LOG_PSEUDONYM_SECRET),
            )
            if value == default or len(value) < MIN_SECRET_LENGTH
        ]
        if self.cursor_secret == self.log_pseudonym_secret:
            problems.append("CURSOR_SECRET and LOG_PSEUDONYM_SECRET must differ")
        if problems:
            raise ValueError(f"stage {self.stage!r}: " + "; ".join(problems))
        return self

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.portal_origins.split(",") if o.strip())

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def cognito_jwks_url(self) -> str:
        return self.jwks_url or f"{self.cognito_issuer}/.well-known/jwks.json"

    def queue_name(self, queue: str) -> str:
        return f"{self.queue_prefix}{queue}"

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls.model_validate(dict(os.environ))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
