"""The Chalice app: builds it, registers blueprints, middleware and event handlers. No logic.

Queue names here are logical: `infra/chalice-merge.yaml` points each event source at the
stateful stack's queue of the stage, and the local queue pump maps them the same way.
"""

# ruff: noqa: E402  (the imports follow `gc.disable()`, on purpose)
import gc

# A cold start imports a few hundred modules that allocate long-lived objects (classes, models,
# botocore's service models): the cyclic collector ran several full passes over them during the
# import, about 30 ms of every cold start (docs/performance.md). No collection while the app is
# imported; what the import built is then frozen out of every later collection.
gc.disable()

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Cron, Rate

from chalicelib.api.auth import authenticate
from chalicelib.api.cors import add_preflights, cors
from chalicelib.api.lazy import register_lazily
from chalicelib.api.route_table import ROUTES
from chalicelib.domain.services import Service

# Not Chalice's log set-up: its plain-text handler on the logger named after the app, which is
# Powertools' service logger too, wrote every line a second time (observability.py).
app = Chalice(app_name="generation-demarches", configure_logs=False)
app.register_middleware(cors, "http")  # outermost: every answer, errors included
app.register_middleware(authenticate, "http")
# Each route's module is imported on the route's first call, never by the functions that serve
# no route (api/lazy.py); `GET /openapi.json` is read from them all.
register_lazily(app, ROUTES)
add_preflights(app)  # a browser's CORS preflight on every path (api/cors.py)


def _seconds_left(context: Any) -> Callable[[], float]:
    """What is left of the invocation, in seconds (the Lambda context's clock)."""
    return lambda: context.get_remaining_time_in_millis() / 1000


@app.schedule(Rate(1, unit=Rate.MINUTES), name="outbox_sweeper")
def outbox_sweeper(event: Any) -> None:
    from chalicelib.routing.sweeper import sweep_pending

    sweep_pending(seconds_left=_seconds_left(event.context))


@app.schedule(Cron(0, 6, "*", "*", "?", "*"), name="sla_watch")
def sla_watch(event: Any) -> None:
    from chalicelib.observability import correlated
    from chalicelib.routing.sla import watch

    with correlated(None, function="sla_watch"):
        watch()


# The files whose retention ended (docs/retention.md), out of the daily watch: a national day
# of purges takes hours. Each run works until a minute of its timeout (.chalice/config.json)
# is left, the next resumes; one run at a time (infra/chalice-merge.yaml).
@app.schedule(Rate(15, unit=Rate.MINUTES), name="retention_purge")
def retention_purge(event: Any) -> None:
    from chalicelib.routing.retention import purge

    purge(_seconds_left(event.context))


@app.on_sqs_message(queue="notifications", batch_size=10, name="notifications")
def notifications(event: Any) -> dict[str, Any]:
    from chalicelib.routing.notifications import handle_notifications

    return handle_notifications(event.to_dict(), _seconds_left(event.context))


# The SMS kept through a member's night go at their 08:00: 06:00 or 07:00 UTC in Paris (summer,
# winter), 04:00 UTC in Réunion, 12:00 UTC in the Antilles (`domain/notifications.sms_zone`), and
# a failed one is tried again half an hour later: every hour, each kept SMS's own moment decides.
@app.schedule(Cron(0, "*", "*", "*", "?", "*"), name="sms_morning")
def sms_morning(event: Any) -> None:
    from chalicelib.routing.notifications import morning_sms

    morning_sms()


# One export per invocation: a build reads a member's whole file (its own 5-minute timeout).
@app.on_sqs_message(queue="exports", batch_size=1, name="exports")
def exports_builder(event: Any) -> dict[str, Any]:
    from chalicelib.routing.exports import handle_exports

    return handle_exports(event.to_dict())


@app.on_sqs_message(queue="intake", batch_size=10, name="router")
def router(event: Any) -> dict[str, Any]:
    from chalicelib.routing.router import handle_intake

    return handle_intake(event.to_dict(), _seconds_left(event.context))


def _service_handler(service: Service) -> Any:
    def handler(event: Any) -> dict[str, Any]:
        from chalicelib.routing.services import handle_service_queue

        return handle_service_queue(service, event.to_dict(), _seconds_left(event.context))

    handler.__name__ = f"svc_{service.value}"
    return handler


SERVICE_FUNCTIONS = {service: f"svc_{service.value}" for service in Service}
for service, function_name in SERVICE_FUNCTIONS.items():
    app.on_sqs_message(queue=f"svc-{service.value}", batch_size=10, name=function_name)(
        _service_handler(service)
    )

gc.freeze()  # the app and its modules live as long as the process: never scanned again
gc.enable()
