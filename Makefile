# The two commands of the README do the whole set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MOTO_PORT ?= 5000
API_PORT ?= 8000
# USER is also the login's environment variable: only a USER= given to make picks the account.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)
STAGE ?= dev
DIST := dist/$(STAGE)
IAC_VENV := .venv-iac
IAC_STAMP := $(IAC_VENV)/.installed

.PHONY: run test lint token clean bench load package deploy iac-scan openapi asyncapi outbox

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1,<26.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt --group dev
	touch $(STAMP)

# checkov pins its own boto3: it gets an environment of its own.
$(IAC_STAMP): pyproject.toml
	test -x $(IAC_VENV)/bin/python || $(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(IAC_VENV)/bin/python -m pip install --quiet --group iac
	touch $(IAC_STAMP)

run: $(STAMP)
	$(BIN)/python -m infra.local_stack --moto-port $(MOTO_PORT) --api-port $(API_PORT)

token: $(STAMP)
	@$(BIN)/python -m infra.token $(TOKEN_USER)

test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) iac-scan

# The two deployable templates and the Lambda bundle, in dist/<stage>/.
package: $(STAMP)
	rm -rf $(DIST) && mkdir -p $(DIST)
	cp infra/template.yaml $(DIST)/stateful.yaml
	AWS_DEFAULT_REGION=eu-west-3 $(BIN)/chalice package --stage $(STAGE) \
		--merge-template infra/chalice-merge.yaml $(DIST)/app
	@echo "packaged $(STAGE): $(DIST)/stateful.yaml, $(DIST)/app/sam.yaml, $(DIST)/app/deployment.zip"

# DRY_RUN=1 prints the commands (no AWS account here); see infra/deploy.sh for what a real run needs.
deploy: package
	infra/deploy.sh $(STAGE)

# cfn-lint and checkov on both templates, the merged one included (as packaged for prod).
iac-scan: $(IAC_STAMP)
	$(MAKE) --no-print-directory package STAGE=prod
	$(BIN)/cfn-lint infra/template.yaml dist/prod/app/sam.yaml
	$(IAC_VENV)/bin/checkov --config-file infra/checkov.yaml -f infra/template.yaml -f dist/prod/app/sam.yaml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict chalicelib

# The committed copy of GET /openapi.json; a test fails while it is stale.
openapi: $(STAMP)
	$(BIN)/python scripts/write_openapi.py docs/openapi.json

# The committed AsyncAPI document of the domain events; a test fails while it is stale.
asyncapi: $(STAMP)
	$(BIN)/python scripts/write_asyncapi.py docs/asyncapi.json

# The e-mails and SMS the running `make run` has sent to members (moto records them), newest first.
outbox: $(STAMP)
	@$(BIN)/python -m infra.outbox

bench: $(STAMP)
	$(BIN)/python -m bench.bench_letters
	$(BIN)/python -m bench.bench_professionals
	$(BIN)/python -m bench.bench_api

# Needs `make run` (same API_PORT) in another terminal: 2,000 démarches from 67 members, 16 at a
# time (30 démarches a day each at most: API.md, "Limits").
load: $(STAMP)
	$(BIN)/python scripts/load.py --api-port $(API_PORT)

clean:
	rm -rf $(VENV) $(IAC_VENV) dist .local .pytest_cache .mypy_cache .ruff_cache
