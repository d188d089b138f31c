#!/usr/bin/env bash
# Benchmarks the CLI on a 10,000-patient demo registry: wall time (best and median of 5 runs)
# and peak memory of caseload, billing, queue and report commands. The registry is built
# once, with a fixed as-of date, and reused.
set -euo pipefail
cocm=${1:-target/release/cocm}
as_of=2026-11-01
month=2026-10
db=${COCM_BENCH_DB:-target/bench/registry-10000-practice-30000-${as_of}.cocm}
# The demo's practice lead signs every command in (one argon2id derivation each).
export COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password

if ! [ -x /usr/bin/time ]; then
  apt-get update && apt-get install -y --no-install-recommends time
fi
if ! [ -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  echo "building $db (10,000 synthetic patients in collaborative care and 30,000 practice patients with a year of visits, on top of the demo practice)…"
  /usr/bin/time -f "  built in %e s" "$cocm" --db "$db" demo --patients 10000 --practice-patients 30000 --seed 1 --as-of "$as_of"
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
measure "cocm billing --month $month --claims --json" billing --month "$month" --claims --json
measure "cocm queue --json" queue --as-of "$as_of" --json
measure "cocm report --from $month --json" report --from "$month" --as-of "$as_of" --json
measure "cocm report --by-care-manager" report --from "$month" --as-of "$as_of" --by-care-manager --json
measure "cocm report --monthly (12 months) --csv" report --monthly --from 2025-11 --to "$month" --as-of "$as_of" --csv
measure "cocm report --nys-omh --month $month" report --nys-omh --month "$month" --json
measure "cocm report --nys-omh --quarter 2026-Q3" report --nys-omh --quarter 2026-Q3 --json

# Exporting the practice as FHIR R4 Bulk Data (issue 10), into a fresh folder each run.
fhir_times=() fhir_peak=0
for _ in 1 2 3; do
  rm -rf target/bench/fhir
  out=$( { /usr/bin/time -f "%e %M" "$cocm" --db "$db" export fhir --out target/bench/fhir >/dev/null; } 2>&1 | tail -1)
  fhir_times+=("${out% *}")
  (( ${out#* } > fhir_peak )) && fhir_peak=${out#* }
done
printf '%-34s best %5.1f s    of 3 runs         peak %4d MB   (%s written)\n' "cocm export fhir (the practice)" \
  "$(printf '%s\n' "${fhir_times[@]}" | sort -n | head -1)" "$((fhir_peak / 1024))" "$(du -sh target/bench/fhir | cut -f1)"
rm -rf target/bench/fhir

# Importing the same practice from CSV into a fresh registry (issue 10): the registry's records
# written as the long import shapes (needs python3), then imported file by file.
if command -v python3 >/dev/null; then
  dir=target/bench/import
  rm -rf "$dir" && mkdir -p "$dir"
  "$cocm" --db "$db" export sqlite --out "$dir/plain.sqlite" >/dev/null
  python3 scripts/synthetic-csv.py "$dir/plain.sqlite" "$dir"
  rm -f "$dir/plain.sqlite"
  fresh=$dir/imported.cocm
  "$cocm" --db "$fresh" init --practice "Import bench" --lead "$COCM_AS" >/dev/null
  "$cocm" --db "$db" team list --json | python3 -c 'import json,sys; [print(m["name"] + "\t" + m["role"]) for m in json.load(sys.stdin)]' |
    while IFS=$'\t' read -r name role; do
      [ "$name" = "$COCM_AS" ] || "$cocm" --db "$fresh" team add --name "$name" --role "$role" >/dev/null
    done
  start=$(date +%s.%N) peak=0
  while read -r shape file; do
    out=$( { /usr/bin/time -f "%e %M" "$cocm" --db "$fresh" import csv "$file" --mapping "$dir/$shape.mapping.json" >/dev/null; } 2>&1 | tail -1)
    printf '  import %-28s %6.1f s   peak %4d MB\n' "$(basename "$file")" "${out% *}" "$(( ${out#* } / 1024 ))"
    (( ${out#* } > peak )) && peak=${out#* }
  done < "$dir/files.txt"
  printf '%-34s %5.1f s in all   peak %4d MB\n' "import the practice from CSV" "$(awk "BEGIN { print $(date +%s.%N) - $start }")" "$((peak / 1024))"
fi
