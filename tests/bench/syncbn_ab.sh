#!/usr/bin/env bash
# SyncBN's step cost over plain BN, measured as issue 16 asks: bench_train (yolov8n, batch 16)
# with norm=bn and norm=syncbn alternating, REPS times each, for every (ranks, imgsz) pair, all in
# one run so that both arms see the same machine. Prints every row as it comes (CSV), then a
# Markdown table of the median step time of each arm, its spread (min-max) and the overhead of
# the medians.
#   tests/bench/syncbn_ab.sh [BUILD_DIR] [REPS] [RANKS...]   (defaults: build 5 "2 4")
# IMGSZ="320 640" picks the sizes; ITERATIONS_320 / ITERATIONS_640 the measured iterations.
set -euo pipefail
build=${1:-build}
reps=${2:-5}
shift $(( $# >= 2 ? 2 : $# ))
ranks_list=${*:-2 4}
bench=$build/tests/bench/bench_train
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT

for imgsz in ${IMGSZ:-320 640}; do
  if [[ $imgsz -ge 640 ]]; then it="--warmup 2 --iterations ${ITERATIONS_640:-4}"
  else it="--warmup 3 --iterations ${ITERATIONS_320:-8}"; fi
  for ranks in $ranks_list; do
    for rep in $(seq "$reps"); do
      # Alternate which arm goes first, so a drift in the machine's speed favours neither.
      order="bn syncbn"; (( rep % 2 == 0 )) && order="syncbn bn"
      for norm in $order; do
        line=$("$bench" --imgsz "$imgsz" --ranks "$ranks" --norm "$norm" $it --csv --no-header \
          2>/dev/null | tail -1)
        echo "$rep,$line" | tee -a "$rows"
      done
    done
  done
done

# rep,model,imgsz,ranks,norm,device,backend,batch,iterations,images_per_s,step_ms,...
/usr/bin/env python3 - "$rows" <<'EOF'
import csv, statistics, sys
arms = {}
for r in csv.reader(open(sys.argv[1])):
    arms.setdefault((int(r[2]), int(r[3]), r[4]), []).append(float(r[10]))
print("\n| imgsz | ranks | reps | BN step ms, median (min-max) | SyncBN step ms, median (min-max) "
      "| SyncBN overhead (medians) |")
print("|---|---|---|---|---|---|")
for (imgsz, ranks) in sorted({(k[0], k[1]) for k in arms}):
    bn, sync = arms.get((imgsz, ranks, "bn"), []), arms.get((imgsz, ranks, "syncbn"), [])
    if not bn or not sync:
        continue
    mb, ms = statistics.median(bn), statistics.median(sync)
    print(f"| {imgsz} | {ranks} | {len(bn)} | {mb:.0f} ({min(bn):.0f}-{max(bn):.0f}) "
          f"| {ms:.0f} ({min(sync):.0f}-{max(sync):.0f}) | {100 * (ms / mb - 1):+.1f}% |")
EOF
