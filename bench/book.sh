#!/bin/sh
# bench/book.sh - retrieval and answers on the real-book set, through the
# real programs with their default flags, as a user runs them:
#
#     rag-split BOOKS/*.pdf | rag-embed | rag-index -d KB
#     rag-query -d KB -k 10 [--mode M] < questions          (scored)
#     rag-query -d KB [--mode M] < questions | rag-answer    (answers, k 5)
#
# for the default path and each --mode, beside SQLite FTS5 BM25 over the same
# chunks (bench/books.py fts5). The books are fetched by bench/books.sh; the
# questions are bench/books/q-*.jsonl (written by reading the pages: book,
# physical pages, question, a short answer span copied from the page).
# Then the cleaning counts of bench/cleancount.py over the chunks, when it is
# there.
#
# Targets: the default's page hit@5 >= 0.95, and its page hit@5 and MRR@10 at
# least those of --mode bm25 and of FTS5; the default answer holds the span
# for >= 70% of the questions whose span is in the top-5 texts.
#
# Markdown on stdout; exit 0 all targets met, 1 a target missed (0 with
# BENCH_STRICT=0), 2 could not run. Environment: BENCH_OUT (default
# bench/out), PYTHON (default python3), BENCH_STRICT (default 1),
# BENCH_BOOK_MODES (default "vector bm25 hybrid"), BENCH_BOOK_QUESTIONS
# (default bench/books: the folder of the q-*.jsonl files).
set -eu
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-bench/out}/book
PY=${PYTHON:-python3}
STRICT=${BENCH_STRICT:-1}
MODES=${BENCH_BOOK_MODES:-vector bm25 hybrid}
QDIR=${BENCH_BOOK_QUESTIONS:-bench/books}
LOG=$OUT/book.log

die() { echo "bench/book.sh: $*" >&2; exit 2; }
for p in rag-split rag-embed rag-index rag-query rag-answer; do
	[ -x "bin/$p" ] || die "bin/$p not built (run make)"
done
BOOKS=$(sh bench/books.sh) || die "cannot fetch the books (bench/books.sh)"
rm -rf "$OUT"
mkdir -p "$OUT"
: > "$LOG"

"$PY" bench/books.py questions "$QDIR" > "$OUT/questions.jsonl"
"$PY" bench/books.py questions --ask "$QDIR" > "$OUT/ask.jsonl"
nq=$(wc -l < "$OUT/questions.jsonl")
[ "$nq" -gt 0 ] || die "no questions in bench/books/q-*.jsonl"

# check VALUE LIMIT: pass when VALUE >= LIMIT
check() {
	awk -v v="$1" -v l="$2" 'BEGIN { print (v + 0 >= l + 0) ? "pass" : "MISS" }'
}
field() { # JSONFILE KEY
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

echo "## Real books: retrieval and answers with the default flags"
echo
echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1);" \
	"$(bin/rag-split --version 2>/dev/null | head -1)."
echo
echo "Books ($(ls "$BOOKS"/*.pdf | wc -l), from bench/books.sh):" \
	"$(for f in "$BOOKS"/*.pdf; do printf '%s (%s pp.) ' "$(basename "$f" .pdf)" \
		"$(mutool info "$f" 2>/dev/null | sed -n 's/^Pages: //p')"; done)"
echo
echo "Questions: $nq (bench/books/q-*.jsonl)."
echo

echo "    bin/rag-split $BOOKS/*.pdf | bin/rag-embed | bin/rag-index -d $OUT/kb"
bin/rag-split "$BOOKS"/*.pdf > "$OUT/chunks.jsonl" 2>> "$LOG"
bin/rag-embed < "$OUT/chunks.jsonl" 2>> "$LOG" | bin/rag-index -d "$OUT/kb" 2>> "$LOG"
echo
echo "Chunks: $(wc -l < "$OUT/chunks.jsonl")."
echo

run() { # NAME QUERY-FLAGS...
	name=$1
	shift
	bin/rag-query -d "$OUT/kb" -k 10 "$@" < "$OUT/ask.jsonl" > "$OUT/hits-$name.jsonl" 2>> "$LOG"
	bin/rag-query -d "$OUT/kb" "$@" < "$OUT/ask.jsonl" 2>> "$LOG" |
		bin/rag-answer > "$OUT/answers-$name.jsonl" 2>> "$LOG"
}
run default
for m in $MODES; do
	run "$m" --mode "$m"
done
"$PY" bench/books.py fts5 "$OUT/chunks.jsonl" "$OUT/questions.jsonl" > "$OUT/hits-fts5.jsonl"
# FTS5's top 5, answered by the same answerer
"$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    r["hits"] = r["hits"][:5]
    print(json.dumps(r, ensure_ascii=False))' < "$OUT/hits-fts5.jsonl" |
	bin/rag-answer > "$OUT/answers-fts5.jsonl" 2>> "$LOG"

echo "    bin/rag-query -d KB -k 10 [--mode M] < questions; bin/rag-query -d KB [--mode M] < questions | bin/rag-answer"
echo
first=--header
for name in default $MODES fts5; do
	label=$name
	[ "$name" = default ] && label="default (no flags)"
	[ "$name" = fts5 ] && label="FTS5 BM25 (sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1))"
	[ "$name" != default ] && [ "$name" != fts5 ] && label="--mode $name"
	"$PY" bench/books.py score $first -n "$label" --json "$OUT/score-$name.json" \
		--answers "$OUT/answers-$name.jsonl" "$OUT/questions.jsonl" "$OUT/hits-$name.jsonl"
	first=
done
echo

missed=0
d5=$(field "$OUT/score-default.json" hit5)
dm=$(field "$OUT/score-default.json" mrr10)
da=$(field "$OUT/score-default.json" answer_of_span)
echo "| target | value | limit | |"
echo "|---|---:|---:|---|"
row() { # NAME VALUE LIMIT
	r=$(check "$2" "$3")
	[ "$r" = pass ] || missed=1
	printf '| %s | %.3f | %.3f | %s |\n' "$1" "$2" "$3" "$r"
}
row "default page hit@5" "$d5" 0.95
for b in bm25 fts5; do
	[ -f "$OUT/score-$b.json" ] || continue
	row "default page hit@5 >= $b" "$d5" "$(field "$OUT/score-$b.json" hit5)"
	row "default MRR@10 >= $b" "$dm" "$(field "$OUT/score-$b.json" mrr10)"
done
row "default answer holds the span (of span in top 5)" "$da" 0.70
echo

if [ -f bench/cleancount.py ]; then
	echo "Cleaning, counted over all chunks (bench/cleancount.py):"
	echo
	"$PY" bench/cleancount.py < "$OUT/chunks.jsonl"
	echo
fi

if [ "$missed" -ne 0 ]; then
	echo "Targets missed."
	[ "$STRICT" = 0 ] && exit 0
	exit 1
fi
echo "All targets met."
