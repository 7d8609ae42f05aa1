#!/usr/bin/env bash
# The main job: install what is missing, build, then open the GUI on the demo configuration
# when a display exists, or run the engine headless on it otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
bash scripts/build.sh syncbn-engine
config=configs/demo.yaml

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]] && cmake --build "$build_dir" --target help | grep -q '^syncbn-studio:'; then
  bash scripts/build.sh syncbn-studio
  exec "$build_dir/bin/syncbn-studio" "$config"
fi

echo "No display: training headless on $config (2 CPU ranks, SyncBN, the built-in demo dataset)"
"$build_dir/bin/syncbn-engine" plan "$config"
echo
exec "$build_dir/bin/syncbn-engine" train "$config"
