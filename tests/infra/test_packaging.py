"""`chalice package --merge-template infra/chalice-merge.yaml`: what CloudFormation deploys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.local_stack import load_template
from tests.infra.conftest import package_once

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from cfnlint.decode import decode_str

    out = package_once(
        tmp_path_factory,
        "dev",
        lambda out: [str(BIN / "chalice"), "package", "--stage", "dev",
                     "--merge-template", "infra/chalice-merge.yaml", str(out)],
    )  # fmt: skip
    template, problems = decode_str((out / "sam.yaml").read_text())
    assert not problems
    return {"template": dict(template), "path": out / "sam.yaml"}


def _sqs_events(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: event["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for name, event in resource["Properties"].get("Events", {}).items()
        if event["Type"] == "SQS"
    }


def test_every_sqs_event_source_reports_batch_item_failures(packaged: dict[str, Any]) -> None:
    events = _sqs_events(packaged["template"])
    assert len(events) == 11  # intake, the eight service queues, notifications, exports
    for name, properties in events.items():
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert properties["ScalingConfig"]["MaximumConcurrency"] >= 2, name
        # A data export is built alone: one member's whole file per invocation.
        assert properties["BatchSize"] == (1 if name == "ExportsSqsEventSource" else 10), name


def test_event_sources_read_the_stateful_stacks_queues(packaged: dict[str, Any]) -> None:
    resources = load_template()["Resources"]
    queue_names = {
        r["Properties"]["QueueName"]["Fn::Sub"]
        for r in resources.values()
        if r["Type"] == "AWS::SQS::Queue"
        and not r["Properties"]["QueueName"]["Fn::Sub"].endswith("-dlq")
    }
    sources = {
        p["Queue"]["Fn::Sub"].rsplit(":", 1)[1] for p in _sqs_events(packaged["template"]).values()
    }
    assert len(queue_names) == 11
    assert sources == queue_names


def test_packaged_template_passes_cfn_lint(packaged: dict[str, Any]) -> None:
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(packaged["path"])], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_api_gateways_own_answers_use_our_error_shape(packaged: dict[str, Any]) -> None:
    import json

    api = packaged["template"]["Resources"]["RestAPI"]["Properties"]
    responses = api["GatewayResponses"]
    expected = {"THROTTLED": ("429", "too_many_requests"),
                "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
                "DEFAULT_5XX": ("503", "service_unavailable")}  # fmt: skip
    for name, (status, code) in expected.items():
        body = json.loads(responses[name]["ResponseTemplates"]["application/json"])
        assert (responses[name]["StatusCode"], body["error"]["code"]) == (status, code)
        assert set(body["error"]) == {"code", "message", "fields"}
    assert api["TracingEnabled"] is True
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] == {
        "Fn::FindInMap": ["Throttling", {"Ref": "Stage"}, "RateLimit"]
    }


def test_functions_ship_the_code_and_share_a_layer_of_dependencies(
    packaged: dict[str, Any],
) -> None:
    out = packaged["path"].parent
    assert (out / "deployment.zip").stat().st_size <= 15 * 1024 * 1024
    assert (out / "layer-deployment.zip").exists()
    functions = [
        r["Properties"]
        for r in packaged["template"]["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 16
    shared, letters = {"Ref": "ManagedLayer"}, {"Ref": "LettersLayer"}
    assert all(f["Layers"] in ([shared], [shared, letters]) for f in functions)


def test_only_the_functions_that_render_letters_load_the_letters_layer(
    packaged: dict[str, Any],
) -> None:
    """fpdf2, fontTools, Pillow and the fonts are 20 MB zipped: the API, the router, the
    notifications, the exports and the schedules never render a letter and never load them."""
    resources = packaged["template"]["Resources"]
    with_letters = {
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
        and {"Ref": "LettersLayer"} in r["Properties"]["Layers"]
    }
    services = {name for name in resources if name.startswith("Svc") and "Role" not in name}
    services = {n for n in services if resources[n]["Type"] == "AWS::Serverless::Function"}
    assert len(services) == 8
    assert with_letters == services  # not the API: it hands letters over to the services
    layer = resources["LettersLayer"]["Properties"]
    assert layer["ContentUri"] == "./letters-layer.zip"
    assert layer["CompatibleRuntimes"] == ["python3.11"]


def test_requirements_split_what_every_function_loads_from_what_letters_need() -> None:
    """No letter dependency in the shared layer; every letter dependency pinned in its own."""
    shared = (ROOT / "requirements.txt").read_text().lower()
    letters = (ROOT / "requirements-letters.txt").read_text().lower()
    for package in ("fpdf2", "pystrich", "font-source-sans-pro", "pillow"):
        assert f"\n{package}==" not in shared, package
        assert f"\n{package}==" in letters, package


def _wheel_tags(layer: Path) -> dict[str, list[str]]:
    """Each distribution of a layer zip, and the platform tags of the wheel it came from."""
    import zipfile

    tags: dict[str, list[str]] = {}
    with zipfile.ZipFile(layer) as archive:
        for name in archive.namelist():
            if name.endswith(".dist-info/WHEEL"):
                text = archive.read(name).decode()
                tags[name.split("/")[-2]] = [
                    line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Tag:")
                ]
    return tags


def test_every_compiled_dependency_runs_on_lambdas_python(prod_package: dict[str, Any]) -> None:
    """Lambda's python3.11 runs on Amazon Linux 2 (glibc 2.26): a wheel built here from source
    (`linux_x86_64`, this machine's glibc) or for manylinux_2_28 fails at import there. Chalice
    once built Pillow 13 from source for want of such a wheel: it would have broken every letter."""
    app = prod_package["dist"] / "app"
    layers = [app / "layer-deployment.zip", app / "letters-layer.zip"]
    checked = 0
    for layer in layers:
        for dist, tags in _wheel_tags(layer).items():
            for tag in tags:
                platform = tag.rsplit("-", 1)[1]
                if platform == "any":
                    continue
                checked += 1
                assert platform.startswith(("manylinux2014_x86_64", "manylinux_2_17_x86_64",
                                            "manylinux1", "manylinux2010", "manylinux_2_")), (
                    dist, tag)  # fmt: skip
                if platform.startswith("manylinux_2_"):
                    assert int(platform.split("_")[2]) <= 26, (dist, tag)
    assert checked >= 4  # pydantic_core, cryptography, cffi, Pillow, fontTools at least
