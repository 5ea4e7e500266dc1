#!/usr/bin/env bash
# Whole-process self-healing benchmarks (docs/BENCHMARKS.md, "self-healing"), each ratio measured within one run:
#   rate [ROUNDS] [FILES] [FILE_MIB]   four nodes, factor 3: put FILES files of FILE_MIB MiB (the put rate), kill -9
#                                      one node, and time from its removal to every copy back at three live nodes
#                                      (the repair rate, bytes copied per second); a fresh cluster per round.
#   background [ROUNDS] [PUT_MIB]      four nodes: a put of PUT_MIB MiB while the repair queue works (one node's
#                                      chunk files deleted, anti-entropy finding them), against the same put with
#                                      nothing to repair; alternating, which goes first switching every round.
#   scrub [DATA_MIB] [RATE_MIB]        one node: the scrubber's measured rate over a full pass against its setting.
# APP=DIR: a framework-dependent build published beforehand. KEEP=1: leave the work directory.
# BENCH_EXTRA='objectstore.repair.busy-rate = 8MiB': settings layered on the nodes' configuration.
set -euo pipefail
mode=${1:-rate}
. "$(dirname "$0")/lib.sh" # node_port, median, spread (this script keeps its own work directory: KEEP)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${BENCH_DIR:-$root}/.bench.XXXXXX")
pids=()
stop_nodes() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
cleanup() {
  stop_nodes
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

if [ -n "${APP:-}" ]; then
  bin="$APP/objectstore.dll"
else
  dotnet publish "$root/src/ObjectStore.Node" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$work/app" -v quiet -nologo >/dev/null
  bin="$work/app/objectstore.dll"
fi
now() { date +%s.%N; }
shell() { dotnet "$bin" shell --node "127.0.0.1:$port1" -c "$1"; }
shell_at() { dotnet "$bin" shell --node "127.0.0.1:$1" -c "$2"; }

# Failure noticed after 5 s and acted on 5 s later (production: 10 s and 20 s); anti-entropy every 5 s.
cat > "$work/bench.conf" <<'EOF'
akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s
akka.cluster.split-brain-resolver.stable-after = 5s
objectstore.repair.anti-entropy-settle = 500ms
objectstore.repair.anti-entropy-interval = 5s
EOF
# BENCH_EXTRA: more HOCON for the nodes, to compare settings in the same harness.
printf '%s\n' "${BENCH_EXTRA:-}" >> "$work/bench.conf"

start_node() { # $1 = data dir, $2 = log, $3.. = extra args; sets $port
  local data=$1 log=$2; shift 2
  dotnet "$bin" node --data "$data" --port 0 --cmd-port 0 --config "${NODE_CONF:-$work/bench.conf}" "$@" > "$log" 2>&1 &
  pids+=($!)
  port=$(node_port "$log" 30)
}

start_cluster() { # $1 = nodes, $2 = tag; sets port1 and ports[]
  ports=()
  start_node "$work/$2-n1" "$work/$2-n1.log"; port1=$port; ports+=("$port")
  for i in $(seq 2 "$1"); do start_node "$work/$2-n$i" "$work/$2-n$i.log" --seed "127.0.0.1:$port1"; ports+=("$port"); done
  for _ in $(seq 1 100); do [ "$(shell members 2>/dev/null | grep -c ' Up ')" = "$1" ] && break; sleep 0.5; done
}

members() { shell members 2>/dev/null | grep -c 'akka.tcp' || true; }
# Members Up and reachable: the dead node stops counting once the cluster downs it (placement drops it then,
# and the repair begins), a moment before the leader removes it.
up() { shell members 2>/dev/null | grep -c ' Up  ' || true; }
queued() { shell "status --json" 2>/dev/null | grep -m1 '"copiesQueued"' | grep -o '[0-9]*' || echo -1; }
repaired() { shell "status --json" 2>/dev/null | grep '"bytesRepaired"' | grep -o '[0-9]*' | paste -sd+ | bc; }
# Every chunk of every object at three holders, none of them the node named in $1.
healthy() {
  for k in $(seq 1 "$files"); do
    shell "stat data/f$k" 2>/dev/null | awk -v dead="$1" '/node-/ { if (split($4, a, ",") != 3 || (dead != "" && index($4, dead))) bad++ } END { exit bad > 0 }' || return 1
  done
}


case "$mode" in
rate)
  rounds=${2:-5}; files=${3:-8}; file_mib=${4:-128}
  for k in $(seq 1 "$files"); do head -c $((file_mib * 1024 * 1024)) /dev/urandom > "$work/f$k"; done
  sync
  : > "$work/ratios"
  for r in $(seq 1 "$rounds"); do
    start_cluster 4 "r$r"
    t0=$(now); for k in $(seq 1 "$files"); do shell "put $work/f$k data/f$k" > /dev/null; done; t1=$(now)
    # A put is answered at the quorum; the copies still missing then (late ones) are made from the queue.
    until [ "$(queued)" = 0 ] && healthy ""; do sleep 0.2; done; t2=$(now)
    put_rate=$(echo "$files * $file_mib / ($t1 - $t0)" | bc -l)
    full_rate=$(echo "$files * $file_mib / ($t2 - $t0)" | bc -l)
    dead=$(cat "$work/r$r-n4/node-id"); before=$(repaired)
    # What the node held is what must be copied again: the repair rate is that over the time it took.
    lost=$(du -sb "$work/r$r-n4/chunks" | cut -f1)
    kill -9 "${pids[3]}"
    tk=$(now)
    until [ "$(up)" = 3 ]; do sleep 0.2; done
    # The moment the leader downed it, from its log (a shell's poll of the members lags by seconds).
    stamp=$(grep -h "SBR is downing" "$work"/r$r-n[123].log | head -1 | sed -E 's/^\[[A-Z]+\]\[([0-9]+)\/([0-9]+)\/([0-9]+) ([0-9:.]+)Z\].*/\3-\1-\2 \4 UTC/')
    tr=$(date -d "$stamp" +%s.%N)
    # Healthy: every chunk of every object on three live nodes (backup entries may still wait, cheaply).
    until healthy "$dead"; do sleep 0.5; done
    th=$(now)
    bytes=$(( $(repaired) - before ))
    repair_rate=$(echo "$lost / 1048576 / ($th - $tr)" | bc -l)
    printf "round %d: put %.1f MiB/s answered (%.1f s), %.1f MiB/s with every copy made; downed %.1f s after kill -9; %.0f MiB of copies lost, all back %.1f s after the downing: %.1f MiB/s = %.2fx the answered put rate (%.0f MiB sent, duplicates included)\n" \
      "$r" "$put_rate" "$(echo "$t1 - $t0" | bc -l)" "$full_rate" "$(echo "$tr - $tk" | bc -l)" "$(echo "$lost / 1048576" | bc -l)" "$(echo "$th - $tr" | bc -l)" \
      "$repair_rate" "$(echo "$repair_rate / $put_rate" | bc -l)" "$(echo "$bytes / 1048576" | bc -l)"
    echo "$repair_rate / $put_rate" | bc -l >> "$work/ratios"
    stop_nodes
  done
  printf "repair rate / put rate: median %.2f (spread %s, target >= 0.5)\n" "$(median "$(cat "$work/ratios")")" "$(spread "$(cat "$work/ratios")")"
  ;;
background)
  rounds=${2:-5}; put_mib=${3:-256}; files=4
  start_cluster 4 bg
  for k in $(seq 1 "$files"); do head -c $((128 * 1024 * 1024)) /dev/urandom > "$work/f$k"; shell "put $work/f$k data/f$k" > /dev/null; done
  : > "$work/ratios"
  # Fresh bytes for every put (written before the clock starts): a put of bytes the cluster has is only a
  # dedup check.
  timed_put() { local t0 t1; head -c $((put_mib * 1024 * 1024)) /dev/urandom > "$work/put.bin"; sync
    t0=$(now); shell "put $work/put.bin bench/p$1" > /dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }
  with_repair() { # node 2 loses its chunk files; the put starts once the repair is under way
    local base; base=$(repaired)
    head -c $((put_mib * 1024 * 1024)) /dev/urandom > "$work/put.bin"; sync
    rm -rf "$work/bg-n2/chunks"
    until [ "$(repaired)" -gt "$base" ]; do sleep 0.2; done
    local s t0 t1; t0=$(now); shell "put $work/put.bin bench/p$1" > /dev/null; t1=$(now); s=$(echo "$t1 - $t0" | bc -l)
    [ "$(queued)" != 0 ] || echo "  (note: the repair queue was empty when the put ended)" >&2
    until [ "$(queued)" = 0 ] && healthy ""; do sleep 0.5; done
    echo "$s"
  }
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then quiet=$(timed_put "q$r"); busy=$(with_repair "b$r"); else busy=$(with_repair "b$r"); quiet=$(timed_put "q$r"); fi
    printf "round %d: put %d MiB %.2f s with repair running, %.2f s without: %.2fx\n" "$r" "$put_mib" "$busy" "$quiet" "$(echo "$busy / $quiet" | bc -l)"
    echo "$busy / $quiet" | bc -l >> "$work/ratios"
  done
  printf "put with repair / without: median %.2f (spread %s, target <= 1.3)\n" "$(median "$(cat "$work/ratios")")" "$(spread "$(cat "$work/ratios")")"
  ;;
scrub)
  data_mib=${2:-512}; rate_mib=${3:-32}
  head -c $((data_mib * 1024 * 1024)) /dev/urandom > "$work/data.bin"
  printf 'objectstore.repair.scrub-interval = 1h\n' > "$work/one.conf"
  NODE_CONF="$work/one.conf" start_node "$work/s" "$work/s1.log" --factor 1; port1=$port
  shell "put $work/data.bin data/x" > /dev/null
  stop_nodes
  printf 'objectstore.repair.scrub-interval = 3s\nobjectstore.repair.scrub-rate = %dMiB\n' "$rate_mib" > "$work/scrub.conf"
  NODE_CONF="$work/scrub.conf" start_node "$work/s" "$work/s2.log" --factor 1; port1=$port
  until grep -q "scrub pass done" "$work/s2.log"; do sleep 1; done
  line=$(grep "scrub pass done" "$work/s2.log" | head -1)
  bytes=$(echo "$line" | grep -o '[0-9]* bytes' | grep -o '[0-9]*'); secs=$(echo "$line" | grep -o 'in [0-9.]*s' | grep -o '[0-9.]*')
  measured=$(echo "$bytes / 1048576 / $secs" | bc -l)
  printf "scrub pass: %.0f MiB in %.1f s = %.1f MiB/s against %d MiB/s set: %.3fx (target within 10%%)\n" \
    "$(echo "$bytes / 1048576" | bc -l)" "$secs" "$measured" "$rate_mib" "$(echo "$measured / $rate_mib" | bc -l)"
  ;;
*) echo "usage: $0 rate|background|scrub [...]"; exit 2 ;;
esac
