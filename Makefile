# CoCM Registry — the two quick-start commands are `make run` and `make test`.

CARGO ?= cargo
DEMO_DB ?= target/demo/registry.cocm
APP := target/debug/cocm-desktop
COCM := target/debug/cocm
# What a fresh Debian 12 machine lacks: a C compiler and OpenSSL's libcrypto headers
# (SQLCipher), WebKitGTK for the app, and WebKitWebDriver, Xvfb, D-Bus and xwd for the
# end-to-end tests, Debian's Chromium (headless) and its driver for the browser end of the practice server's test,
# and testssl.sh for the outside check of the server's TLS.
APT_PACKAGES := build-essential libssl-dev libwebkit2gtk-4.1-dev webkit2gtk-driver xvfb xauth librsvg2-dev dbus x11-apps chromium chromium-driver testssl.sh python3-aiosmtpd
TAURI_DRIVER_VERSION := 2.1.0
E2E_ENV := WEBKIT_DISABLE_COMPOSITING_MODE=1 NO_AT_BRIDGE=1

FHIR_CHECK := target/fhir-check

.PHONY: run test deps lint app ui e2e bench bench-server cli-demo bindings fhir-check tls-check package

## Build the desktop app and open it on a fresh demo registry (histories dated to today).
run: deps app
	$(CARGO) build --locked --bin cocm
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).keys
	$(COCM) --db $(DEMO_DB) demo
	COCM_DB=$(DEMO_DB) $(APP)

## Every test: the core's unit and integration tests, the UI's type check and unit tests,
## and the end-to-end tests of the real app under Xvfb.
test: deps lint
	$(CARGO) test --locked
	$(MAKE) fhir-check
	$(MAKE) tls-check
	cd ui && npm run check && npm test
	$(MAKE) app
	$(MAKE) e2e

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi
	@command -v tauri-driver >/dev/null 2>&1 || $(CARGO) install tauri-driver@$(TAURI_DRIVER_VERSION) --locked
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then cd ui && npm ci --no-fund --no-audit; fi
	@if [ ! -d tests/fhir/node_modules ] || [ tests/fhir/package-lock.json -nt tests/fhir/node_modules/.package-lock.json ]; then cd tests/fhir && npm ci --no-fund --no-audit; fi

## Rewrite the UI's TypeScript types from the Rust API types (tests/bindings.rs fails while
## the committed ones are stale).
bindings:
	COCM_WRITE_BINDINGS=1 $(CARGO) test --locked --test bindings

## Formatting and lints, where the toolchain has them.
lint:
	@if $(CARGO) fmt --version >/dev/null 2>&1; then $(CARGO) fmt --all --check; fi
	@if $(CARGO) clippy --version >/dev/null 2>&1; then $(CARGO) clippy --locked --all-targets -- -D warnings; fi

## The practice server's TLS and headers checked from outside by testssl.sh (report in target/tls-check/).
tls-check:
	$(CARGO) build --locked --bin cocm
	scripts/tls-check.sh

## Every resource of a FHIR export validated by two independent validators (tests/fhir/):
## the demo practice, with the wide sample's total-only scores added, exported and checked.
fhir-check:
	$(CARGO) build --locked --bin cocm
	rm -rf $(FHIR_CHECK) && mkdir -p $(FHIR_CHECK)
	$(COCM) --db $(FHIR_CHECK)/registry.cocm demo >/dev/null
	export COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password; \
	$(COCM) --db $(FHIR_CHECK)/registry.cocm import csv seeds/import/wide.csv --mapping seeds/import/wide.mapping.json >/dev/null && \
	$(COCM) --db $(FHIR_CHECK)/registry.cocm import fhir seeds/import/ehr-bundle.json >/dev/null && \
	$(COCM) --db $(FHIR_CHECK)/registry.cocm export fhir --out $(FHIR_CHECK)/export >/dev/null
	node tests/fhir/validate.mjs $(FHIR_CHECK)/export
	@# The validators are live: five broken resources (tests/fhir/invalid/) must fail.
	@if node tests/fhir/validate.mjs tests/fhir/invalid >/dev/null 2>&1; then echo "the validators passed tests/fhir/invalid"; exit 1; fi

## The UI, then the desktop app with the UI inside it.
ui:
	cd ui && npm run build

app: ui
	$(CARGO) build --locked -p cocm-desktop

## The end-to-end tests; screenshots land in target/e2e-screenshots/. A flow that hangs fails
## after 10 minutes, and a test file exits when its flows end even if a driver it started
## survives, so one stuck flow cannot hold the run past CI's limit.
e2e:
	rm -rf target/e2e-screenshots
	cd ui && $(E2E_ENV) xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- node --test --test-concurrency=1 --test-timeout=600000 --test-force-exit e2e/

## The CLI on the demo practice: caseload, consult queue and last month's billing.
cli-demo:
	$(CARGO) build --release --locked --bin cocm
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).keys
	target/release/cocm --db $(DEMO_DB) demo
	export COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password; \
	target/release/cocm --db $(DEMO_DB) caseload && \
	target/release/cocm --db $(DEMO_DB) queue && \
	target/release/cocm --db $(DEMO_DB) billing --month $$(date -d "$$(date +%Y-%m-01) -1 day" +%Y-%m)

## Timings of the 10,000-patient registry (built once under target/bench).
bench: deps
	$(CARGO) build --release --locked --bin cocm
	scripts/bench.sh target/release/cocm

## Debian packages under target/package/: the practice server (with its systemd units) and the
## desktop app (Tauri's bundler).
package: deps ui
	$(CARGO) build --release --locked --bin cocm
	scripts/package.sh

## The practice server under load: 20 simulated users for 60 s on the 10,000-patient registry,
## on loopback (p50/p95/p99 per request kind, and the errors).
bench-server:
	$(CARGO) build --release --locked --bin cocm --example bench_server
	scripts/bench-server.sh target/release/cocm target/release/examples/bench_server
