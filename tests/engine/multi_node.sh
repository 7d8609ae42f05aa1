#!/usr/bin/env bash
# Multi-node runs of `syncbn-engine verify-syncbn` on one machine over 127.0.0.1.
#   two-launchers: two launchers with --nnodes 2 x 2 ranks form one 4-rank group and pass.
#   missing-node:  node 1 never starts; node 0's ranks fail after --timeout with a clear error.
set -euo pipefail
engine=$1
mode=$2
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node() { "$engine" verify-syncbn --nproc-per-node 2 --nnodes 2 --node-rank "$1" --master-port "$port" --timeout "$2"; }

case "$mode" in
  two-launchers)
    node 1 60 > "$out/node1.log" 2>&1 &
    node1=$!
    node 0 60 | tee "$out/node0.log"
    wait "$node1"
    cat "$out/node1.log"
    grep -q "starting ranks 2..3 of 4" "$out/node1.log"
    grep -q "verify-syncbn: 4 ranks x 2 images.*: OK" "$out/node0.log"
    ;;
  missing-node)
    if node 0 2 > "$out/node0.log" 2>&1; then
      cat "$out/node0.log"; echo "node 0 succeeded without node 1"; exit 1
    fi
    cat "$out/node0.log"
    grep -q "group failed (are all 4 ranks started" "$out/node0.log"
    grep -q "\[launcher\] rank [01] exited with code 1" "$out/node0.log"
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
