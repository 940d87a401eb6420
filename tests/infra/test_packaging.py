"""`chalice package --merge-template infra/chalice-merge.yaml`: what CloudFormation deploys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.local_stack import load_template

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from cfnlint.decode import decode_str

    out = tmp_path_factory.mktemp("package")
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "dev",
         "--merge-template", "infra/chalice-merge.yaml", str(out)],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
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
    assert len(events) == 10  # intake, the eight service queues, notifications
    for name, properties in events.items():
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert properties["ScalingConfig"]["MaximumConcurrency"] >= 2, name
        assert properties["BatchSize"] == 10, name


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
    assert len(queue_names) == 10
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
    assert len(functions) == 14
    assert all(f["Layers"] == [{"Ref": "ManagedLayer"}] for f in functions)
