"""Logs, correlation ids and metrics (Powertools for AWS Lambda), without personal data.

- Every `chalicelib.*` logger writes JSON through Powertools' formatter, set up on first use
  (never at import). A correlation id follows a request from the API, through the queue
  messages' attributes (never their bodies), to the service handlers.
- Member ids are logged as a keyed hash (`member_ref`); names, addresses, IBANs and health data
  are never logged, and failures are logged by type and place, never by message (an exception
  message can quote the data that failed).
- Metrics are CloudWatch embedded metric format lines, one per event.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from ulid import ULID

NAMESPACE = "GenerationDemarches"
SERVICE = "generation-demarches"
CORRELATION_ATTRIBUTE = "correlation_id"

_correlation: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class _CurrentStdout(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is now (Lambda's, or a test's capture)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_made_logger: Any = None
_making_logger = threading.Lock()


def powertools_logger() -> Any:
    """The one Powertools logger of the process, made on first use: once, even when the first
    uses come at once (two made together reset each other's formatter: `AttributeError` on
    the first lines of a threaded local server)."""
    global _made_logger
    if _made_logger is None:
        with _making_logger:
            if _made_logger is None:
                _made_logger = _make_logger()
    return _made_logger


def _make_logger() -> Any:
    from aws_lambda_powertools import Logger

    log = Logger(service=SERVICE, logger_handler=_CurrentStdout(), serialize_stacktrace=False)
    ours = logging.getLogger("chalicelib")
    ours.handlers = list(log._logger.handlers)  # the same handler: the same formatter and keys
    ours.setLevel(log.log_level)
    ours.propagate = False
    return log


def correlation_id() -> str | None:
    return _correlation.get()


@contextmanager
def correlated(value: str | None, **keys: str) -> Iterator[str]:
    """Run with this correlation id (a new one when None) on every log line and sent message.

    On the way out the keys added meanwhile (these, and the caller's `member_ref`) go too.
    """
    log = powertools_logger()
    current = value if value and _valid(value) else str(ULID())
    token = _correlation.set(current)
    log.set_correlation_id(current)
    log.append_keys(**keys)
    try:
        yield current
    finally:
        log.remove_keys([*keys, "member_ref"])
        log.set_correlation_id(None)
        _correlation.reset(token)


def _valid(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_:." for c in value)


def member_ref(member_id: str) -> str:
    """A stable pseudonym of a member for logs: a keyed hash, not reversible without the key."""
    from chalicelib.settings import get_settings

    key = get_settings().log_pseudonym_secret.encode()[:64]  # blake2b keys stop at 64 bytes
    return hashlib.blake2b(member_id.encode(), key=key, digest_size=8).hexdigest()


def failure(error: BaseException) -> dict[str, str]:
    """What to log of a failure: its type, an AWS error's code (`ValidationException`), and
    where it happened in our code; never its message (SNS's may quote a phone number)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "chalicelib" in f.filename]
    place = frames[-1] if frames else None
    where = (
        f"{place.filename.rsplit('chalicelib', 1)[-1]}:{place.lineno} {place.name}" if place else ""
    )
    logged = {"error_type": type(error).__name__, "error_at": where}
    answer = getattr(error, "response", None)  # botocore's ClientError: the parsed answer
    code = answer.get("Error", {}).get("Code") if isinstance(answer, dict) else None
    if code:
        logged["error_code"] = str(code)
    return logged


def metric(name: str, value: float = 1, **dimensions: str) -> None:
    """One CloudWatch metric, as an EMF line on stdout."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE
    ) as emitted:
        emitted.add_dimension(name="service", value=SERVICE)
        for key, dimension in dimensions.items():
            emitted.add_dimension(name=key, value=dimension)
