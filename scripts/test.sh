#!/usr/bin/env bash
# Restores, builds and runs every NUnit test; prints "N passed, N failed" last and exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK (dotnet) is not on PATH; install .NET 10 SDK first" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

scripts/ensure-data.sh || echo "test.sh: FashionMNIST unavailable; tests that need it will fail with a message naming the package" >&2

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log="$(mktemp -t totoro-test.XXXXXX.log)"
trap 'rm -f "$log"' EXIT

if ! dotnet build TotoroActors.sln -c Release -nologo -v q 2>&1 | tee "$log" | tail -n 30; then
  echo "test.sh: build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if grep -q -E "error [A-Z]+[0-9]+" "$log"; then
  echo "test.sh: build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test TotoroActors.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

summary=$(awk '/(Passed|Failed)! +- Failed:/ {
    gsub(",", "");
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1);
      if ($i == "Passed:") p += $(i+1);
      if ($i == "Skipped:") s += $(i+1);
    }
    seen = 1
  }
  END { if (!seen) { p = 0; f = 0; s = 0 } printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log")
failed=$(echo "$summary" | awk '{print $3}')
passed=$(echo "$summary" | awk '{print $1}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$rc" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  rc=1; failed=1
fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
