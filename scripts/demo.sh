#!/usr/bin/env bash
# The main job: an in-process cluster training three FashionMNIST applications at once (totoro demo).
# Installs the data set when missing, builds the totoro executable, then runs it. Extra arguments go to
# `totoro demo` (see `totoro demo --help`: --nodes, --zones, --rounds, --clients, --fanout, --seed, --json).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "demo.sh: the .NET SDK (dotnet) is not on PATH; install the .NET 10 SDK first" >&2
  exit 1
fi

scripts/ensure-data.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Totoro.Node/Totoro.Node.csproj -c Release -nologo -v q
exec dotnet Totoro.Node/bin/Release/net10.0/totoro.dll demo "$@"
