#!/usr/bin/env bash
# Whole-process cluster benchmark: three `objectstore node` processes (factor 3, quorum 2, fsync on).
#  1. put of a SIZE_MIB file through node 1, against the baseline `cp` of the file into three
#     directories plus `sync`, measured in the same run (ROUNDS=N: N rounds, cp and put alternating);
#  2. put -r and get -r of 2,000 files of 4 KiB through node 1: objects per second, each command a shell
#     process of its own, then the same in one shell session (the rates its summary lines give);
#  3. each node's peak RSS (VmHWM) over both.
# Usage: tests/bench/cluster-put.sh [SIZE_MIB] [SMALL_FILES]     (defaults: 1024, 2000)
#        APP=DIR tests/bench/cluster-put.sh ...   (a framework-dependent build published beforehand, for A/B runs)
#        BENCH_NODE_CONFIG=FILE / BENCH_NODE_ENV="VAR=VALUE ...": settings or environment for the nodes only
#        KEEP=1 ...: leave the work directory (delete it after the last of several runs): deleting thousands
#        of files right before the next run makes ext4 skip the recently freed inodes in every file it
#        creates (recently_deleted in perf), which taxed whichever build ran next.
set -euo pipefail
size_mib=${1:-1024}
small=${2:-2000}
. "$(dirname "$0")/lib.sh" # drop, seconds, cpu, median, spread (this script keeps its own work directory: KEEP)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${BENCH_DIR:-$root}/.bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else rm -f "$work/input.bin"; fi
}
trap cleanup EXIT

# As deployed: Release with ReadyToRun code (see put-vs-cp.sh).
if [ -n "${APP:-}" ]; then
  bin="$APP/objectstore.dll"
else
  dotnet publish "$root/src/ObjectStore.Node" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$work/app" -v quiet -nologo >/dev/null
  bin="$work/app/objectstore.dll"
fi
shell() { dotnet "$bin" shell --node "127.0.0.1:$port1" -c "$1"; }

echo "writing a ${size_mib} MiB random file and ${small} files of 4 KiB"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input.bin"
mkdir -p "$work/small1" "$work/small2" "$work/small3" "$work/small4" "$work/warm-small"
for i in $(seq 1 "$small"); do for d in 1 2 3 4; do head -c 4096 /dev/urandom > "$work/small$d/f$i"; done; done
for i in $(seq 1 300); do head -c 4096 /dev/urandom > "$work/warm-small/f$i"; done
sync

start_node() { # $1 = index, $2.. = extra args
  local i=$1; shift
  # BENCH_NODE_CONFIG: an extra HOCON file for the nodes, to compare settings in the same harness;
  # BENCH_NODE_ENV: environment for the nodes only (e.g. "DOTNET_TieredCompilation=0"), not the shell.
  env ${BENCH_NODE_ENV:-} dotnet "$bin" node --data "$work/n$i" --port 0 --cmd-port 0 ${BENCH_NODE_CONFIG:+--config "$BENCH_NODE_CONFIG"} "$@" > "$work/node$i.log" 2>&1 &
  pids+=($!)
  port=$(node_port "$work/node$i.log")
}
start_node 1; port1=$port
start_node 2 --seed "127.0.0.1:$port1"
start_node 3 --seed "127.0.0.1:$port1"
for _ in $(seq 1 100); do
  [ "$(shell members 2>/dev/null | grep -c ' Up ')" = 3 ] && break; sleep 0.5
done
shell members

# Warm-up, as a node that has been running would be.
head -c 67108864 /dev/urandom > "$work/warm.bin"
shell "put $work/warm.bin warm/up; put -r $work/warm-small warm/small" >/dev/null

now() { date +%s.%N; }
# ROUNDS rounds of the big put, each right after its own cp baseline (this disk's speed drifts by
# the minute): each round's ratio, then the median ratio and the spread.
ratios=()
for r in $(seq 1 "${ROUNDS:-1}"); do
  rm -rf "$work/cp1" "$work/cp2" "$work/cp3" && mkdir "$work/cp1" "$work/cp2" "$work/cp3" && sync
  t0=$(now); cp "$work/input.bin" "$work/cp1/" && cp "$work/input.bin" "$work/cp2/" && cp "$work/input.bin" "$work/cp3/" && sync; t1=$(now)
  rm -rf "$work/cp1" "$work/cp2" "$work/cp3"; sync
  big0=(); for p in "${pids[@]}"; do big0+=("$(cpu "$p")"); done
  # A new key each round, and the previous round's object deleted, so every round writes every chunk.
  [ "$r" -gt 1 ] && shell "rm bench/big$((r - 1))" >/dev/null
  t2=$(now); shell "put $work/input.bin bench/big$r" > "$work/put.out"; t3=$(now)
  big1=(); for p in "${pids[@]}"; do big1+=("$(cpu "$p")"); done
  cp_s=$(echo "$t1 - $t0" | bc -l); put_s=$(echo "$t3 - $t2" | bc -l); ratio=$(echo "$put_s / $cp_s" | bc -l)
  ratios+=("$ratio")
  printf "round %d: cp into 3 dirs + sync %6.2f s, put %s MiB factor 3 %6.2f s, ratio %.2f (target <= 1.5); node CPU s: %.1f %.1f %.1f; %s\n" \
    "$r" "$cp_s" "$size_mib" "$put_s" "$ratio" "$(echo "${big1[0]} - ${big0[0]}" | bc -l)" "$(echo "${big1[1]} - ${big0[1]}" | bc -l)" \
    "$(echo "${big1[2]} - ${big0[2]}" | bc -l)" "$(grep -o 'stored on [^;]*' "$work/put.out" | head -1)"
done
printf "put/cp ratio over %d rounds: median %s, spread %s\n" "${#ratios[@]}" "$(median "${ratios[*]}")" "$(spread "${ratios[*]}")"
last=${ROUNDS:-1}
# Two rounds of small files (different bytes, so nothing is deduplicated): the first still pays for
# part of the JIT warm-up of this path, the second is what a node that has been running does; then
# get -r of the same objects, twice.
TIMEFORMAT="%U %S"
small_objects_round() { # $1 = label, $2 = target objects/s, $3 = shell command: its rate and the CPU of the shell and each node
  local c0=() c1=() t0 t1 shell_cpu s
  for p in "${pids[@]}"; do c0+=("$(cpu "$p")"); done
  t0=$(now); shell_cpu=$( { time shell "$3" > /dev/null; } 2>&1 | awk '{ printf "%.1f", $1 + $2 }'); t1=$(now)
  for p in "${pids[@]}"; do c1+=("$(cpu "$p")"); done
  s=$(echo "$t1 - $t0" | bc -l)
  printf "%-34s %8.2f s   %.0f objects/s (target >= %s); CPU s: shell %s, nodes %.1f %.1f %.1f\n" "$1" "$s" \
    "$(echo "$small / $s" | bc -l)" "$2" "$shell_cpu" "$(echo "${c1[0]} - ${c0[0]}" | bc -l)" "$(echo "${c1[1]} - ${c0[1]}" | bc -l)" "$(echo "${c1[2]} - ${c0[2]}" | bc -l)"
}
for r in 1 2; do small_objects_round "put -r ${small} x 4 KiB, round $r" 2000 "put -r $work/small$r bench/small$r"; done
# Each round into a directory of its own: deleting the first round's 2,000 files right before the second
# made ext4 skip the freed inodes in every file the second created (recently_deleted, for 5 minutes).
for r in 1 2; do
  small_objects_round "get -r ${small} x 4 KiB, round $r" 4000 "get -r bench/small$r $work/got$r"
  diff -r "$work/small$r" "$work/got$r" > /dev/null || { echo "get -r brought back other bytes" >&2; exit 1; }
done
# The same in one shell session, as an operator at the prompt (or a script of commands) works: a warm-up
# round of each, then the measured one; the rates are the shell's own (its summary line times each
# command from its start, listing included), so the shell's process start is not in them — the per-process
# rounds above carry it (0.4-0.5 s of a 2,000-object command here).
session=$(shell "put -r $work/small3 bench/small3; put -r $work/small4 bench/small4; get -r bench/small3 $work/got3; get -r bench/small4 $work/got4" | grep -E '^(put|got) [0-9]+ (files|objects), ')
diff -r "$work/small4" "$work/got4" > /dev/null || { echo "get -r brought back other bytes" >&2; exit 1; }
rate() { echo "$session" | sed -n "$1p" | grep -oE '\(([0-9,]+) ' | tr -d '(, '; }
printf "one shell session, after its own warm-up round: put -r %s objects/s (warm-up %s; target >= 2000), get -r %s objects/s (warm-up %s; target >= 4000)\n" \
  "$(rate 2)" "$(rate 1)" "$(rate 4)" "$(rate 3)"
for i in 1 2 3; do
  printf "node %d peak RSS %s\n" "$i" "$(grep VmHWM /proc/${pids[$((i-1))]}/status | awk '{printf "%.0f MiB", $2/1024}')"
done
shell "stat bench/big$last" | awk '/node-/ { n[split($4, a, ",")]++ } END { for (k in n) printf "chunks on %d nodes: %d\n", k, n[k] }'
dotnet "$bin" shell --node "127.0.0.1:$port1" -c "get bench/big$last $work/back.bin" >/dev/null
cmp "$work/input.bin" "$work/back.bin" && echo "round trip: identical bytes"
