#!/usr/bin/env bash
# Times an FL app on a running local cluster (scripts/local-cluster.sh start 3): submits APP_FILE through node N
# RUNS times, waits for each run to end (polling `app status` every 0.2 s), and prints one line per run with the
# outcome, rounds, final accuracy, the root's own elapsed time, and the wall time from submit to "ended" seen by
# the shell (which includes the polling granularity and two `totoro cmd` start-ups).
#
#   scripts/fl-local-bench.sh [APP_FILE] [RUNS] [N]     defaults: examples/apps/fashion-logreg.conf 5 3
#
# Environment as for local-cluster.sh (TOTORO_BIN, TOTORO_CLUSTER_DIR, TOTORO_CLUSTER_BASE_PORT).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app_file="${1:-$root/examples/apps/fashion-logreg.conf}"
runs="${2:-5}"
node="${3:-3}"
cluster_dir="${TOTORO_CLUSTER_DIR:-$root/.cluster}"
port=$(( ${TOTORO_CLUSTER_BASE_PORT:-4100} + node ))
bin="${TOTORO_BIN:-$root/Totoro.Node/bin/Release/net10.0/totoro}"
conf="$cluster_dir/node$node/node.conf"
[[ -f "$conf" ]] || { echo "fl-local-bench: no $conf; start a cluster with scripts/local-cluster.sh start $node" >&2; exit 2; }
name="$(sed -n 's/^ *name *= *"\{0,1\}\([a-z0-9._-]*\)"\{0,1\} *$/\1/p' "$app_file" | head -n 1)"
cmd() { "$bin" cmd "127.0.0.1:$port" --config "$conf" "$@"; }
field() { sed -n "s/.*{\"key\":\"$1\",\"value\":\"\([^\"]*\)\"}.*/\1/p"; }

echo "run outcome rounds accuracy root-elapsed wall-s load"
for ((run = 1; run <= runs; run++)); do
  start=$(date +%s.%N)
  cmd app submit "$app_file" --json > /dev/null
  while status="$(cmd app status "$name" --json)" && grep -q '"value":"running"' <<< "$status"; do
    sleep 0.2
  done
  end=$(date +%s.%N)
  echo "$run $(field state <<< "$status") $(field rounds <<< "$status") $(field accuracy <<< "$status")" \
    "$(field virtual-time <<< "$status") $(echo "$end - $start" | bc) $(cut -d' ' -f1 /proc/loadavg)"
done
