#!/bin/sh
# bench/run.sh - the entry point of `make bench`: runs every benchmark in
# BENCHMARKS in turn from the repository root, prints their Markdown reports
# on stdout (also saved to bench/out/results.md) and exits non-zero if any of
# them missed a target or failed.
#
#   sh bench/run.sh               all benchmarks
#   sh bench/run.sh split         only the named ones
#   BENCH_RUNS=9 sh bench/run.sh  more runs per measurement (default 5)
#
# A benchmark is a script bench/NAME.sh that writes Markdown to stdout,
# progress to stderr, and exits 0 (all targets met), 1 (a target missed) or
# 2 (could not run).  To add one, write it and append NAME to BENCHMARKS.

BENCHMARKS="split embed index scale answer query memory book"

cd "$(dirname "$0")/.." || exit 2
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT" || exit 2
RESULTS=$OUT/results.md

[ $# -gt 0 ] && BENCHMARKS="$*"

: > "$RESULTS"
failed=
for b in $BENCHMARKS; do
	if [ ! -f "bench/$b.sh" ]; then
		echo "bench/run.sh: no benchmark bench/$b.sh" >&2
		failed="$failed $b"
		continue
	fi
	echo "bench/run.sh: running bench/$b.sh" >&2
	# keep the report even when the benchmark fails half-way
	sh "bench/$b.sh" > "$OUT/$b.md"
	rc=$?
	cat "$OUT/$b.md"
	cat "$OUT/$b.md" >> "$RESULTS"
	echo
	echo >> "$RESULTS"
	case $rc in
	0) ;;
	1) failed="$failed $b(target-missed)" ;;
	*) failed="$failed $b(error:$rc)" ;;
	esac
done

echo "bench/run.sh: report saved in $RESULTS" >&2
if [ -n "$failed" ]; then
	echo "bench/run.sh: not all targets met:$failed" >&2
	exit 1
fi
echo "bench/run.sh: all targets met" >&2
