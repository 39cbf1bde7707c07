#!/bin/sh
# Run the unit tests of common/ (given as arguments) and the bats tests; every
# test prints TAP, and the last line counts the "ok" and "not ok" lines of all.
log=${TMPDIR:-/tmp}/ragpipe-check.$$
trap 'rm -f "$log"' EXIT INT TERM
: > "$log"
for t in "$@"; do
	echo "# unit: $t"
	"$t" 2>&1 || echo "not ok - $t exited with status $?"
done | tee -a "$log"
bats --tap "$(dirname "$0")"/*.bats 2>&1 | tee -a "$log"
pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok' "$log")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
