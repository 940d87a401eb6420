"""`make load`'s script: no test runs it (half an hour against a running `make run`), so what
it reads of the app and the stack is held here: it imports, and it knows the services' lines."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load_script", ROOT / "scripts" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_script"] = module
    spec.loader.exec_module(module)
    return module


def test_the_load_script_imports_and_sees_a_request_its_service_received() -> None:
    """The state file renamed (`state_file()`, one per moto port) and the services' history
    line reworded (« Reçue par le … ») broke it silently: an ImportError, then every request
    taken for never handled."""
    from chalicelib.domain.catalog import Service, acknowledged_label

    load = _load_script()
    expected = load._expected(load.Kind("autre", "vie.autre"))
    detail = {"history": [{"label": acknowledged_label(Service.adhesion)}], "documents": []}
    assert expected(detail)
    assert not expected({"history": [{"label": "Transmise au Service Adhésion"}], "documents": []})
