#!/usr/bin/env bash
# Renders docs/screenshots/ under Xvfb from a real training run driven as a user would drive the
# studio: open configs/demo.yaml, set 3 epochs, press Start, watch, press Stop, look at Runs.
# Takes a few minutes on 2 cores. SYNCBN_SCREENSHOT_EPOCHS and SYNCBN_SCREENSHOT_CONFIG override
# the run (tests/gui/test_monitor_screenshots.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
bash scripts/build.sh test_gui syncbn-engine
out=$PWD/docs/screenshots
mkdir -p "$out"
export QT_QPA_PLATFORM=xcb
export SYNCBN_SCREENSHOT=$out/main-window.png SYNCBN_SCREENSHOT_DIR=$out
xvfb-run -a -s "-screen 0 1280x860x24" "$build_dir/tests/gui/test_gui" \
  --gtest_filter='Screenshot*:MonitorScreenshots*'
# The setup pages (Dataset, Model, Distributed, Launch Elsewhere) on a generated dataset with
# planted problems (tests/gui/test_setup_pages.cpp).
SYNCBN_SETUP_SCREENSHOTS=$out xvfb-run -a -s "-screen 0 1280x860x24" \
  "$build_dir/tests/gui/test_gui" --gtest_filter='SetupPages.*'
ls -l "$out"
