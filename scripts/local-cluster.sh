#!/usr/bin/env bash
# N Totoro nodes on 127.0.0.1, node 1 the seed; state under .cluster/ (gitignored).
#
#   scripts/local-cluster.sh start N    build if needed, start nodes 1..N, wait until each answers `totoro cmd`
#   scripts/local-cluster.sh status     every node's pid, the members it sees and its ring peers (through `totoro cmd`)
#   scripts/local-cluster.sh stop       SIGTERM every node, wait for a graceful exit (SIGKILL after 30 s)
#
# Environment: TOTORO_BIN (a totoro executable; default: build Totoro.Node in Release),
# TOTORO_CLUSTER_DIR (default .cluster), TOTORO_CLUSTER_BASE_PORT (node i listens on base+i; default 4100),
# TOTORO_SECRET (default: the loopback secret of hocon/loopback/common.conf).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cluster_dir="${TOTORO_CLUSTER_DIR:-$root/.cluster}"
base_port="${TOTORO_CLUSTER_BASE_PORT:-4100}"

usage() {
  echo "usage: $0 start N | stop | status" >&2
  exit 2
}

totoro_bin() {
  if [[ -n "${TOTORO_BIN:-}" ]]; then
    echo "$TOTORO_BIN"
    return
  fi
  local bin="$root/Totoro.Node/bin/Release/net10.0/totoro"
  if [[ ! -x "$bin" ]]; then
    echo "building Totoro.Node (Release)..." >&2
    dotnet build "$root/Totoro.Node" -c Release -nologo -v q >&2
  fi
  echo "$bin"
}

alive() {
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

node_dirs() {
  find "$cluster_dir" -maxdepth 1 -type d -name 'node*' 2>/dev/null | sort -V
}

start() {
  local count="$1" bin i dir port pid tries
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || { echo "local-cluster: N must be a positive number, was '$count'" >&2; exit 2; }
  bin="$(totoro_bin)"
  mkdir -p "$cluster_dir"
  for ((i = 1; i <= count; i++)); do
    dir="$cluster_dir/node$i"
    port=$((base_port + i))
    if alive "$dir/node.pid"; then
      echo "node$i already running (pid $(cat "$dir/node.pid"))"
      continue
    fi
    mkdir -p "$dir/data"
    cat > "$dir/node.conf" <<CONF
# Written by scripts/local-cluster.sh; node $i of the local cluster.
include required("$root/hocon/loopback/common.conf")
totoro.node.name = node$i
totoro.node.data-dir = "$dir/data"
totoro.remote.port = $port
totoro.cluster.seed-nodes = ["127.0.0.1:$((base_port + 1))"]
CONF
    nohup "$bin" node --config "$dir/node.conf" > "$dir/node.log" 2>&1 &
    pid=$!
    echo "$pid" > "$dir/node.pid"
    tries=0
    until "$bin" cmd "127.0.0.1:$port" node info --config "$dir/node.conf" --json > /dev/null 2>&1; do
      tries=$((tries + 1))
      if ! kill -0 "$pid" 2>/dev/null || ((tries > 100)); then
        echo "local-cluster: node$i did not come up; last lines of $dir/node.log:" >&2
        tail -n 20 "$dir/node.log" >&2
        exit 1
      fi
      sleep 0.2
    done
    echo "node$i up on 127.0.0.1:$port (pid $pid, log $dir/node.log)"
  done
}

stop() {
  local dir pid waited
  for dir in $(node_dirs); do
    if alive "$dir/node.pid"; then
      pid="$(cat "$dir/node.pid")"
      kill -TERM "$pid"
      waited=0
      while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= 300)); then
          echo "$(basename "$dir") did not stop within 30 s; killing it" >&2
          kill -KILL "$pid" 2>/dev/null || true
          break
        fi
        sleep 0.1
        waited=$((waited + 1))
      done
      echo "$(basename "$dir") stopped"
    fi
    rm -f "$dir/node.pid"
  done
}

status() {
  local bin dir port down=0
  bin="$(totoro_bin)"
  if [[ -z "$(node_dirs)" ]]; then
    echo "no local cluster under $cluster_dir" >&2
    return 1
  fi
  for dir in $(node_dirs); do
    port="$(sed -n 's/^totoro.remote.port = //p' "$dir/node.conf")"
    if alive "$dir/node.pid"; then
      echo "== $(basename "$dir") 127.0.0.1:$port pid $(cat "$dir/node.pid")"
      "$bin" cmd "127.0.0.1:$port" cluster members --config "$dir/node.conf" || down=1
      "$bin" cmd "127.0.0.1:$port" ring members --config "$dir/node.conf" || down=1
    else
      echo "== $(basename "$dir") 127.0.0.1:$port not running"
      down=1
    fi
  done
  return "$down"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || usage; start "$2" ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
