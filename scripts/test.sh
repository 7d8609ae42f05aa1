#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test (GUI tests run offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
start=$(date +%s)
bash scripts/build.sh
echo "build: $(( $(date +%s) - start )) s"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
