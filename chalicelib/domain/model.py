"""The base of our pydantic models: each builds its validator and serializer on first use, not
when its module is imported.

Every function imports the whole app (`app.py`), and a queue handler uses a handful of the
hundred models the API answers with: building them all at import cost every cold start tens of
milliseconds (docs/performance.md, "Cold start"). A model used is built once, on its first
validation or dump; the API pays it on its first request, the others never.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
