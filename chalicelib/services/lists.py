"""A service's work list read whole, page after page: what the daily watches go through."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.domain.requests import RequestRecord
from chalicelib.services.ports import UnitOfWork

PAGE = 100


def whole_list(uow: UnitOfWork, service: str, state: str) -> Iterator[RequestRecord]:
    """Every request on the service's `state` list (`open`, `waiting`…), in the list's order."""
    start = None
    while True:
        records, start = uow.transitions.work_list(service, state, PAGE, start)
        yield from records
        if start is None:
            return
