"""Secrets per stage: outside `local`, no committed default; two keys, for cursors and logs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from chalicelib.settings import Settings, get_settings
from infra.local_stack import load_template

CURSOR_KEY = "c" * 48
PSEUDONYM_KEY = "p" * 48
REQUIRED = {
    "TABLE_NAME": "t",
    "DIRECTORY_TABLE_NAME": "d",
    "BUCKET_NAME": "b",
    "KMS_KEY_ID": "k",
    "QUEUE_PREFIX": "q-",
    "EVENT_BUS_NAME": "bus",
    "COGNITO_USER_POOL_ID": "eu-west-3_pool",
    "COGNITO_APP_CLIENT_ID": "client",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment for Settings; the suite's own settings come back afterwards."""
    for name in ("APP_STAGE", "CURSOR_SECRET", "LOG_PSEUDONYM_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize(
    ("secrets", "named"),
    [
        ({}, ["CURSOR_SECRET", "LOG_PSEUDONYM_SECRET"]),
        ({"LOG_PSEUDONYM_SECRET": PSEUDONYM_KEY}, ["CURSOR_SECRET"]),
        ({"CURSOR_SECRET": CURSOR_KEY}, ["LOG_PSEUDONYM_SECRET"]),
        ({"CURSOR_SECRET": "short", "LOG_PSEUDONYM_SECRET": PSEUDONYM_KEY}, ["CURSOR_SECRET"]),
        (
            {"CURSOR_SECRET": "local-only-cursor-secret", "LOG_PSEUDONYM_SECRET": PSEUDONYM_KEY},
            ["CURSOR_SECRET"],
        ),
        ({"CURSOR_SECRET": CURSOR_KEY, "LOG_PSEUDONYM_SECRET": CURSOR_KEY}, ["must differ"]),
    ],
)
def test_outside_local_the_app_refuses_to_start_without_its_own_two_secrets(
    env: pytest.MonkeyPatch, stage: str, secrets: dict[str, str], named: list[str]
) -> None:
    env.setenv("APP_STAGE", stage)
    for name, value in secrets.items():
        env.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        get_settings()
    message = str(refused.value)
    for name in named:
        assert name in message
    for value in secrets.values():  # the error names the setting, never its value
        assert value not in message


def test_outside_local_two_distinct_secrets_start_the_app(env: pytest.MonkeyPatch) -> None:
    env.setenv("APP_STAGE", "prod")
    env.setenv("CURSOR_SECRET", CURSOR_KEY)
    env.setenv("LOG_PSEUDONYM_SECRET", PSEUDONYM_KEY)
    settings = get_settings()
    assert (settings.cursor_secret, settings.log_pseudonym_secret) == (CURSOR_KEY, PSEUDONYM_KEY)


def test_the_local_stage_runs_on_its_own_distinct_defaults(env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_environment()
    assert settings.stage == "local"
    assert settings.cursor_secret != settings.log_pseudonym_secret


def test_member_pseudonyms_use_their_own_key_not_the_cursor_key(env: pytest.MonkeyPatch) -> None:
    from chalicelib.observability import member_ref

    def ref(cursor_key: str, pseudonym_key: str) -> str:
        env.setenv("CURSOR_SECRET", cursor_key)
        env.setenv("LOG_PSEUDONYM_SECRET", pseudonym_key)
        get_settings.cache_clear()
        return member_ref("0012345601")

    first = ref(CURSOR_KEY, PSEUDONYM_KEY)
    assert ref("x" * 48, PSEUDONYM_KEY) == first  # a new cursor key: same pseudonyms
    assert ref(CURSOR_KEY, "y" * 48) != first


def test_the_stack_holds_two_secrets_and_gives_each_function_both() -> None:
    from pathlib import Path

    from cfnlint.decode import decode_str

    resources = load_template()["Resources"]
    names = {
        resources[r]["Properties"]["Name"]["Fn::Sub"]
        for r in ("CursorSecret", "LogPseudonymSecret")
    }
    assert names == {
        "generation-demarches-${Stage}-cursor-secret",
        "generation-demarches-${Stage}-log-pseudonym-secret",
    }
    merge, _ = decode_str((Path(__file__).parents[2] / "infra" / "chalice-merge.yaml").read_text())
    variables = merge["Globals"]["Function"]["Environment"]["Variables"]
    # Each at the version `make deploy` names (tests/infra/test_deploy.py).
    assert "cursor-secret:SecretString:::" in variables["CURSOR_SECRET"]["Fn::Sub"]
    assert "log-pseudonym-secret:SecretString:::" in variables["LOG_PSEUDONYM_SECRET"]["Fn::Sub"]
