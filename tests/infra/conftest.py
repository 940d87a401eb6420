"""What `make package STAGE=prod` produces, read once per session: the two templates deployed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"


def package_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, command: Callable[[Path], list[str]]
) -> Path:
    """`command(out)` run in the repository once for the whole run, into `out`, returned.
    `make test` runs the suite on several workers (pytest-xdist), and packaging writes to the
    repository's own `build/` and `.chalice/deployments/`: one worker at a time packages, under
    a lock in the directory the workers share, and the first to need `name` makes it."""
    shared = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent  # the run's directory, above each worker's own
    out = shared / name
    with FileLock(shared / "packaging.lock"):
        if not (out / ".done").exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            result = subprocess.run(
                command(out), cwd=ROOT, capture_output=True, text=True,
                env={**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"},
            )  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
            (out / ".done").touch()
    return out


@pytest.fixture(scope="session")
def prod_package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`stateful` (the data stack) and `app` (Chalice's SAM output, merged), as dicts."""
    from cfnlint.decode import decode_str

    out = package_once(
        tmp_path_factory,
        "prod",
        # -o: the venv is this one, never rebuilt from inside a test.
        lambda out: [MAKE, "--no-print-directory", "-o", ".venv/.installed", "package",
                     "STAGE=prod", f"DIST={out}"],
    )  # fmt: skip
    templates: dict[str, Any] = {}
    for name, path in (("stateful", out / "stateful.yaml"), ("app", out / "app" / "sam.yaml")):
        template, problems = decode_str(path.read_text())
        assert not problems, problems
        templates[name] = dict(template)
    templates["dist"] = out  # the zips beside them
    return templates
