#!/usr/bin/env bash
# Loads the practice server (`make bench-server`): `cocm serve` on a copy of the
# 10,000-patient bench registry, on loopback, with simulated users for a fixed time
# (examples/bench_server.rs). The copy is thrown away, so the bench registry stays as built.
set -euo pipefail
cocm=${1:-target/release/cocm}
load=${2:-target/release/examples/bench_server}
users=${BENCH_USERS:-20}
seconds=${BENCH_SECONDS:-60}
as_of=2026-11-01
db=${COCM_BENCH_DB:-target/bench/registry-10000-${as_of}-sqlcipher-16k.cocm}
export COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password

if ! [ -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  echo "building $db (10,000 synthetic patients on top of the demo practice)…"
  "$cocm" --db "$db" demo --patients 10000 --seed 1 --as-of "$as_of"
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"$cocm" --db "$db" backup --to "$work/registry.cocm" >/dev/null

COCM_LOG=warn "$cocm" --db "$work/registry.cocm" serve --listen 127.0.0.1:0 >"$work/serve.out" &
server=$!
for _ in $(seq 100); do grep -q '^SHA-256 fingerprint' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^serving .* at \(https:.*\)$/\1/p' "$work/serve.out")
fingerprint=$(sed -n 's/^SHA-256 fingerprint: //p' "$work/serve.out")
echo "registry: a copy of $db ($(du -h "$db" | cut -f1))"
"$load" "$url" "$fingerprint" "$users" "$seconds"
