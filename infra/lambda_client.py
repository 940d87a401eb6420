"""Chalice's test client, its invocations given the function's own timeout, as Lambda's are.

Chalice's `lambda_.invoke` hands every function a context of 3 s, whatever its configuration's
`lambda_timeout`. The queue functions read the time their invocation has left before each
record (`chalicelib/routing/batch.RECORD_SECONDS`), and the retention purge before each batch:
given 3 s, they would start nothing. The local queue pump and the tests invoke through this.
"""

from __future__ import annotations

from typing import Any

from chalice.constants import DEFAULT_LAMBDA_TIMEOUT
from chalice.local import LambdaContext
from chalice.test import Client as ChaliceClient
from chalice.test import FunctionNotFoundError, InvokeResponse, TestLambdaClient


class TimedLambdaClient(TestLambdaClient):
    def invoke(self, function_name: str, payload: Any | None = None) -> InvokeResponse:
        scoped = self._config.scope(self._config.chalice_stage, function_name)
        if function_name not in self._app.handler_map:
            raise FunctionNotFoundError(function_name)
        timeout = scoped.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT
        context = LambdaContext(
            function_name, memory_size=scoped.lambda_memory_size, max_runtime_ms=timeout * 1000
        )
        with self._patched_env_vars(scoped.environment_variables):
            return InvokeResponse(self._app.handler_map[function_name](payload or {}, context))


class Client(ChaliceClient):
    """`chalice.test.Client` but for `lambda_`, whose context has the function's timeout."""

    @property
    def lambda_(self) -> TestLambdaClient:
        if self._lambda_client is None:
            self._lambda_client = TimedLambdaClient(self._app, self._chalice_config)
        return self._lambda_client
