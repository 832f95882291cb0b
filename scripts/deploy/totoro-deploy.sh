#!/usr/bin/env bash
# Deploys Totoro nodes to VMs over ssh, from a hosts file; --local runs the same steps on this machine without ssh.
#
#   scripts/deploy/totoro-deploy.sh [--local] --hosts FILE [--bin-dir DIR] deploy|start|stop|status
#
#   deploy   publish Totoro.Node (or take --bin-dir), write each node's config, copy binaries, config and secret
#   start    start every node (nohup, pid file, log) and wait until it answers `totoro cmd`
#   stop     SIGTERM every node and wait for its graceful exit
#   status   `totoro cmd HOST:PORT cluster members` for every node (from this machine)
#
# Hosts file: one node a line, `name ssh-target host port [zone]`; '#' starts a comment. The first line is the seed.
#   node1  ubuntu@10.0.0.10  10.0.0.10  4053  eu-west
# In --local mode ssh-target is ignored and each node lives under .cluster/deploy/<name>.
# Environment: TOTORO_SECRET (required; at least 16 bytes), TOTORO_REMOTE_DIR (default /opt/totoro),
# TOTORO_SSH_OPTS (extra ssh/scp options), TOTORO_CLUSTER_NAME (default totoro), TOTORO_DEPLOY_WORK (local staging and
# --local node directories; default .cluster/deploy).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
local_mode=0
hosts_file=""
bin_dir=""
action=""

usage() {
  echo "usage: $0 [--local] --hosts FILE [--bin-dir DIR] deploy|start|stop|status" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --local) local_mode=1; shift ;;
    --hosts) [[ $# -ge 2 ]] || usage; hosts_file="$2"; shift 2 ;;
    --bin-dir) [[ $# -ge 2 ]] || usage; bin_dir="$2"; shift 2 ;;
    deploy | start | stop | status) action="$1"; shift ;;
    *) usage ;;
  esac
done
[[ -n "$action" && -n "$hosts_file" ]] || usage
[[ -f "$hosts_file" ]] || { echo "totoro-deploy: hosts file '$hosts_file' does not exist" >&2; exit 2; }

read -r -a ssh_opts <<< "${TOTORO_SSH_OPTS:-}"
work="${TOTORO_DEPLOY_WORK:-$root/.cluster/deploy}"
mkdir -p "$work"

# Fills the arrays names, targets, hosts, ports, zones from the hosts file.
names=() targets=() hosts=() ports=() zones=()
line_no=0
while read -r name target host port zone rest; do
  line_no=$((line_no + 1))
  [[ -z "${name:-}" || "$name" == \#* ]] && continue
  if [[ -z "${port:-}" || ! "$port" =~ ^[0-9]+$ || -n "${rest:-}" ]]; then
    echo "totoro-deploy: $hosts_file:$line_no: expected 'name ssh-target host port [zone]'" >&2
    exit 2
  fi
  names+=("$name") targets+=("$target") hosts+=("$host") ports+=("$port") zones+=("${zone:-default}")
done < "$hosts_file"
[[ ${#names[@]} -gt 0 ]] || { echo "totoro-deploy: $hosts_file lists no nodes" >&2; exit 2; }

node_dir() {
  if ((local_mode)); then echo "$work/$1"; else echo "${TOTORO_REMOTE_DIR:-/opt/totoro}"; fi
}

# run INDEX COMMAND: runs a shell command on the node's machine.
# The command is built here on purpose; its remote-side variables are escaped where it is written.
# shellcheck disable=SC2029
run() {
  if ((local_mode)); then bash -c "$2"; else ssh "${ssh_opts[@]}" "${targets[$1]}" "$2"; fi
}

# copy INDEX SOURCE DEST: copies a file or directory to the node's machine.
copy() {
  if ((local_mode)); then cp -R "$2" "$3"; else scp -q -r "${ssh_opts[@]}" "$2" "${targets[$1]}:$3"; fi
}

secret() {
  [[ ${#TOTORO_SECRET} -ge 16 ]] || { echo "totoro-deploy: export TOTORO_SECRET (at least 16 bytes)" >&2; exit 2; }
  echo "$TOTORO_SECRET"
}

local_totoro() {
  if [[ -n "$bin_dir" ]]; then echo "$bin_dir/totoro"; else echo "$work/publish/totoro"; fi
}

deploy() {
  local i dir staged seeds conf
  secret > /dev/null
  if [[ -z "$bin_dir" ]]; then
    dotnet publish "$root/Totoro.Node" -c Release -nologo -v q -o "$work/publish"
    bin_dir="$work/publish"
  fi
  seeds="\"${hosts[0]}:${ports[0]}\""
  for i in "${!names[@]}"; do
    dir="$(node_dir "${names[$i]}")"
    staged="$work/staged-${names[$i]}"
    rm -rf "$staged" && mkdir -p "$staged"
    conf="$staged/node.conf"
    cat > "$conf" <<CONF
# Written by scripts/deploy/totoro-deploy.sh for ${names[$i]}.
totoro {
  node { name = "${names[$i]}", zone = "${zones[$i]}", data-dir = "$dir/data" }
  cluster { name = "${TOTORO_CLUSTER_NAME:-totoro}", seed-nodes = [$seeds], secret = \${?TOTORO_SECRET} }
  remote { host = "${hosts[$i]}", bind-host = "${hosts[$i]}", port = ${ports[$i]} }
}
CONF
    printf 'TOTORO_SECRET=%q\nexport TOTORO_SECRET\n' "$(secret)" > "$staged/secret.env"
    chmod 600 "$staged/secret.env"
    run "$i" "mkdir -p '$dir/data' && rm -rf '$dir/bin'"
    copy "$i" "$bin_dir" "$dir/bin"
    copy "$i" "$conf" "$dir/node.conf"
    copy "$i" "$staged/secret.env" "$dir/secret.env"
    rm -rf "$staged"
    echo "${names[$i]}: deployed to $dir"
  done
}

start() {
  local i dir tries
  for i in "${!names[@]}"; do
    dir="$(node_dir "${names[$i]}")"
    run "$i" "cd '$dir' && if [ -f node.pid ] && kill -0 \$(cat node.pid) 2>/dev/null; then echo '${names[$i]}: already running'; else . ./secret.env || exit 1; nohup ./bin/totoro node --config node.conf > node.log 2>&1 < /dev/null & echo \$! > '$dir/node.pid'; fi"
    tries=0
    until TOTORO_SECRET="$(secret)" "$(local_totoro)" cmd "${hosts[$i]}:${ports[$i]}" node info --json > /dev/null 2>&1; do
      tries=$((tries + 1))
      if ((tries > 150)); then
        echo "totoro-deploy: ${names[$i]} did not answer within 30 s; see $dir/node.log on its machine" >&2
        exit 1
      fi
      sleep 0.2
    done
    echo "${names[$i]}: up on ${hosts[$i]}:${ports[$i]}"
  done
}

stop() {
  local i dir
  for i in "${!names[@]}"; do
    dir="$(node_dir "${names[$i]}")"
    run "$i" "cd '$dir' 2>/dev/null || exit 0; if [ -f node.pid ] && kill -0 \$(cat node.pid) 2>/dev/null; then pid=\$(cat node.pid); kill -TERM \$pid; n=0; while kill -0 \$pid 2>/dev/null && [ \$n -lt 300 ]; do sleep 0.1; n=\$((n+1)); done; kill -0 \$pid 2>/dev/null && kill -KILL \$pid; fi; rm -f node.pid"
    echo "${names[$i]}: stopped"
  done
}

status() {
  local i down=0
  for i in "${!names[@]}"; do
    echo "== ${names[$i]} ${hosts[$i]}:${ports[$i]}"
    TOTORO_SECRET="$(secret)" "$(local_totoro)" cmd "${hosts[$i]}:${ports[$i]}" cluster members || down=1
  done
  return "$down"
}

"$action"
