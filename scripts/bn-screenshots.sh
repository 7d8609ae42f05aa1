#!/usr/bin/env bash
# Renders docs/screenshots/{train-diagnosis,bn-view,compare}.png under Xvfb from recorded runs:
#   scripts/bn-screenshots.sh RUN_BN RUN_SYNCBN [MORE_RUNS...]
# (the evidence runs of docs/syncbn.md; the first is shown in the Train mode).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
[ $# -ge 2 ] || { echo "usage: $0 RUN_BN RUN_SYNCBN [MORE_RUNS...]" >&2; exit 2; }
runs=$(IFS=:; echo "$*")
out=$PWD/docs/screenshots
mkdir -p "$out"
QT_QPA_PLATFORM=xcb SYNCBN_SCREENSHOT_DIR=$out SYNCBN_SCREENSHOT_RUNS=$runs \
  xvfb-run -a -s "-screen 0 1280x860x24" "$build_dir/tests/gui/test_gui" \
  --gtest_filter='BnScreenshots*'
ls -l "$out"/train-diagnosis.png "$out"/bn-view.png "$out"/compare.png
