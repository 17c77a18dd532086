#!/usr/bin/env bash
# A/B of the API against an older revision on this machine, interleaved so that the
# machine's drift hits both alike: recordInfo and createTask req/s (wrk, 8 connections,
# 2 s a run, 8 runs each), both servers as API nodes (GENJOBS_WORKERS=false), each with
# a fresh SQLite data dir. Prints every run and the medians.
#
#     bench/ab.sh 6a9b6ff        # needs wrk; the older revision is checked out in a worktree
set -euo pipefail
REV=${1:?usage: bench/ab.sh <older revision>}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GENJOBS="$ROOT/.venv/bin/genjobs"
WORK=$(mktemp -d)
KEY=gj_ab_key
git -C "$ROOT" worktree add -q --detach "$WORK/old" "$REV"
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; git -C "$ROOT" worktree remove --force "$WORK/old"; rm -rf "$WORK"; }
trap cleanup EXIT

PIDS=()
declare -A PORT=([old]=18101 [new]=18102) SRC=([old]="$WORK/old/src" [new]="$ROOT/src")
for side in old new; do
  PYTHONPATH=${SRC[$side]} GENJOBS_API_KEY=$KEY GENJOBS_WORKERS=false \
    "$GENJOBS" serve --port "${PORT[$side]}" --data-dir "$WORK/$side" >"$WORK/$side.log" 2>&1 &
  PIDS+=($!)
done
for side in old new; do
  until curl -sf "http://127.0.0.1:${PORT[$side]}/healthz" >/dev/null; do sleep 0.2; done
done
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "genjobs/echo", "input": {"text": "hello"}}'
LUA
declare -A TASK
for side in old new; do
  TASK[$side]=$(curl -s -X POST "http://127.0.0.1:${PORT[$side]}/api/v1/jobs/createTask" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"model": "genjobs/echo", "input": {"text": "x"}}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["taskId"])')
done

rate() { wrk -t1 -c8 -d2s "$@" | awk '/Requests\/sec/ {print $2}'; }
declare -A RUNS
for endpoint in recordInfo createTask; do
  for _ in 1 2 3 4 5 6 7 8; do
    for side in old new; do
      base="http://127.0.0.1:${PORT[$side]}/api/v1/jobs"
      if [ "$endpoint" = recordInfo ]; then
        r=$(rate -H "Authorization: Bearer $KEY" "$base/recordInfo?taskId=${TASK[$side]}")
      else
        r=$(rate -s "$WORK/post.lua" "$base/createTask")
      fi
      RUNS[$endpoint.$side]+="$r "
    done
  done
done
for endpoint in recordInfo createTask; do
  for side in old new; do
    runs=${RUNS[$endpoint.$side]}
    median=$(echo "$runs" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (a[int((NR+1)/2)]+a[int(NR/2)+1])/2}')
    label=$([ "$side" = old ] && echo "$REV" || echo "HEAD")
    printf "%-10s %-8s median %8.0f req/s   runs: %s\n" "$endpoint" "$label" "$median" "$runs"
  done
done
