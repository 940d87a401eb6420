"""The Chalice app: builds it, registers blueprints, middleware and event handlers. No logic."""

from typing import Any

from chalice import Chalice, Rate

from chalicelib.api import members, reference, requests, uploads
from chalicelib.api.auth import authenticate

app = Chalice(app_name="generation-demarches")
app.register_middleware(authenticate, "http")
app.register_blueprint(reference.blueprint)
app.register_blueprint(members.blueprint)
app.register_blueprint(requests.blueprint)
app.register_blueprint(uploads.blueprint)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="outbox_sweeper")
def outbox_sweeper(event: Any) -> None:
    from chalicelib.routing.sweeper import sweep_pending

    sweep_pending()
