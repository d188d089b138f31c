# CoCM Registry — the two quick-start commands are `make run` and `make test`.

CARGO ?= cargo
DEMO_DB ?= target/demo/registry.cocm
COCM_RELEASE := target/release/cocm

.PHONY: run test deps lint bench demo clean-demo

## Build the CLI, create the demo registry (as of today) and show the care team's day:
## the caseload, the consult queue and last month's billing summary.
run: deps
	$(CARGO) build --release --locked
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(COCM_RELEASE) --db $(DEMO_DB) demo
	@echo; echo "== Caseload (every care manager) =="
	@$(COCM_RELEASE) --db $(DEMO_DB) caseload
	@echo; echo "== Psychiatric consultant's queue =="
	@$(COCM_RELEASE) --db $(DEMO_DB) queue
	@echo; echo "== Billing, last month =="
	@$(COCM_RELEASE) --db $(DEMO_DB) billing --month $$(date -d "$$(date +%Y-%m-01) -1 day" +%Y-%m)
	@echo; echo "The demo registry is $(DEMO_DB); try: $(COCM_RELEASE) --db $(DEMO_DB) patient show D001"

## Every test: unit tests of the rules, integration tests of the library and the CLI.
test: deps lint
	$(CARGO) test --locked

## What a fresh Debian 12 machine with only the Rust toolchain lacks (a C compiler for SQLite).
deps:
	@command -v cc >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends build-essential; }

## Formatting and lints, where the toolchain has them.
lint:
	@if $(CARGO) fmt --version >/dev/null 2>&1; then $(CARGO) fmt --check; fi
	@if $(CARGO) clippy --version >/dev/null 2>&1; then $(CARGO) clippy --locked --all-targets -- -D warnings; fi

## Timings of the 10,000-patient registry (built once under target/bench).
bench: deps
	$(CARGO) build --release --locked
	scripts/bench.sh $(COCM_RELEASE)
