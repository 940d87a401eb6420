"""The Chalice app: builds it, registers blueprints, middleware and event handlers. No logic."""

from chalice import Chalice

from chalicelib.api import members, reference
from chalicelib.api.auth import authenticate

app = Chalice(app_name="generation-demarches")
app.register_middleware(authenticate, "http")
app.register_blueprint(reference.blueprint)
app.register_blueprint(members.blueprint)
