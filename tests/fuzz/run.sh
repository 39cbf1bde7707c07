#!/bin/sh
# Build nothing, run every libFuzzer target of tests/fuzz/ for SECONDS each
# (the entry point of `make fuzz`):
#
#   sh tests/fuzz/run.sh SECONDS BUILD_DIR [NAME...]
#
# Seeds come from tests/fuzz/corpus/NAME/ (kept in git); what the fuzzer
# finds new is kept in BUILD_DIR/fuzz/corpus/NAME/ for the next run, and a
# crashing input is saved as BUILD_DIR/fuzz/crash-NAME-*. A target may have
# tests/fuzz/NAME.options: more libFuzzer flags on one line (@DIR@ stands
# for tests/fuzz). Prints a summary line per target (runs, seconds,
# crashes) and exits 1 when any crashed or leaked.
secs=${1:?seconds}
build=${2:?build directory}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- $(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
: "${TMPDIR:=/tmp}"
export TMPDIR
failed=
summary=
for name in "$@"; do
	bin=$build/fuzz/fuzz_$name
	work=$build/fuzz/corpus/$name
	log=$build/fuzz/$name.log
	mkdir -p "$work" "$here/corpus/$name"
	opts=
	[ -f "$here/$name.options" ] && opts=$(sed "s|@DIR@|$here|g" "$here/$name.options")
	echo "fuzz: $name for ${secs}s" >&2
	# Leaks are looked for afterwards (below): mupdf has no frame pointers,
	# and the suppressions of lsan.supp need whole stacks, which are slow
	# to take on every malloc.
	# shellcheck disable=SC2086
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
		"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 -detect_leaks=0 \
		-artifact_prefix="$build/fuzz/crash-$name-" $opts "$work" "$here/corpus/$name" > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | sed 's/cov: //')
	if [ $rc -eq 0 ]; then
		# every input of the corpus once more, now with the leak checker
		# shellcheck disable=SC2086
		ASAN_OPTIONS=allocator_may_return_null=1:fast_unwind_on_malloc=0 \
		LSAN_OPTIONS=suppressions=$here/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 \
			"$bin" -runs=0 -detect_leaks=1 -timeout=60 -rss_limit_mb=2048 \
			-artifact_prefix="$build/fuzz/crash-$name-" $opts "$work" "$here/corpus/$name" >> "$log" 2>&1
		rc=$?
	fi
	if [ $rc -ne 0 ]; then
		failed="$failed $name"
		echo "fuzz: $name FAILED (status $rc); see $log" >&2
		grep -m 3 -E 'ERROR|broken promise|runtime error' "$log" >&2
		ls "$build/fuzz/crash-$name-"* 2>/dev/null >&2
	fi
	summary="$summary
$name: ${runs:-?} runs in ${took:-$secs} s, coverage ${cov:-?} edges, $( [ $rc -eq 0 ] && echo 'no crash' || echo CRASH)"
done
echo "fuzz: summary:$summary"
if [ -n "$failed" ]; then
	echo "fuzz: crashed:$failed" >&2
	exit 1
fi
