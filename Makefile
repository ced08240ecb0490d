# The two commands a newcomer needs: `make run` (the whole hub on this machine) and `make test`.
# Everything installs itself into .venv on first use, in three sets: `make run` installs only what
# running needs (requirements.txt); `make test`, `make lint` and `make typecheck` add the test tooling
# and the CDK (requirements-dev.txt); `make synth` / `make deploy` add the CDK (requirements-infra.txt).
# Python >= 3.11 and Node.js >= 18 (for the CDK CLI, used by synth/deploy only) are the only prerequisites.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per requirement set, newer than the files it was installed from
RUN_STAMP := $(VENV)/.installed-run
INFRA_STAMP := $(VENV)/.installed-infra
STAMP := $(VENV)/.installed-dev
# Not --quiet: pip's own progress (what it collects, downloads and installs) shows what the wait is for
PIP_INSTALL := $(BIN)/python -m pip install
step = @printf '\n==> %s\n' "$(1)"
export PYTHONPATH := $(CURDIR)/layers/common/python:$(CURDIR)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-run install-infra run test lint typecheck unit integration infra e2e synth layer deploy bench clean

## Everything: the run set, the CDK and the test tooling
install: $(STAMP)

## Only what `make run` (and the bookinghub CLI) needs
install-run: $(RUN_STAMP)

install-infra: $(INFRA_STAMP)

$(RUN_STAMP): requirements.txt layers/common/requirements.txt Makefile
	$(call step,[1/4] Checking Python >= 3.11 ($(PYTHON)))
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(call step,[2/4] Creating the virtual environment in $(VENV) (and updating its pip))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) --upgrade pip
	$(call step,[3/4] Installing what running needs (requirements.txt; about 245 MB the first time))
	@$(PIP_INSTALL) -r requirements.txt
	$(call step,[4/4] Putting the project on the venv's path and the operator CLI in $(BIN)/bookinghub)
	@$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/bookinghub-dev.pth", "w").write(sys.argv[1] + "\n" + sys.argv[2] + "\n")' "$(CURDIR)" "$(CURDIR)/layers/common/python"
	@printf '#!/bin/sh\nexec "%s/python" -m cli "$$@"\n' "$(CURDIR)/$(BIN)" > $(BIN)/bookinghub && chmod +x $(BIN)/bookinghub
	@touch $(RUN_STAMP)

$(INFRA_STAMP): $(RUN_STAMP) requirements-infra.txt
	$(call step,Installing the CDK (requirements-infra.txt; about 435 MB more the first time))
	@$(PIP_INSTALL) -r requirements-infra.txt
	@touch $(INFRA_STAMP)

# The dev set includes the infra set, so it stamps both
$(STAMP): $(RUN_STAMP) requirements-dev.txt requirements-infra.txt
	$(call step,Installing the CDK and the test and lint tooling (requirements-dev.txt; about 580 MB more the first time))
	@$(PIP_INSTALL) -r requirements-dev.txt
	@touch $(INFRA_STAMP) $(STAMP)

## Start the whole hub locally: embedded AWS (moto), HTTP gateway, queue workers, schedules, sandboxes
run: install-run
	$(BIN)/python -m infra.local

# One pytest worker per core (pytest-xdist), a test file to a worker: the files' module-scoped local stacks
# and moto mocks stay in one process, and the tests are independent across files (random free ports,
# temporary directories). `make test PYTEST_PARALLEL=` runs them in one process.
PYTEST_PARALLEL ?= --numprocesses auto --dist loadfile

## Every check CI runs: lint, types, then unit, integration, infra and e2e tests
test: install lint typecheck
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) tests/unit tests/integration tests/infra tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy layers/common/python/bookinghub functions infra cli clients app.py tests

unit integration infra e2e: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) tests/$@

## The Lambda layer, built without Docker: Linux arm64 wheels for Python 3.13 plus the bookinghub package
layer: install-run
	$(BIN)/python -m infra.build_layer

# The CDK CLI, pinned in package-lock.json (npm's `latest` aws-cdk is an accidental 3.0.0 that cannot read
# aws-cdk-lib 2.275's cloud assembly)
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The app's context and any other CDK CLI arguments: `make deploy CDK_ARGS="-c stage=prod -c
# alarmEmail=ops@example.com"` (make itself takes no -c: `make deploy -c ...` is "invalid option")
CDK_ARGS ?=

## CloudFormation into cdk.out/, offline and without AWS credentials
synth: layer install-infra $(NODE_STAMP)
	node_modules/.bin/cdk synth --quiet $(CDK_ARGS)

deploy: layer install-infra $(NODE_STAMP)
	node_modules/.bin/cdk deploy $(CDK_ARGS)

bench: install-run
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/sync_bytecodes.py
	$(BIN)/python bench/beds24_full_sync.py
	@# soak.py exits 1 when a target is missed (it says which); the other benches still run
	-$(BIN)/python bench/soak.py --minutes 3
	$(BIN)/python bench/memory_breakdown.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/realtime.py
	$(BIN)/python bench/cost.py
	$(BIN)/python bench/cold_start.py

clean:
	rm -rf $(VENV) build cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache
