#!/usr/bin/env bash
# Loads the practice server (`make bench-server`): `cocm serve` on a copy of the
# 10,000-patient bench registry, on loopback, with simulated team members and patients answering
# check-in links for a fixed time (examples/bench_server/). The copy is thrown away, so the bench registry stays as built.
set -euo pipefail
cocm=${1:-target/release/cocm}
load=${2:-target/release/examples/bench_server}
users=${BENCH_USERS:-20}
patients=${BENCH_PATIENTS:-50}
seconds=${BENCH_SECONDS:-60}
as_of=2026-11-01
# The registry `make bench` builds: 10,000 patients in care and 30,000 practice patients.
db=${COCM_BENCH_DB:-target/bench/registry-10000-practice-30000-${as_of}.cocm}
export COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password

if ! [ -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  echo "building $db (10,000 synthetic patients in collaborative care and 30,000 practice patients, on top of the demo practice)…"
  "$cocm" --db "$db" demo --patients 10000 --practice-patients 30000 --seed 1 --as-of "$as_of"
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"$cocm" --db "$db" backup --to "$work/registry.cocm" >/dev/null
# The check-in links open on this same server (the patient pages live under /r/ without
# --patient-listen); the host in the link is not used, the load connects to the server directly.
"$cocm" --db "$work/registry.cocm" settings set patient_portal_url https://checkin.bench.example >/dev/null

COCM_LOG=warn "$cocm" --db "$work/registry.cocm" serve --listen 127.0.0.1:0 >"$work/serve.out" &
server=$!
for _ in $(seq 100); do grep -q '^SHA-256 fingerprint' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^serving .* at \(https:.*\)$/\1/p' "$work/serve.out")
fingerprint=$(sed -n 's/^SHA-256 fingerprint: //p' "$work/serve.out")
echo "registry: a copy of $db ($(du -h "$db" | cut -f1))"
"$load" "$url" "$fingerprint" "$users" "$seconds" "$patients"
