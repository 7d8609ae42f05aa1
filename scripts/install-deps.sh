#!/usr/bin/env bash
# Installs the Debian bookworm packages SyncBN Studio builds, runs and tests with.
# Idempotent: asks dpkg which packages are missing and installs only those; runs
# 'apt-get update' only when something is missing. Must run as root (or via sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqcustomplot-dev
  libtorch-dev libgloo-dev libopenblas0-pthread
  libopencv-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev python3-onnx
  python3-protobuf protobuf-compiler
  help2man desktop-file-utils appstream dpkg-dev
  fonts-wqy-microhei
  xvfb xauth python3
  python3-torch python3-numpy python3-yaml
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  sudo=sudo
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
