# The two commands of the README do the whole set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MOTO_PORT ?= 5000
API_PORT ?= 8000
# USER is also the login's environment variable: only a USER= given to make picks the account.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)

.PHONY: run test lint token clean bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1,<26.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt --group dev
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m infra.local_stack --moto-port $(MOTO_PORT) --api-port $(API_PORT)

token: $(STAMP)
	@$(BIN)/python -m infra.token $(TOKEN_USER)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict chalicelib

bench: $(STAMP)
	$(BIN)/python -m bench.bench_letters
	$(BIN)/python -m bench.bench_professionals

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
