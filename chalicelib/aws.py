"""Lazy, cached boto3 clients. Nothing is created at import time; AWS_ENDPOINT_URL is honoured.

boto3 itself reads AWS_ENDPOINT_URL, but we pass it explicitly so the settings stay the one
source of truth and a test can point the app at its own moto server.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from chalicelib.settings import get_settings

_lock = threading.Lock()


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    # boto3's default session is not thread-safe to create clients from: serialise creation.
    with _lock:
        session = boto3.session.Session()
        return session.client(
            service,
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=2,
                read_timeout=5,
                s3={"addressing_style": "path"} if settings.endpoint_url else None,
            ),
        )


def reset() -> None:
    """Forget settings and clients (tests and the local stack point the app elsewhere)."""
    client.cache_clear()
    get_settings.cache_clear()
