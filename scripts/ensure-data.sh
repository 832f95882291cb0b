#!/usr/bin/env bash
# Makes sure the FashionMNIST IDX files are present (Debian package dataset-fashion-mnist).
# Usage: scripts/ensure-data.sh            exits 0 when the files are there (installing them if root)
# Honours TOTORO_FASHION_MNIST=/path for a copy elsewhere.
set -euo pipefail
dir="${TOTORO_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
need=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

have_all() {
  for f in "${need[@]}"; do [ -f "$dir/$f" ] || return 1; done
}

if have_all; then exit 0; fi

if [ "$dir" != "/usr/share/datasets/fashion-mnist" ]; then
  echo "ensure-data: FashionMNIST files missing in TOTORO_FASHION_MNIST=$dir (need ${need[*]})" >&2
  exit 1
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-data: installing Debian package dataset-fashion-mnist" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq dataset-fashion-mnist >/dev/null
  have_all && exit 0
  echo "ensure-data: dataset-fashion-mnist installed but files are missing in $dir" >&2
  exit 1
fi

echo "ensure-data: FashionMNIST is missing in $dir. Install it with: sudo apt-get install -y dataset-fashion-mnist" >&2
exit 1
