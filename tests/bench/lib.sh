# Shared by the whole-process benchmark scripts (sourced after `set -euo pipefail`).
#   bench_setup: $root (the repository), $work (a fresh directory under it, or under BENCH_DIR, removed
#                on exit) and pids (processes killed on exit, even when the script fails);
#   bench_app:   $app, the directory of a build: APP when given (published beforehand, for A/B runs),
#                else a framework-dependent ReadyToRun publish into $work/app, as deployed;
#   free_port:   a TCP port free on 127.0.0.1 now;
#   drop:        flushes and drops the page cache (root only), so that the next step reads from the disk;
#   seconds:     runs a command (its output discarded) and prints how long it took;
#   cpu PID:     the CPU seconds (user + system) a process has used so far;
#   node_port LOG [SECONDS]: waits (default 20 s) for a node's "objectstore node ... listening on" line in LOG and
#                prints its port; fails, showing the log, when the node did not start;
#   start_node NAME PORT [ARGS...]: an `objectstore node` ("${objectstore[@]}") with its data in $work/NAME and its log in
#                $work/NAME.log, killed on exit; waits until it listens and sets $bound to its port (PORT 0: a free one);
#   settle PID:  waits (at most 60 s) until a process has used under 10 % of a core for two seconds running: a
#                node just warmed up still compiles its hot methods optimized in the background (.NET tiered
#                compilation: ~2,000 of them, seconds of CPU, after the tree benchmark's warm-up), which a node
#                that has been serving did long ago; idle, a node uses 3-4 %;
#   median "X Y Z", spread "X Y Z": of a list of figures (the median of an even count: the mean of the middle two).
bench_setup() {
  root=$(cd "$(dirname "${BASH_SOURCE[1]}")/../.." && pwd)
  work=$(mktemp -d "${BENCH_DIR:-$root}/.bench.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
bench_app() {
  if [ -n "${APP:-}" ]; then app=$APP; return; fi
  dotnet publish "$root/src/ObjectStore.Node" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$work/app" -v quiet -nologo >/dev/null
  app=$work/app
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }
node_port() {
  local log=$1 tries=$(( ${2:-20} * 10 ))
  for _ in $(seq 1 "$tries"); do
    grep -q "^objectstore node .* listening on" "$log" 2>/dev/null && break
    sleep 0.1
  done
  grep "^objectstore node .* listening on" "$log" 2>/dev/null | grep -o 'listening on [0-9.]*:[0-9]*' | sed 's/.*://' | grep . ||
    { echo "the node did not start (no 'listening on' line in $log):" >&2; cat "$log" >&2; return 1; }
}
start_node() {
  local name=$1 p=$2; shift 2
  "${objectstore[@]}" node --data "$work/$name" --port "$p" --cmd-port 0 "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  bound=$(node_port "$work/$name.log")
}
settle() {
  local quiet=0 before after
  for _ in $(seq 1 60); do
    before=$(awk '{ print $14 + $15 }' "/proc/$1/stat"); sleep 1; after=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
    if [ $(( after - before )) -lt 10 ]; then quiet=$(( quiet + 1 )); else quiet=0; fi
    [ "$quiet" -ge 2 ] && return 0
  done
  echo "process $1 did not settle within 60 s" >&2
}
cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
median() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
spread() { printf '%s\n' $1 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
