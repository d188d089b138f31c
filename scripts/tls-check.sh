#!/usr/bin/env bash
# An outside check of the practice server's TLS and headers (issue 21): Debian's testssl.sh
# against `cocm serve` on loopback. Fails on any protocol below TLS 1.2, any weak or CBC
# cipher category offered, a missing HSTS or Content-Security-Policy. The report stays in
# target/tls-check/ (testssl.json, testssl.txt).
set -euo pipefail
cocm=${COCM:-target/debug/cocm}
out=target/tls-check
rm -rf "$out" && mkdir -p "$out"
"$cocm" --db "$out/registry.cocm" demo >/dev/null
COCM_AS="Morgan Grant" COCM_PASSWORD=cocm-demo-password COCM_LOG=warn \
  "$cocm" --db "$out/registry.cocm" serve --listen 127.0.0.1:0 >"$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  url=$(sed -n 's/^serving .* at \(https:\/\/[^ ]*\)$/\1/p' "$out/serve.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "cocm serve did not start:"; cat "$out/serve.log"; exit 1; }
# -p protocols, -s the standard cipher categories, -h the HTTP headers.
testssl --quiet --color 0 --warnings off -p -s -h --jsonfile "$out/testssl.json" "$url" >"$out/testssl.txt" 2>&1 || true
node - "$out/testssl.json" <<'JS'
const findings = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const by = Object.fromEntries(findings.map((f) => [f.id, f.finding]));
const problems = [];
const expect = (id, test, what) => { if (!(id in by) || !test(by[id])) problems.push(`${id}: ${by[id] ?? "missing"} (${what})`); };
for (const old of ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]) expect(old, (f) => f === "not offered", "not offered");
expect("TLS1_2", (f) => f.startsWith("offered"), "offered");
expect("TLS1_3", (f) => f.startsWith("offered"), "offered");
// NULL, anonymous, export, LOW (DES, RC4), 3DES/IDEA, and AVERAGE: the obsolete CBC suites.
for (const weak of ["NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"]) expect(`cipherlist_${weak}`, (f) => f === "not offered", "not offered");
expect("HSTS_time", (f) => /=31536000 seconds/.test(f), "one year");
expect("Content-Security-Policy", (f) => f.includes("default-src 'self'") && !f.includes("unsafe"), "strict");
expect("X-Frame-Options", (f) => f === "DENY", "DENY");
if (problems.length) { console.error("TLS check failed:\n  " + problems.join("\n  ")); process.exit(1); }
console.log(`TLS check: TLS 1.2 and 1.3 only, no weak or CBC cipher category, HSTS one year, strict CSP (${findings.length} findings in target/tls-check/testssl.json)`);
JS
