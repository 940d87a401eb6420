"""The local portal server: the stage's configuration, the strict CSP, nothing outside web/."""

from __future__ import annotations

import requests

from infra.portal_server import local_config, serve_portal


def test_the_portal_server_serves_the_stage_config_with_a_strict_csp_and_nothing_outside_web() -> (
    None
):
    config = local_config("http://127.0.0.1:8000/", "http://127.0.0.1:5000", "eu-west-3", "client")
    server = serve_portal(config, port=0)
    try:
        answer = requests.get(server.url + "/config.json", timeout=5)
        assert answer.json() == {
            "api_url": "http://127.0.0.1:8000",
            "cognito_endpoint": "http://127.0.0.1:5000/",
            "region": "eu-west-3",
            "client_id": "client",
            "local": True,
        }
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
        assert "connect-src 'self' http://127.0.0.1:5000 http://127.0.0.1:8000" in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"

        page = requests.get(server.url + "/", timeout=5)
        assert page.status_code == 200 and '<script type="module" src="js/app.js">' in page.text
        assert "<script>" not in page.text and "style=" not in page.text
        assert (
            requests.get(server.url + "/js/app.js", timeout=5)
            .headers["Content-Type"]
            .startswith("text/javascript")
        )
        outside = requests.get(server.url + "/../pyproject.toml", timeout=5)
        assert outside.status_code == 404
        encoded = requests.get(server.url + "/%2e%2e/pyproject.toml", timeout=5)
        assert encoded.status_code == 404
    finally:
        server.stop()
