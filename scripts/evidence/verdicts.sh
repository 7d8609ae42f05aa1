#!/usr/bin/env bash
# The `diagnose` verdict of each run (RUN_DIR arguments) after each epoch: its events.jsonl up to
# that epoch's val line. ENGINE defaults to build/bin/syncbn-engine.
set -uo pipefail
engine=${ENGINE:-build/bin/syncbn-engine}
for run in "$@"; do
  ev=$run/events.jsonl
  epoch=0
  for n in $(grep -n '"type":"val"' "$ev" | cut -d: -f1); do
    epoch=$((epoch + 1))
    d=$(mktemp -d); head -n "$n" "$ev" > "$d/events.jsonl"
    out=$("$engine" diagnose "$d" --json); code=$?
    echo "$(basename "$run") epoch $epoch: exit $code $(echo "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin); f=j["findings"][0]; print(f["rule"], f["severity"], {k: round(v,3) for k,v in f["numbers"].items() if k in ("noise_median","disagreement_max","disagreement_median","oscillation")})')"
    rm -rf "$d"
  done
done
