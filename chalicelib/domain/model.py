"""The base of our pydantic models: each builds its validator and serializer on first use, not
when its module is imported.

Every function imports the whole app (`app.py`), and a queue handler uses a handful of the
hundred models the API answers with: building them all at import cost every cold start tens of
milliseconds (docs/performance.md, "Cold start"). A model used is built once, on its first
validation or dump; the API pays it on its first request, the others never.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool
from pydantic_core import PydanticCustomError


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


# A body's values as JSON writes them, nothing read into them: pydantic's lax mode would take
# "yes" or 1 for `true`, "10" or `true` for 10, and a timestamp or a datetime at midnight for a
# date. A front end's slip must be a 422 naming the field, never a complaint filed or a one-day
# deadline set. (Not the whole model strict: that refuses an enum's value or a date written as
# text, which is what JSON gives; and 10.0, which JSON Schema counts an integer.)
JsonBool = StrictBool


def _json_integer(value: Any) -> Any:
    """A number, not text nor a boolean (pydantic then refuses a fraction)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    """`YYYY-MM-DD` (API.md), or a date from our own code; pydantic then reads it."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_parsing", "Input should be a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
