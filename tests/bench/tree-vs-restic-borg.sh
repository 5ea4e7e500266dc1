#!/usr/bin/env bash
# Whole-process benchmark: a directory tree into one `objectstore node` (factor 1, fsync on) and back,
# against restic and borg backing the same tree up into local repositories and restoring it, all in
# this one run. Each round starts from nothing (a new node data directory, warmed up as in start_node, new
# repositories, no deduplication against an earlier round) and alternates the three tools; the page cache is dropped
# before every restore (and before every backup, so each reads the tree from disk). Prints every
# round, then per tool the median time with its spread, and our time over each other tool's.
#   restic 0.14 (Debian): `restic init`, `restic backup TREE`, `restic restore latest --target OUT`;
#   borg 1.2 (Debian): `borg init -e none`, `borg create REPO::a TREE`, `borg extract REPO::a` in OUT;
#   objectstore: `put -r TREE tree/`, `get -r tree OUT`, through `objectstore shell` on the same machine.
# Needs root (apt-get for restic and borgbackup when missing; /proc/sys/vm/drop_caches) and about five
# times the tree's size free per round (nothing is deleted until the end). Not run in CI.
# Usage: tests/bench/tree-vs-restic-borg.sh [TREE] [ROUNDS]     (defaults: /usr/share/dotnet/sdk, 5)
#        APP=DIR ...   (a build published beforehand)
set -euo pipefail
tree=${1:-/usr/share/dotnet/sdk}
rounds=${2:-5}
. "$(dirname "$0")/lib.sh"
bench_setup
# (a fresh machine has no package lists yet: apt-get update first)
command -v restic >/dev/null && command -v borg >/dev/null ||
  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q restic borgbackup >/dev/null; }
bench_app
objectstore=("$app/objectstore")
export RESTIC_PASSWORD=bench BORG_PASSPHRASE="" BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_BASE_DIR="$work/borg-home"
start_node() { # $1 = the round: a data directory of its own (see the loop)
  port=$(free_port)
  "${objectstore[@]}" node --data "$work/data-$1" --port "$port" --factor 1 --cmd-port 0 > "$work/node.log" 2>&1 &
  node_pid=$!
  pids=("$node_pid")
  node_port "$work/node.log" > /dev/null
  # Warm the node up as one that has been running would be: put -r and get -r of a tree of medium files, then
  # of one of small ones (the batched paths), each kind twice. The runtime compiles a hot method again,
  # optimized, once it counted enough calls, and it counts only from the first pause of 100 ms without a new
  # method on, which a put -r of a tree the node has not seen does not leave: with one round of each, ~800
  # methods of the upload and chunking path were still compiled during the measured put -r (counted in the
  # node's perf map; docs/BENCHMARKS.md, 2026-12-02 "eighth step"), with the medium files alone 1,250-3,800.
  for s in 1 2; do
    "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put -r $work/warm-tree-$s warm-$s; get -r warm-$s $work/warm-out-$1-$s" > /dev/null
    "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put -r $work/warm-small-$s warm-small-$s; get -r warm-small-$s $work/warm-small-out-$1-$s" > /dev/null
  done
  # The runtime compiles the methods found hot during the warm-up in the background, and only after 100 ms
  # without a new method: ~1,600 during the warm-up, ~2,000 more in the two seconds after it (counted in the
  # node's perf map), which the measured put -r paid for when it followed at once (docs/BENCHMARKS.md,
  # 2026-12-02 "eighth step"). Waiting until the node idles measures it as one that has been serving.
  settle "$node_pid"
}
# The warm-up trees, made once: twice 100 files of 16 KiB to 1 MiB and one of 12 MiB (about 65 MB each; files of
# several chunks, as the SDK's largest); twice 1,500 files of 1-60 KiB.
for s in 1 2; do
  mkdir -p "$work/warm-tree-$s" "$work/warm-small-$s"
  for i in $(seq 1 100); do head -c $(( (RANDOM % 64 + 1) * 16384 )) /dev/urandom > "$work/warm-tree-$s/f$i"; done
  head -c $(( 12 * 1024 * 1024 )) /dev/urandom > "$work/warm-tree-$s/large"
  for i in $(seq 1 1500); do head -c $(( (RANDOM % 60 + 1) * 1024 )) /dev/urandom > "$work/warm-small-$s/f$i"; done
done
stop_node() { kill "$node_pid"; wait "$node_pid" 2>/dev/null || true; pids=(); }
same_tree() { # $1 = restored copy of $tree
  (cd "$tree" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$work/want.sum"
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$work/got.sum"
  cmp -s "$work/want.sum" "$work/got.sum" || { echo "restored tree differs from $tree ($1)" >&2; exit 1; }
}
files=$(find "$tree" -type f | wc -l); bytes=$(du -sb "$tree" | cut -f1)
echo "tree $tree: $files files, $((bytes / 1000000)) MB; $rounds rounds"
declare -A t
printf '%-6s %10s %10s %10s %10s %10s %10s\n' round put-r restic borg get-r restore extract
# Every round writes into directories of its own, all deleted at the end: deleting the last round's
# thousands of files first would make ext4 skip the freed inodes in every file created for the next
# 5 minutes (recently_deleted in perf: most of a get -r's CPU), taxing most whichever tool creates
# the most files (our chunk files against restic's and borg's few packs).
for r in $(seq 1 "$rounds"); do
  start_node "$r"
  mkdir -p "$work/out-os-$r" "$work/out-restic-$r" "$work/out-borg-$r"
  restic init -q -r "$work/restic-$r" > /dev/null; borg init -e none "$work/borg-$r" > /dev/null
  drop; p=$("seconds" "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put -r $tree tree")
  drop; rb=$(seconds restic -q -r "$work/restic-$r" backup "$tree")
  drop; bb=$(seconds borg create "$work/borg-$r::a" "$tree")
  drop; g=$(seconds "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "get -r tree $work/out-os-$r")
  drop; rr=$(seconds restic -q -r "$work/restic-$r" restore latest --target "$work/out-restic-$r")
  drop; be=$(cd "$work/out-borg-$r" && seconds borg extract "$work/borg-$r::a")
  stop_node
  same_tree "$work/out-os-$r"; same_tree "$work/out-restic-$r$tree"; same_tree "$work/out-borg-$r$tree"
  printf '%-6s %9.2fs %9.2fs %9.2fs %9.2fs %9.2fs %9.2fs\n' "$r" "$p" "$rb" "$bb" "$g" "$rr" "$be"
  t[put]+="$p "; t[restic]+="$rb "; t[borg]+="$bb "; t[get]+="$g "; t[restore]+="$rr "; t[extract]+="$be "
done
for k in put restic borg get restore extract; do printf '%-8s median %6ss (spread %s)\n' "$k" "$(median "${t[$k]}")" "$(spread "${t[$k]}")"; done
ratio() { echo "scale=2; $(median "${t[$1]}") / $(median "${t[$2]}")" | bc; }
echo "put -r / restic backup: $(ratio put restic)x   put -r / borg create: $(ratio put borg)x   (below 1: we are faster)"
echo "get -r / restic restore: $(ratio get restore)x   get -r / borg extract: $(ratio get extract)x"
