#!/usr/bin/env bash
# Whole-process A/B benchmark: `get` of a SIZE_MIB file through `objectstore shell` from one factor-1 node
# per build, the builds' gets alternating within each round, then `cp` of the same file; the page cache
# dropped before each (root only). Each node holds its own copy of the same object; idle nodes stay up.
# Prints every round (time and node CPU of each build's get, cp), then each build's median and spread.
# Usage: APPS="DIR_A DIR_B ..." tests/bench/get-builds.sh [SIZE_MIB] [ROUNDS]   (defaults: 1024, 7)
#   each DIR a build published beforehand (dotnet publish src/ObjectStore.Node -c Release -r linux-x64 ... -o DIR);
#   NODE_ENVS="ENV_A ENV_B ...": an environment assignment per build's node (X=1 for none), for A/B of runtime knobs.
set -euo pipefail
size_mib=${1:-1024}
rounds=${2:-7}
. "$(dirname "$0")/lib.sh"
bench_setup
apps=(${APPS:?APPS must name the published builds to compare})
envs=(${NODE_ENVS:-})
ports=()
for i in "${!apps[@]}"; do
  ports+=("$(free_port)")
  env "${envs[$i]:-X=1}" "${apps[$i]}/objectstore" node --data "$work/d$i" --port "${ports[$i]}" --factor 1 --cmd-port 0 > "$work/n$i.log" 2>&1 &
  pids+=($!)
done
for i in "${!apps[@]}"; do node_port "$work/n$i.log" > /dev/null; done
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input.bin"
for i in "${!apps[@]}"; do "${apps[$i]}/objectstore" shell --node "127.0.0.1:${ports[$i]}" -c "put '$work/input.bin' bench/input.bin" > /dev/null; done
declare -A times
for r in $(seq 1 "$rounds"); do
  line="round $r"
  for i in "${!apps[@]}"; do
    rm -f "$work/out.bin"; drop
    c0=$(cpu "${pids[$i]}")
    g=$(seconds "${apps[$i]}/objectstore" shell --node "127.0.0.1:${ports[$i]}" -c "get bench/input.bin '$work/out.bin'")
    c=$(echo "$(cpu "${pids[$i]}") - $c0" | bc)
    cmp -s "$work/input.bin" "$work/out.bin" || { echo "round $r, build $i: the object came back different" >&2; exit 1; }
    times[$i]+="$g "
    line+=$(printf '  build %d %5.2fs (node CPU %ss)' "$i" "$g" "$c")
  done
  rm -f "$work/out.bin"; drop
  c=$(seconds cp "$work/input.bin" "$work/out.bin"); rm -f "$work/out.bin"
  times[cp]+="$c "
  echo "$line$(printf '  cp %5.2fs' "$c")"
done
for i in "${!apps[@]}"; do echo "build $i (${apps[$i]}): median $(median "${times[$i]}")s (spread $(spread "${times[$i]}")), $(echo "scale=2; $(median "${times[$i]}") / $(median "${times[cp]}")" | bc)x the median cp"; done
echo "cp: median $(median "${times[cp]}")s (spread $(spread "${times[cp]}")); $rounds rounds, ${size_mib} MiB"
