"""What one member may do (API.md, "Limits"): the ceilings the use cases enforce.

The values are settings of the stage (`settings.py`); the store counts against them in the same
write as what they count (`store/requests.py`, `store/uploads.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MemberLimits:
    unused_uploads: int  # uploads asked for, neither used by a request nor expired
    requests_per_day: int  # démarches filed in one Paris day
    replies_per_day: int  # answers to the services in one Paris day
    exports_per_day: int = 5  # exports of their data asked for in one Paris day
