# The two commands of the README do the whole set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MOTO_PORT ?= 5000
API_PORT ?= 8000
PORTAL_PORT ?= 8080
# USER is also the login's environment variable: only a USER= given to make picks the account.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)
STAGE ?= dev
DIST := dist/$(STAGE)
IAC_VENV := .venv-iac
IAC_STAMP := $(IAC_VENV)/.installed

.PHONY: run test lint token clean bench load package deploy iac-scan openapi routes asyncapi outbox e2e-deps screenshots audit-verify

$(STAMP): requirements.txt requirements-letters.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1,<26.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-letters.txt --group dev
	touch $(STAMP)

# checkov pins its own boto3: it gets an environment of its own.
$(IAC_STAMP): pyproject.toml
	test -x $(IAC_VENV)/bin/python || $(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(IAC_VENV)/bin/python -m pip install --quiet --group iac
	touch $(IAC_STAMP)

run: $(STAMP)
	$(BIN)/python -m infra.local_stack --moto-port $(MOTO_PORT) --api-port $(API_PORT) \
		--portal-port $(PORTAL_PORT)

token: $(STAMP)
	@MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m infra.token $(TOKEN_USER)

# One worker per core, each with its own moto and stack (tests/infra/conftest.py: package_once).
test: $(STAMP) e2e-deps
	$(BIN)/python -m pytest -n auto --dist load
	$(MAKE) iac-scan

# What the Chromium tests of the portal need beyond the venv: Debian's chromium (Playwright's own
# browser download is not used) and axe-core, pinned in tests/e2e/package-lock.json.
e2e-deps:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	test -f tests/e2e/node_modules/axe-core/axe.min.js || npm ci --prefix tests/e2e --no-audit --no-fund

# Screenshots of every screen of the portal, in docs/screenshots/ (shown in the README).
screenshots: $(STAMP) e2e-deps
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_portal_screens.py -k accessibility

# The letters' layer (requirements-letters.txt): Lambda's platform wheels only, never a build
# from source against this machine's libraries (Lambda's python3.11 has glibc 2.26).
LETTERS_LAYER := build/letters-layer.zip
$(LETTERS_LAYER): requirements-letters.txt | $(STAMP)
	rm -rf build/letters-layer $@ && mkdir -p build
	$(BIN)/python -m pip install --quiet --only-binary=:all: --platform manylinux2014_x86_64 \
		--python-version 3.11 --implementation cp --target build/letters-layer/python \
		-r requirements-letters.txt
	$(BIN)/python -c "import shutil; shutil.make_archive('build/letters-layer', 'zip', 'build/letters-layer')"

# The two deployable templates, the Lambda bundle and the letters' layer, in dist/<stage>/.
package: $(STAMP) $(LETTERS_LAYER)
	rm -rf $(DIST) && mkdir -p $(DIST)
	cp infra/template.yaml $(DIST)/stateful.yaml
	cp -R web $(DIST)/portal  # static: infra/deploy.sh adds the stage's config.json
	AWS_DEFAULT_REGION=eu-west-3 $(BIN)/chalice package --stage $(STAGE) \
		--merge-template infra/chalice-merge.yaml $(DIST)/app
	cp $(LETTERS_LAYER) $(DIST)/app/letters-layer.zip
	@echo "packaged $(STAGE): $(DIST)/stateful.yaml, $(DIST)/app/sam.yaml, $(DIST)/app/deployment.zip, $(DIST)/portal/"

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

# The table app.py registers the routes from (chalicelib/api/lazy.py); a test fails while it is
# stale: run after adding, removing or changing a route.
routes: $(STAMP)
	$(BIN)/python -m chalicelib.api.lazy chalicelib/api/route_table.py

# The committed AsyncAPI document of the domain events; a test fails while it is stale.
asyncapi: $(STAMP)
	$(BIN)/python scripts/write_asyncapi.py docs/asyncapi.json

# The e-mails and SMS the running `make run` has sent to members (moto records them), newest first.
outbox: $(STAMP)
	@MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m infra.outbox

# A Paris day's audit chains (DAY=YYYY-MM-DD, default today) in the running `make run`: OK with
# their count, or each broken chain's first broken link (exit 1).
audit-verify: $(STAMP)
	@MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m infra.audit_verify $(if $(DAY),--day $(DAY))

bench: $(STAMP)
	$(BIN)/python -m bench.bench_letters
	$(BIN)/python -m bench.bench_professionals
	$(BIN)/python -m bench.bench_api
	$(BIN)/python -m bench.bench_cost

# Needs `make run` (same API_PORT) in another terminal: 2,000 démarches from 67 members, 16 at a
# time (30 démarches a day each at most: API.md, "Limits"), then the dialogue on them (questions,
# replies, withdrawals, decisions) and every notification counted (docs/performance.md).
load: $(STAMP)
	MOTO_PORT=$(MOTO_PORT) $(BIN)/python scripts/load.py --api-port $(API_PORT)

clean:
	rm -rf $(VENV) $(IAC_VENV) dist build .local .pytest_cache .mypy_cache .ruff_cache
