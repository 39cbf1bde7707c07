#!/bin/sh
# Regenerate the expected chunks of tests/langchain.bats with oracle.py, a
# standard-library re-statement of LangChain's RecursiveCharacterTextSplitter.
#
#   NAME.S-O.json      chunks of NAME.txt, --size S --overlap O, default separators
#   NAME.S-O.TAG.json  the same with --separators "$(cat separators/TAG.json)"
#
# Usage: tests/langchain/regen.sh   (from anywhere; needs python3 only)
set -eu
cd "$(dirname "$0")"

# Every input at these sizes, default separators.
PAIRS="50-0 100-20 200-50 1000-150 30-10"
# Extra default-separator cases: NAME S-O
EXTRA="
small 1-0
small 2-1
mixed 10-5
whitespace 10-5
newlines 10-5
prose 100-90
"
# Custom separator lists: NAME S-O TAG (separators/TAG.json)
CUSTOM="
chinese 50-0 cjkpunct
chinese 100-20 cjkpunct
prose 100-20 sentence
prose 100-20 nofallback
longwords 50-10 nofallback
prose 1000-150 absent
small 10-0 absent
small 100-0 absent
prose 100-20 emptylist
prose 50-10 midword
"

gen() { # name size overlap [tag]
	if [ $# -eq 4 ]; then
		out="$1.$2-$3.$4.json"
		python3 oracle.py --size "$2" --overlap "$3" --separators "$(cat "separators/$4.json")" "$1.txt" > "$out.tmp"
	else
		out="$1.$2-$3.json"
		python3 oracle.py --size "$2" --overlap "$3" "$1.txt" > "$out.tmp"
	fi
	mv "$out.tmp" "$out"
}

rm -f ./*.json
for f in *.txt; do
	name=${f%.txt}
	for p in $PAIRS; do
		gen "$name" "${p%-*}" "${p#*-}"
	done
done
echo "$EXTRA" | while read -r name p; do
	[ -n "$name" ] || continue
	gen "$name" "${p%-*}" "${p#*-}"
done
echo "$CUSTOM" | while read -r name p tag; do
	[ -n "$name" ] || continue
	gen "$name" "${p%-*}" "${p#*-}" "$tag"
done
echo "regen: $(ls ./*.json | wc -l) expected files in $(pwd)"
