#!/usr/bin/env bash
# Benchmarks the CLI on a 10,000-patient demo registry: wall time (best and median of 5 runs)
# and peak memory of caseload, billing, queue and report commands. The registry is built
# once, with a fixed as-of date, and reused.
set -euo pipefail
cocm=${1:-target/release/cocm}
as_of=2026-11-01
month=2026-10
db=${COCM_BENCH_DB:-target/bench/registry-10000-${as_of}-sqlcipher-16k.cocm}
# The demo's practice lead signs every command in (one argon2id derivation each).
export COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password

if ! [ -x /usr/bin/time ]; then
  apt-get update && apt-get install -y --no-install-recommends time
fi
if ! [ -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  echo "building $db (10,000 synthetic patients on top of the demo practice)…"
  /usr/bin/time -f "  built in %e s" "$cocm" --db "$db" demo --patients 10000 --seed 1 --as-of "$as_of"
fi
"$cocm" --db "$db" caseload --as-of "$as_of" --json >/dev/null # warm the page cache

measure() {
  local label=$1; shift
  local times=() peak=0
  for _ in 1 2 3 4 5; do
    local out
    out=$( { /usr/bin/time -f "%e %M" "$cocm" --db "$db" "$@" >/dev/null; } 2>&1 | tail -1)
    times+=("${out% *}")
    local kb=${out#* }
    (( kb > peak )) && peak=$kb
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '%-34s best %5.0f ms   median %5.0f ms   peak %4d MB\n' "$label" \
    "$(echo "$sorted" | head -1 | awk '{print $1*1000}')" "$(echo "$sorted" | sed -n 3p | awk '{print $1*1000}')" "$((peak / 1024))"
}

echo "registry: $db ($(du -h "$db" | cut -f1)), as of $as_of"
if [ -f "$db.keys" ]; then
  measure "sign-in alone (cocm team accounts)" team accounts
fi
measure "cocm caseload --json (practice)" caseload --as-of "$as_of" --json
measure "cocm billing --month $month --json" billing --month "$month" --json
measure "cocm billing --month $month --csv" billing --month "$month" --csv
measure "cocm queue --json" queue --as-of "$as_of" --json
measure "cocm report --from $month --json" report --from "$month" --as-of "$as_of" --json
measure "cocm report --by-care-manager" report --from "$month" --as-of "$as_of" --by-care-manager --json
measure "cocm report --monthly (12 months) --csv" report --monthly --from 2025-11 --to "$month" --as-of "$as_of" --csv
