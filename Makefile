# The two commands a newcomer needs: `make run` (the whole hub on this machine) and `make test`.
# Everything installs itself into .venv on first use; Python >= 3.11 and Node.js >= 18 (for the CDK
# CLI, used by synth/deploy only) are the only prerequisites.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/layers/common/python:$(CURDIR)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint typecheck unit integration infra e2e synth layer deploy bench clean

install: $(STAMP)

$(STAMP): requirements.txt layers/common/requirements.txt Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	# The project's own code on the venv's path, and the operator CLI as .venv/bin/bookinghub
	$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/bookinghub-dev.pth", "w").write(sys.argv[1] + "\n" + sys.argv[2] + "\n")' "$(CURDIR)" "$(CURDIR)/layers/common/python"
	printf '#!/bin/sh\nexec "%s/python" -m cli "$$@"\n' "$(CURDIR)/$(BIN)" > $(BIN)/bookinghub && chmod +x $(BIN)/bookinghub
	touch $(STAMP)

## Start the whole hub locally: embedded AWS (moto), HTTP gateway, queue workers, schedules, sandboxes
run: install
	$(BIN)/python -m infra.local

## Every check CI runs: lint, types, then unit, integration, infra and e2e tests
test: install lint typecheck
	$(BIN)/python -m pytest tests/unit tests/integration tests/infra tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy layers/common/python/bookinghub functions infra cli app.py

unit integration infra e2e: install
	$(BIN)/python -m pytest tests/$@

## The Lambda layer, built without Docker: Linux arm64 wheels for Python 3.13 plus the bookinghub package
layer: install
	$(BIN)/python -m infra.build_layer

# The CDK CLI, pinned in package-lock.json (npm's `latest` aws-cdk is an accidental 3.0.0 that cannot read
# aws-cdk-lib 2.275's cloud assembly)
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

## CloudFormation into cdk.out/, offline and without AWS credentials
synth: layer $(NODE_STAMP)
	node_modules/.bin/cdk synth --quiet

deploy: layer $(NODE_STAMP)
	node_modules/.bin/cdk deploy

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/beds24_full_sync.py
	$(BIN)/python bench/cost.py
	$(BIN)/python bench/cold_start.py

clean:
	rm -rf $(VENV) build cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache
