#!/usr/bin/env bash
# Whole-process benchmark: `get` of a SIZE_MIB file from one `objectstore node` (factor 1) through
# `objectstore shell`, against `cp` of the same file, the page cache dropped before each (root only:
# /proc/sys/vm/drop_caches). Rounds alternate get and cp; prints every round, then the median ratio and
# its spread. Needs root for the cache drops.
# GATEWAY=1: three storage nodes (factor 3) and a gateway node (`node --gateway`, no data of its own);
# the object is put and got through the gateway, so every byte of the get comes from another process.
# Every round also gets the object in one long-lived shell session (commands on its stdin, after a warm-up
# get there), timed by the get's own line ("in S s"): the get without the shell process's start and stop.
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
# The session: a shell reading commands from a FIFO held open by this script (fd 9).
mkfifo "$work/commands"
"${objectstore[@]}" shell --node "127.0.0.1:$port" < "$work/commands" > "$work/session.out" 2>&1 &
session=$!
exec 9> "$work/commands"
session_get() { # runs one get in the session, prints its own time from its line
  local before
  before=$(grep -c '^got ' "$work/session.out" || true)
  echo "get --force bench/input.bin '$work/$1'" >&9
  for _ in $(seq 1 1200); do
    [ "$(grep -c '^got ' "$work/session.out" || true)" -gt "$before" ] && break
    kill -0 "$session" 2>/dev/null || { echo "the shell session ended:" >&2; cat "$work/session.out" >&2; return 1; }
    sleep 0.05
  done
  grep '^got ' "$work/session.out" | tail -1 | grep -oE ' in [0-9.]+ s ' | awk '{ print $2 }' | grep .
}
session_get warm.bin > /dev/null
ratios=(); session_ratios=()
printf '%-6s %10s %10s %10s %8s %8s\n' round get session cp ratio session
for r in $(seq 1 "$rounds"); do
  rm -f "$work/out.bin" "$work/cp.bin" "$work/session.bin"; drop
  c0=(); for p in "${pids[@]}"; do c0+=("$(cpu "$p")"); done
  g=$(seconds "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "get --force bench/input.bin '$work/out.bin'")
  cpus=""; i=0; for p in "${pids[@]}"; do cpus+=" $(echo "$(cpu "$p") - ${c0[$i]}" | bc)"; i=$((i + 1)); done
  cmp -s "$work/input.bin" "$work/out.bin" || { echo "round $r: the object came back different" >&2; exit 1; }
  drop
  s=$(session_get session.bin)
  cmp -s "$work/input.bin" "$work/session.bin" || { echo "round $r: the object came back different in the session" >&2; exit 1; }
  drop
  c=$(seconds cp "$work/input.bin" "$work/cp.bin")
  ratios+=("$(echo "scale=2; $g / $c" | bc)"); session_ratios+=("$(echo "scale=2; $s / $c" | bc)")
  printf '%-6s %9.2fs %9.2fs %9.2fs %7.2fx %7.2fx   node CPU s during the per-process get:%s\n' "$r" "$g" "$s" "$c" "${ratios[-1]}" "${session_ratios[-1]}" "$cpus"
done
exec 9>&-
wait "$session" 2>/dev/null || true
for kind in process session; do
  if [ "$kind" = process ]; then list="${ratios[*]}"; else list="${session_ratios[*]}"; fi
  echo "get${GATEWAY:+ through a gateway} / cp, a shell $kind: median $(median "$list")x (spread $(spread "$list")), $rounds rounds, ${size_mib} MiB"
done
