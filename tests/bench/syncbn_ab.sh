#!/usr/bin/env bash
# SyncBN's step cost over plain BN, measured as issue 16 asks: bench_train (yolov8n, batch 16)
# with norm=bn and norm=syncbn alternating, REPS times each, for every (ranks, imgsz) pair, all in
# one run so that both arms see the same machine. Prints every row as it comes (CSV), then a
# Markdown table of the median step time of each arm, its spread (min-max) and the overhead of
# the medians over BN.
#   tests/bench/syncbn_ab.sh [BUILD_DIR] [REPS] [RANKS...]   (defaults: build 5 "2 4")
# IMGSZ="320 640" picks the sizes; ITERATIONS_320 / ITERATIONS_640 the measured iterations.
# ARMS="bn syncbn syncbn-gloo" adds a third arm: SyncBN with its small sums through Gloo instead
# of shared memory (SYNCBN_SHARED_MEMORY_SUM=0), the transport before the shared-memory sum.
set -euo pipefail
build=${1:-build}
reps=${2:-5}
shift $(( $# >= 2 ? 2 : $# ))
ranks_list=${*:-2 4}
read -r -a arms <<< "${ARMS:-bn syncbn}"
bench=$build/tests/bench/bench_train
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT

for imgsz in ${IMGSZ:-320 640}; do
  if [[ $imgsz -ge 640 ]]; then it="--warmup 2 --iterations ${ITERATIONS_640:-4}"
  else it="--warmup 3 --iterations ${ITERATIONS_320:-8}"; fi
  for ranks in $ranks_list; do
    for rep in $(seq "$reps"); do
      # Rotate which arm goes first, so a drift in the machine's speed favours none.
      for (( i = 0; i < ${#arms[@]}; ++i )); do
        arm=${arms[$(( (i + rep - 1) % ${#arms[@]} ))]}
        norm=${arm%-gloo}
        shared=1; [[ $arm == *-gloo ]] && shared=0
        line=$(SYNCBN_SHARED_MEMORY_SUM=$shared "$bench" --imgsz "$imgsz" --ranks "$ranks" \
          --norm "$norm" $it --csv --no-header 2>/dev/null | tail -1)
        echo "$rep,$arm,$line" | tee -a "$rows"
      done
    done
  done
done

# rep,arm,model,imgsz,ranks,norm,device,backend,batch,iterations,images_per_s,step_ms,...,small_sums
/usr/bin/env python3 - "$rows" "${arms[@]}" <<'EOF2'
import csv, statistics, sys
order = sys.argv[2:]
steps = {}
expected = {"syncbn": "shared-memory", "syncbn-gloo": "gloo"}
for r in csv.reader(open(sys.argv[1])):
    steps.setdefault((int(r[3]), int(r[4]), r[1]), []).append(float(r[11]))
    if r[1] in expected and r[-1] != expected[r[1]]:
        print(f"note: rep {r[0]}, {r[1]} at {r[4]} ranks summed through {r[-1]}", file=sys.stderr)
others = [a for a in order if a != "bn"]
print("\n| imgsz | ranks | reps | bn step ms, median (min-max) | "
      + " | ".join(f"{a} step ms, median (min-max) | {a} overhead (medians)" for a in others) + " |")
print("|---|---|---|---|" + "---|---|" * len(others))
for (imgsz, ranks) in sorted({(k[0], k[1]) for k in steps}):
    bn = steps.get((imgsz, ranks, "bn"), [])
    if not bn:
        continue
    mb = statistics.median(bn)
    cells = [f"{mb:.0f} ({min(bn):.0f}-{max(bn):.0f})"]
    for a in others:
        s = steps.get((imgsz, ranks, a), [])
        if not s:
            cells += ["-", "-"]
            continue
        ms = statistics.median(s)
        cells += [f"{ms:.0f} ({min(s):.0f}-{max(s):.0f})", f"{100 * (ms / mb - 1):+.1f}%"]
    print(f"| {imgsz} | {ranks} | {len(bn)} | " + " | ".join(cells) + " |")
EOF2
