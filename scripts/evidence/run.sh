#!/usr/bin/env bash
# The evidence runs of docs/syncbn.md ("Diagnosis"): 4 CPU ranks x 1 and x 2 images, BN and
# SyncBN, same seed; about 7 minutes each on 2 cores. Writes runs/evidence/ and prints the
# per-epoch table and verdicts.
set -euo pipefail
cd "$(dirname "$0")/../.."
engine=${ENGINE:-build/bin/syncbn-engine}
runs=()
for r in r1-bn r1-syncbn r2-bn r2-syncbn r1s1-bn r1s1-syncbn; do
  "$engine" train "scripts/evidence/$r.yaml"
  runs+=("runs/evidence/$r")
done
python3 scripts/evidence/summarize.py "${runs[@]}"
ENGINE=$engine bash scripts/evidence/verdicts.sh "${runs[@]}"
