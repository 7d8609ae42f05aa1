#!/usr/bin/env bash
# The CPU-contention table of docs/benchmarks.md: bench_train (yolov8n, 320, batch 16) with no
# neighbour, a busy loop and a memory-bound process pinned to the last core, for 1 rank x all
# threads and 2 ranks, under libgomp's spinning (OMP_WAIT_POLICY=ACTIVE) and passive waiting.
#   tests/bench/contention.sh [BUILD_DIR]     (default build; prints one line per run)
set -euo pipefail
build=${1:-build}
bench=$build/tests/bench/bench_train
neighbour=$build/tests/bench/bench_neighbour
last_core=$(( $(nproc) - 1 ))
for kind in none busy memory; do
  pid=
  if [[ $kind != none ]]; then
    taskset -c "$last_core" "$neighbour" "$kind" &
    pid=$!
    sleep 1
  fi
  for ranks in 1 2; do
    for policy in ACTIVE PASSIVE; do
      row=$(OMP_WAIT_POLICY=$policy "$bench" --ranks "$ranks" --iterations 10 --warmup 3 \
        --no-header 2>/dev/null | tail -1)
      echo "$kind | $ranks | $policy $row"
    done
  done
  if [[ -n $pid ]]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
done
