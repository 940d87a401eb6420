"""What `make package STAGE=prod` produces, read once per session: the two templates deployed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"


@pytest.fixture(scope="session")
def prod_package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`stateful` (the data stack) and `app` (Chalice's SAM output, merged), as dicts."""
    from cfnlint.decode import decode_str

    out = tmp_path_factory.mktemp("prod") / "dist"
    result = subprocess.run(
        # -o: the venv is this one, never rebuilt from inside a test.
        [MAKE, "--no-print-directory", "-o", ".venv/.installed", "package",
         "STAGE=prod", f"DIST={out}"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    templates: dict[str, Any] = {}
    for name, path in (("stateful", out / "stateful.yaml"), ("app", out / "app" / "sam.yaml")):
        template, problems = decode_str(path.read_text())
        assert not problems, problems
        templates[name] = dict(template)
    templates["dist"] = out  # the zips beside them
    return templates
