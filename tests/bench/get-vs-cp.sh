#!/usr/bin/env bash
# Whole-process benchmark: `get` of a SIZE_MIB file from one `objectstore node` (factor 1) through
# `objectstore shell`, against `cp` of the same file, the page cache dropped before each (root only:
# /proc/sys/vm/drop_caches). Rounds alternate get and cp; prints every round, then the median ratio and
# its spread. Needs root for the cache drops.
# GATEWAY=1: three storage nodes (factor 3) and a gateway node (`node --gateway`, no data of its own);
# the object is put and got through the gateway, so every byte of the get comes from another process.
# Usage: tests/bench/get-vs-cp.sh [SIZE_MIB] [ROUNDS]          (defaults: 1024, 5)
#        APP=DIR tests/bench/get-vs-cp.sh ...                   (a build published beforehand, for A/B runs)
set -euo pipefail
size_mib=${1:-1024}
rounds=${2:-5}
. "$(dirname "$0")/lib.sh"
bench_setup
bench_app
# The apphost: the same for a framework-dependent and a self-contained (composite) publish.
objectstore=("$app/objectstore")
if [ -n "${GATEWAY:-}" ]; then
  seed=$(free_port); start_node n1 "$seed"
  start_node n2 "$(free_port)" --seed "127.0.0.1:$seed"
  start_node n3 "$(free_port)" --seed "127.0.0.1:$seed"
  port=$(free_port); start_node gateway "$port" --gateway --seed "127.0.0.1:$seed"
  for _ in $(seq 1 120); do
    [ "$("${objectstore[@]}" shell --node "127.0.0.1:$port" -c members 2>/dev/null | grep -c ' Up ')" = 4 ] && break; sleep 0.5
  done
  "${objectstore[@]}" shell --node "127.0.0.1:$port" -c members
else
  port=$(free_port); start_node data "$port" --factor 1
fi
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input.bin"
"${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put '$work/input.bin' bench/input.bin"
ratios=()
printf '%-6s %10s %10s %8s\n' round get cp ratio
for r in $(seq 1 "$rounds"); do
  rm -f "$work/out.bin" "$work/cp.bin"; drop
  c0=(); for p in "${pids[@]}"; do c0+=("$(cpu "$p")"); done
  g=$(seconds "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "get --force bench/input.bin '$work/out.bin'")
  cpus=""; i=0; for p in "${pids[@]}"; do cpus+=" $(echo "$(cpu "$p") - ${c0[$i]}" | bc)"; i=$((i + 1)); done
  cmp -s "$work/input.bin" "$work/out.bin" || { echo "round $r: the object came back different" >&2; exit 1; }
  drop
  c=$(seconds cp "$work/input.bin" "$work/cp.bin")
  ratio=$(echo "scale=2; $g / $c" | bc)
  ratios+=("$ratio")
  printf '%-6s %9.2fs %9.2fs %7.2fx   node CPU s during the get:%s\n' "$r" "$g" "$c" "$ratio" "$cpus"
done
sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
echo "get${GATEWAY:+ through a gateway} / cp: median ${sorted[$(( ${#sorted[@]} / 2 ))]}x (spread ${sorted[0]}-${sorted[-1]}), $rounds rounds, ${size_mib} MiB"
