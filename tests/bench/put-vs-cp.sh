#!/usr/bin/env bash
# Whole-process benchmark: `put` of a 1 GiB file through `objectstore shell` to a running
# `objectstore node` (fsync on), against `cp FILE DIR && sync` of the same file, in one run.
# Also reports the node's peak RSS (VmHWM). Each round starts a fresh node on an empty data
# directory (warmed up with a 64 MiB put), so every put writes all of its chunks.
# Usage: tests/bench/put-vs-cp.sh [SIZE_MIB] [ROUNDS]     (defaults: 1024, 3)
#        NODE_CONFIG=FILE tests/bench/put-vs-cp.sh ...     (a HOCON file layered on the node's settings, for A/B runs)
#        PUBLISH=composite tests/bench/put-vs-cp.sh ...    (self-contained composite ReadyToRun, see below)
#        APP=DIR tests/bench/put-vs-cp.sh ...              (a build published beforehand, e.g. of another commit, for A/B runs)
#        KEEP=1 tests/bench/put-vs-cp.sh ...               (leave the work directory, for several runs in a row)
set -euo pipefail
size_mib=${1:-1024}
rounds=${2:-3}
. "$(dirname "$0")/lib.sh" # node_port; this script keeps its own setup, cleanup and start_node
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${BENCH_DIR:-$root}/.bench.XXXXXX")
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  # KEEP=1: leave the data for the caller to delete after its last run (see cluster-put.sh).
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else rm -f "$work/input.bin"; fi
}
trap cleanup EXIT

# Measured as deployed: a Release publish with ReadyToRun code, so a short-lived shell does not
# spend its first second compiling (measured: 1.0 s -> 0.6 s of CPU for `shell -c ls`).
# PUBLISH=composite: self-contained, the runtime and the app compiled ahead of time together (the
# release form README describes; the shell starts in 0.24 s instead of 0.31 s). Its own artifacts
# directory: a composite build left in the usual obj/ broke the next framework-dependent publish.
if [ -n "${APP:-}" ]; then
  if [ "${PUBLISH:-r2r}" = composite ]; then objectstore=("$APP/objectstore"); else objectstore=(dotnet "$APP/objectstore.dll"); fi
elif [ "${PUBLISH:-r2r}" = composite ]; then
  dotnet publish "$root/src/ObjectStore.Node" -c Release -r linux-x64 --self-contained true \
    -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true --artifacts-path "$work/artifacts" \
    -o "$work/app" -v quiet -nologo >/dev/null
  objectstore=("$work/app/objectstore")
else
  dotnet publish "$root/src/ObjectStore.Node" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$work/app" -v quiet -nologo >/dev/null
  objectstore=(dotnet "$work/app/objectstore.dll")
fi

echo "writing a ${size_mib} MiB random file"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input.bin"
sync

start_node() {
  # A new data directory per round, the old ones kept until the end: deleting a thousand chunk files
  # right before the measured put made ext4 skip every recently freed inode when allocating new ones
  # (recently_deleted/find_inode_bit: 0.5 s of the node's CPU in that put), a cost of the cleanup, not of the put.
  data="$work/data.$1"
  "${objectstore[@]}" node --data "$data" --port 0 --cmd-port 0 --factor 1 ${NODE_CONFIG:+--config "$NODE_CONFIG"} > "$work/node.log" 2>&1 &
  node_pid=$!
  port=$(node_port "$work/node.log")
  # Warm the node up as a node that has been running would be: tiered JIT promotes code run once per
  # put only after ~30 puts, and did so during the measured put after a single warm-up put (perf: 9% of
  # the node's CPU in the JIT). So: a 64 MiB put, 80 puts of 2 MB, and a pause for the JIT to finish.
  head -c 67108864 /dev/urandom > "$work/warm.bin"
  head -c 2000000 /dev/urandom > "$work/warm-small.bin"
  "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put $work/warm.bin warm/up" >/dev/null
  "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "$(for i in $(seq 1 80); do printf 'put %s warm/s%d; ' "$work/warm-small.bin" "$i"; done)" >/dev/null
  sleep 2
}
stop_node() { kill "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null || true; node_pid=""; }

now() { date +%s.%N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # user + system, in clock ticks
hz=$(getconf CLK_TCK)
printf "%-6s %10s %10s %8s %14s %14s\n" round "cp+sync s" "put s" ratio "node peak RSS" "node CPU s"
for round in $(seq 1 "$rounds"); do
  # Each round: a fresh node on an empty data directory, and an empty target for cp.
  start_node "$round"
  rm -rf "$work/cp" && mkdir "$work/cp" && sync
  t0=$(now); cp "$work/input.bin" "$work/cp/" && sync; t1=$(now)
  sync
  c0=$(cpu_ticks "$node_pid")
  t2=$(now); "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put $work/input.bin bench/big" > "$work/put.out"; t3=$(now)
  c1=$(cpu_ticks "$node_pid")
  rss=$(grep VmHWM /proc/$node_pid/status | awk '{printf "%.0f MiB", $2/1024}')
  cp_s=$(echo "$t1 - $t0" | bc -l); put_s=$(echo "$t3 - $t2" | bc -l)
  printf "%-6s %10.2f %10.2f %8.2f %14s %14.2f\n" "$round" "$cp_s" "$put_s" "$(echo "$put_s / $cp_s" | bc -l)" "$rss" "$(echo "($c1 - $c0) / $hz" | bc -l)"
  [ "$round" = "$rounds" ] || stop_node
done
# The get back (no target, for information): against `cp` of the stored file out of the page cache.
t0=$(now); "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "get bench/big $work/back.bin" >/dev/null; t1=$(now)
cmp "$work/input.bin" "$work/back.bin" && echo "round trip: identical bytes"
rm -f "$work/back.bin"; t2=$(now); cp "$work/input.bin" "$work/back.bin"; t3=$(now)
printf "get of the object: %.2f s (cp of the file, no sync: %.2f s)\n" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t3 - $t2" | bc -l)"
