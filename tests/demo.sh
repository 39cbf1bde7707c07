#!/bin/sh
# make demo: the pipeline on the bundled documents in tests/data/demo.
set -eu
bin=$(dirname "$0")/../bin
demo=$(dirname "$0")/data/demo
out=${TMPDIR:-/tmp}/ragpipe-demo.$$
trap 'rm -f "$out"' EXIT INT TERM

echo "== rag-split $demo/*"
"$bin/rag-split" "$demo"/* > "$out"
echo "$(wc -l < "$out") chunks from $(ls "$demo" | wc -l) documents; the first two:"
head -n 2 "$out" | cut -c 1-400
echo
echo "== chunks per document (source, chunks, pages)"
sed -e 's/.*"source":"\([^"]*\)".*/\1/' "$out" | uniq -c
