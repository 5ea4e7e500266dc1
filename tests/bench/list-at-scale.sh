#!/usr/bin/env bash
# Whole-process benchmark: `ls` of a bucket with COUNT objects on NODES node processes (factor FACTOR),
# where every node's listing is merged by the node the shell asks. COUNT files of a few bytes are put
# with `put -r` (their rate is printed too), then `objectstore shell -c "ls many"` runs ROUNDS times:
# the time to the first line and to the last, from the shell's start, and each node's peak RSS
# (VmHWM) over the whole run. Targets (issue 12): first page < 200 ms, whole listing < 3 s, RSS < 400 MB.
# Usage: tests/bench/list-at-scale.sh [COUNT] [NODES] [FACTOR] [ROUNDS]   (defaults: 100000, 3, 3, 3)
#        APP=DIR ...   (a build published beforehand)
#        SHELLS="DIR1 DIR2" ...   (shells of these builds list in turn, each ROUNDS times, against the same nodes: an A/B of the client)
set -euo pipefail
count=${1:-100000}; nodes=${2:-3}; factor=${3:-3}; rounds=${4:-3}
. "$(dirname "$0")/lib.sh"
bench_setup
bench_app
seed=$(free_port)
for i in $(seq 1 "$nodes"); do
  p=$seed; [ "$i" -gt 1 ] && p=$(free_port)
  "$app/objectstore" node --data "$work/n$i" --port "$p" --cmd-port 0 --factor "$factor" \
    $([ "$i" -gt 1 ] && echo "--seed 127.0.0.1:$seed") > "$work/node$i.log" 2>&1 &
  pids+=($!)
  node_port "$work/node$i.log" > /dev/null
done
shell() { "$app/objectstore" shell --node "127.0.0.1:$seed" -c "$1"; }
for _ in $(seq 1 120); do [ "$(shell members 2>/dev/null | grep -c ' Up ')" = "$nodes" ] && break; sleep 0.5; done
# The files in 100 directories of COUNT/100 (one directory of 100,000 entries is slow to create on ext4).
python3 - "$work/many" "$count" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(root, f"d{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"object-{i:06d}"), "w") as f: f.write(f"object {i}\n")
PY
start=$(date +%s.%N)
shell "put -r $work/many many" | tail -1
echo "put -r of $count objects: $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f') s"
for r in $(seq 1 "$rounds"); do
 for shell_app in ${SHELLS:-$app}; do
  echo -n "[$shell_app] "
  python3 - "$shell_app/objectstore" "127.0.0.1:$seed" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen([sys.argv[1], "shell", "--node", sys.argv[2], "-c", "ls many"], stdout=subprocess.PIPE)
first = None; lines = 0
for line in p.stdout:
    if first is None: first = time.monotonic() - t0
    lines += 1
p.wait()
print(f"ls: first line after {first:.3f} s, {lines} lines in {time.monotonic() - t0:.2f} s")
PY
 done
done
TIMEFORMAT="%R"
echo "shell start and one request (members): $( { time shell members > /dev/null; } 2>&1 ) s"
for i in $(seq 1 "$nodes"); do
  printf "node %d peak RSS %s\n" "$i" "$(grep VmHWM /proc/${pids[$((i-1))]}/status | awk '{printf "%.0f MiB", $2/1024}')"
done
