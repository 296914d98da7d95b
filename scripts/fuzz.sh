#!/usr/bin/env bash
# Run every atheris harness in fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS ...]     (default: 60 s, all harnesses)
#
# Each harness starts from fuzz/seeds/<name>/ and writes what it discovers to a
# scratch corpus, so the committed seeds never change.  A crash (an exception
# that is not a Storyline-declared error), a hang (one input running longer than
# FUZZ_INPUT_TIMEOUT seconds, default 20) or memory above FUZZ_RSS_MB (default
# 2048) stops that harness with a non-zero status and leaves the input in
# $FUZZ_WORK/<name>/ (default: a temporary folder, printed).  The script exits
# non-zero if any harness failed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SECONDS_EACH="${1:-60}"
shift || true
HARNESSES=("$@")
if [ ${#HARNESSES[@]} -eq 0 ]; then
  HARNESSES=(html text feed warc document)
fi
WORK="${FUZZ_WORK:-$(mktemp -d -t storyline-fuzz-XXXXXX)}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

status=0
for name in "${HARNESSES[@]}"; do
  corpus="$WORK/$name"
  mkdir -p "$corpus"
  echo "== fuzz_$name: ${SECONDS_EACH}s, scratch corpus $corpus"
  set +e
  "$PYTHON" "$ROOT/fuzz/fuzz_$name.py" \
      -max_total_time="$SECONDS_EACH" \
      -timeout="${FUZZ_INPUT_TIMEOUT:-20}" \
      -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
      -max_len="${FUZZ_MAX_LEN:-65536}" \
      -artifact_prefix="$corpus/" \
      -print_final_stats=1 \
      "$corpus" "$ROOT/fuzz/seeds/$name" >"$WORK/$name.log" 2>&1
  rc=$?
  set -e
  grep -E "INITED|DONE|stat::number_of_executed_units|Uncaught|ALARM|out-of-memory" \
    "$WORK/$name.log" || true
  if [ "$rc" -ne 0 ]; then
    echo "!! fuzz_$name failed (exit $rc): see $WORK/$name.log and crash-*/timeout-* in $corpus"
    status=1
  fi
done
exit $status
