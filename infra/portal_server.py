"""The reference portal (`web/`), served locally as CloudFront serves it once deployed.

Static files only, plus `/config.json`, written per stage: where the API and the Cognito
endpoint are, the region, the app client, and whether this is the local stack (the sign-in
page then names the demo accounts). Every answer carries the deployed response-headers
policy's strict Content-Security-Policy, so a page that needed an inline script or style would
break here first. `make run` serves it on http://127.0.0.1:8080; the e2e tests on a free port.
"""

from __future__ import annotations

import json
import mimetypes
import threading
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB = Path(__file__).resolve().parent.parent / "web"
DEFAULT_PORT = 8080
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


@dataclass(frozen=True)
class PortalConfig:
    """What `web/js/config.js` reads from `/config.json`."""

    api_url: str
    cognito_endpoint: str
    region: str
    client_id: str
    local: bool

    def content_security_policy(self) -> str:
        # The API, Cognito and the bucket (presigned POST and GET) are the only other origins
        # the pages talk to; locally the bucket is on the moto server, as Cognito is.
        connect = " ".join(
            sorted({"'self'", _origin(self.api_url), _origin(self.cognito_endpoint)})
        )
        return (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect} {_s3_sources(self)}; font-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _s3_sources(config: PortalConfig) -> str:
    if config.local:
        return ""  # the bucket is served by the same moto server as Cognito
    return f"https://*.s3.{config.region}.amazonaws.com"


def local_config(api_url: str, moto_endpoint: str, region: str, client_id: str) -> PortalConfig:
    return PortalConfig(
        api_url=api_url.rstrip("/"),
        cognito_endpoint=moto_endpoint.rstrip("/") + "/",
        region=region,
        client_id=client_id,
        local=True,
    )


class _Handler(BaseHTTPRequestHandler):
    config: PortalConfig
    root: Path

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/config.json":
            body = json.dumps(asdict(self.config)).encode()
            return self._send(HTTPStatus.OK, "application/json", body, head, cache=False)
        if path.endswith("/"):
            path += "index.html"
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return self._send(
                HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"Introuvable", head
            )
        kind = (
            TYPES.get(file.suffix)
            or mimetypes.guess_type(file.name)[0]
            or "application/octet-stream"
        )
        return self._send(HTTPStatus.OK, kind, file.read_bytes(), head)

    def _send(
        self, status: HTTPStatus, kind: str, body: bytes, head: bool, cache: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.config.content_security_policy())
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache" if not cache else "max-age=300")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per file would drown `make run`'s output


@dataclass
class PortalServer:
    url: str
    _server: ThreadingHTTPServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_portal(
    config: PortalConfig, host: str = "127.0.0.1", port: int = DEFAULT_PORT, root: Path = WEB
) -> PortalServer:
    """Serve `root` and `/config.json` in a daemon thread; `port=0` picks a free one."""
    handler = type("PortalHandler", (_Handler,), {"config": config, "root": root.resolve()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    thread.start()
    return PortalServer(f"http://{host}:{server.server_address[1]}", server, thread)
