#!/usr/bin/env bash
# Whole-process benchmark of issue 12's small-object target: 4 KiB objects, factor 3, three `objectstore node`
# processes; put -r and get -r of N files (default 2,000), each after a warm-up round. Every round measures both:
#  - a shell process per command (what a script calling `objectstore shell -c` sees: the shell's start and
#    stop, 0.4-0.5 s here, are in the figure), timed from outside; beside it the command's own rate from its
#    summary line (the same command without the process's start and stop, but in a shell that has not warmed up);
#  - one shell session (an operator at the prompt, a script of commands): a warm-up put -r and get -r, then the
#    measured ones, the rates from the shell's own summary lines (timed from each command's start, listing included).
# Prints every round, then the medians and spreads. Every round puts new files (nothing deduplicated); no file is
# deleted during the run (ext4 then skips the recently freed inodes in every file it creates, taxing the next round);
# the work directory goes at the end, so give the disk five minutes before the next run that makes many files.
# Usage: tests/bench/small-objects.sh [ROUNDS] [FILES]          (defaults: 5, 2000)
#        APP=DIR tests/bench/small-objects.sh ...                (a build published beforehand, for A/B runs)
set -euo pipefail
rounds=${1:-5}
files=${2:-2000}
. "$(dirname "$0")/lib.sh"
bench_setup
bench_app
objectstore=("$app/objectstore")

echo "writing $(( rounds * 4 + 1 )) trees of ${files} files of 4 KiB"
python3 - "$work" "$rounds" "$files" <<'EOF'
import os, sys
work, rounds, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for tree in ["warm"] + [f"r{r}-{k}" for r in range(1, rounds + 1) for k in ("proc", "swarm", "sess", "pwarm")]:
    os.makedirs(f"{work}/src/{tree}")
    for i in range(1, files + 1):
        with open(f"{work}/src/{tree}/f{i}", "wb") as f:
            f.write(os.urandom(4096))
EOF
mkdir -p "$work/got"
sync

start_node n1 0; seed=$bound
start_node n2 0 --seed "127.0.0.1:$seed"
start_node n3 0 --seed "127.0.0.1:$seed"
shell() { "${objectstore[@]}" shell --node "127.0.0.1:$seed" -c "$1"; }
for _ in $(seq 1 120); do [ "$(shell members 2>/dev/null | grep -c ' Up ')" = 3 ] && break; sleep 0.5; done
shell members
# The nodes' warm-up, as nodes that have been serving would be; then let them compile what it found hot.
shell "put -r $work/src/warm warm/t; get -r warm/t $work/got/warm" > /dev/null
for p in "${pids[@]}"; do settle "$p"; done

rate() { grep -oE '\(([0-9,]+) ' | tr -d '(, '; }
proc_put=(); proc_get=(); own_put=(); own_get=(); sess_put=(); sess_get=()
# A shell process per command: its wall time from outside, and its own summary line's rate.
process_rate() {
  local start end
  start=$(date +%s.%N); shell "$1" > "$work/process.out"; end=$(date +%s.%N)
  echo "$files / ($end - $start)" | bc -l
  grep -E '^(put|got) [0-9]+ (files|objects), ' "$work/process.out" | rate
}
printf '%-6s %22s %22s %22s %22s\n' round "put -r, shell/command" "get -r, shell/command" "put -r, one session" "get -r, one session"
for r in $(seq 1 "$rounds"); do
  { read -r whole; read -r own; } < <(process_rate "put -r $work/src/r$r-proc round$r/proc"); proc_put+=("$whole"); own_put+=("$own")
  { read -r whole; read -r own; } < <(process_rate "get -r round$r/proc $work/got/r$r-proc"); proc_get+=("$whole"); own_get+=("$own")
  diff -r "$work/src/r$r-proc" "$work/got/r$r-proc" > /dev/null || { echo "round $r: get -r brought back other bytes" >&2; exit 1; }
  out=$(shell "put -r $work/src/r$r-pwarm round$r/pwarm; put -r $work/src/r$r-sess round$r/sess; get -r round$r/pwarm $work/got/r$r-swarm; get -r round$r/sess $work/got/r$r-sess" |
        grep -E '^(put|got) [0-9]+ (files|objects), ')
  diff -r "$work/src/r$r-sess" "$work/got/r$r-sess" > /dev/null || { echo "round $r: get -r brought back other bytes" >&2; exit 1; }
  sess_put+=("$(echo "$out" | sed -n 2p | rate)"); sess_get+=("$(echo "$out" | sed -n 4p | rate)")
  printf '%-6s %11.0f/s (%6s) %11.0f/s (%6s) %20s/s %20s/s\n' "$r" "${proc_put[-1]}" "${own_put[-1]}" "${proc_get[-1]}" "${own_get[-1]}" "${sess_put[-1]}" "${sess_get[-1]}"
done
summary() { printf '%s: median %.0f/s (spread %s; target >= %s)\n' "$1" "$(median "$2")" "$(printf '%s\n' $2 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')" "$3"; }
summary "put -r, a shell process per command" "${proc_put[*]}" 2000
summary "get -r, a shell process per command" "${proc_get[*]}" 4000
summary "put -r, a shell process per command, its own line (without the process's start and stop)" "${own_put[*]}" 2000
summary "get -r, a shell process per command, its own line (without the process's start and stop)" "${own_get[*]}" 4000
summary "put -r, one shell session after its warm-up round" "${sess_put[*]}" 2000
summary "get -r, one shell session after its warm-up round" "${sess_get[*]}" 4000
for i in 1 2 3; do
  printf "node %d peak RSS %s\n" "$i" "$(grep VmHWM /proc/${pids[$((i-1))]}/status | awk '{printf "%.0f MiB", $2/1024}')"
done
