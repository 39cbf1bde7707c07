#!/bin/sh
# bench/split.sh - speed and memory of rag-split, against mutool on the same files.
#
# Prints a Markdown report on stdout:
#   1. single-threaded time: rag-split vs `mutool draw -F txt -o /dev/null FILE`
#      (median of BENCH_RUNS runs each, interleaved; target ratio <= 1.25)
#   2. rag-split -j1 vs -j2 on a set of 8 PDFs (target speedup >= 1.7 on 2 cores)
#   3. peak RSS of rag-split on a 100-page and a 1000-page book of the same kind
#      (target ratio <= 1.5)
# Exit status: 0 all targets met, 1 a target missed (or BENCH_STRICT=0: always 0
# unless something broke), 2 a command failed or a tool is missing.
#
# Environment: BENCH_RUNS (default 5), BENCH_OUT (scratch dir for the generated
# PDFs, default bench/out), RAG_SPLIT (default bin/rag-split), MUTOOL (default
# mutool), PYTHON (default python3), BENCH_STRICT (default 1), BENCH_SECTIONS
# (which of the sections 1 2 3 to run, default all).

set -eu
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-5}
OUT=${BENCH_OUT:-bench/out}
RAG=${RAG_SPLIT:-bin/rag-split}
MUTOOL=${MUTOOL:-mutool}
PY=${PYTHON:-python3}
STRICT=${BENCH_STRICT:-1}
SECTIONS=${BENCH_SECTIONS:-1 2 3}
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

die() { echo "bench/split.sh: $*" >&2; exit 2; }
command -v "$MUTOOL" >/dev/null 2>&1 || die "$MUTOOL not found (Debian package mupdf-tools; run make deps)"
command -v "$PY" >/dev/null 2>&1 || die "$PY not found (Debian package python3; run make deps)"
[ -x "$RAG" ] || die "$RAG not built (run make)"
mkdir -p "$OUT"
LOG=$OUT/split.log
: > "$LOG"

# ---------------------------------------------------------------------------
# measure FILE OUTPUT CMD... [:: CMD...]: run the commands (several at once
# when separated by ::) with stdin from /dev/null, stdout to OUTPUT and stderr
# appended to $LOG, wait for all of them, and append to FILE the line
#   WALL_SECONDS MAXRSS_KB CPU_SECONDS
# Wall time is taken around fork/exec/wait in Python; MAXRSS is the largest
# child's ru_maxrss from wait4(2) (the number GNU time prints as %M); CPU is
# user + system time of all the children (all threads).
measure() {
	_mf=$1
	_mo=$2
	shift 2
	"$PY" -c '
import os, resource, subprocess, sys, time
cmds, cur = [], []
for a in sys.argv[3:]:
    if a == "::":
        cmds.append(cur)
        cur = []
    else:
        cur.append(a)
cmds.append(cur)
with open(sys.argv[2], "wb") as o, open(sys.argv[1], "ab") as e:
    t0 = time.perf_counter()
    ps = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=o, stderr=e) for c in cmds]
    rcs = [p.wait() for p in ps]
    t = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
for c, rc in zip(cmds, rcs):
    if rc != 0:
        sys.exit("bench/split.sh: exit status %d: %s (see %s)" % (rc, " ".join(c), sys.argv[1]))
print("%.4f %d %.4f" % (t, ru.ru_maxrss, ru.ru_utime + ru.ru_stime))
' "$LOG" "$_mo" "$@" >> "$_mf" || exit 2
}

# median FILE COLUMN: median of one column of a file of measure lines
median() {
	cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
		if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B -> A/B with 2 decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b > 0 ? a / b : 0) }'; }
# le A B -> true when A <= B
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

MISSED=0
RESULT=
verdict() { # verdict OK? -> sets RESULT to pass/FAIL and counts the misses
	if [ "$1" = 1 ]; then RESULT=pass; else MISSED=$((MISSED + 1)); RESULT=FAIL; fi
}

# ---------------------------------------------------------------------------
# Test documents: generated once into $OUT, again when mkpdf.py changes.
# name pages seed lang
DOCS="book-100 100 1 mixed
book-1000 1000 1 mixed
en-300 300 2 en
zh-300 300 3 zh"
# The -j set: 8 books of different lengths, as a real collection has; the odd
# and the even ones add up to 1000 pages each (the two-process ceiling below
# splits them that way).
SET_SIZES="120 300 380 200 150 250 350 250"
SET_N=0
SET_PAGES=0
for p in $SET_SIZES; do
	SET_N=$((SET_N + 1))
	SET_PAGES=$((SET_PAGES + p))
	DOCS="$DOCS
set-$SET_N $p $((10 + SET_N)) mixed"
done

gen() { # gen NAME PAGES SEED LANG
	f=$OUT/$1.pdf
	if [ ! -s "$f" ] || [ -n "$(find bench/mkpdf.py -newer "$f")" ]; then
		"$PY" bench/mkpdf.py -p "$2" -s "$3" --lang "$4" -o "$f.tmp" && mv "$f.tmp" "$f"
	fi
}
echo "bench/split.sh: generating test PDFs in $OUT ..." >&2
# two at a time (the machine has at least that many cores, usually)
pids=
n=0
echo "$DOCS" > "$OUT/docs.list"
while read -r name pages seed lang; do
	gen "$name" "$pages" "$seed" "$lang" &
	pids="$pids $!"
	n=$((n + 1))
	if [ $((n % 2)) -eq 0 ]; then
		for p in $pids; do wait "$p" || die "mkpdf.py failed"; done
		pids=
	fi
done < "$OUT/docs.list"
for p in $pids; do wait "$p" || die "mkpdf.py failed"; done

pages_of() { "$MUTOOL" info "$1" 2>/dev/null | awk '/^Pages:/ { print $2; exit }'; }

# ---------------------------------------------------------------------------
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MUVER=$("$MUTOOL" -v 2>&1 | awk '/version/ { print $NF; exit }')
echo "## rag-split benchmarks"
echo
echo "Machine: $(nproc) cores ($(uname -m), Linux $(uname -r)), CPU: ${CPU:-unknown}, $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "mupdf: $MUVER (mutool: $(command -v "$MUTOOL")); rag-split: $("$RAG" --version 2>&1 | head -1); runs per measurement: $RUNS (median)"
echo "Test PDFs: bench/mkpdf.py (synthetic 6x9 in books, ~2.3 KB of text per page, base-14 fonts + STSong-Light), in $OUT"
echo

# ---------------------------------------------------------------------------
if want 1; then
echo "### 1. Single-threaded time: rag-split vs mutool"
echo
echo "Commands (stdout to /dev/null for rag-split; stdin /dev/null):"
echo
echo '    mutool draw -q -F txt -o /dev/null FILE'
echo "    $RAG FILE"
echo
echo "| file | pages | text KB | chunks | mutool s | rag-split s | ratio | target | result |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
for name in book-100 book-1000 en-300 zh-300; do
	f=$OUT/$name.pdf
	pages=$(pages_of "$f")
	"$MUTOOL" draw -q -F txt -o "$OUT/$name.txt" "$f" 2>>"$LOG" || die "mutool failed on $f"
	kb=$(($(wc -c < "$OUT/$name.txt") / 1024))
	# warm-up (page cache, dynamic loader) and the chunk count
	measure /dev/null "$OUT/$name.jsonl" "$RAG" "$f"
	chunks=$(wc -l < "$OUT/$name.jsonl")
	measure /dev/null /dev/null "$MUTOOL" draw -q -F txt -o /dev/null "$f"
	: > "$OUT/m.t"; : > "$OUT/r.t"
	r=0
	while [ $r -lt "$RUNS" ]; do
		measure "$OUT/m.t" /dev/null "$MUTOOL" draw -q -F txt -o /dev/null "$f"
		measure "$OUT/r.t" /dev/null "$RAG" "$f"
		r=$((r + 1))
	done
	tm=$(median "$OUT/m.t" 1)
	tr=$(median "$OUT/r.t" 1)
	q=$(ratio "$tr" "$tm")
	if le "$q" 1.25; then verdict 1; else verdict 0; fi
	echo "| $name.pdf | $pages | $kb | $chunks | $tm | $tr | $q | <= 1.25 | $RESULT |"
done
echo

# ---------------------------------------------------------------------------
fi

if want 2; then
echo "### 2. Parallel: rag-split -j1 vs -j2 on $SET_N PDFs, $SET_PAGES pages in all"
echo
echo "Pages per file: $SET_SIZES."
echo
SET=
ODD=
EVEN=
i=1
while [ $i -le $SET_N ]; do
	SET="$SET $OUT/set-$i.pdf"
	if [ $((i % 2)) = 1 ]; then ODD="$ODD $OUT/set-$i.pdf"; else EVEN="$EVEN $OUT/set-$i.pdf"; fi
	i=$((i + 1))
done
echo "Commands (the last one is the machine's ceiling: two independent single-threaded"
echo "processes, each on half of the files, started together):"
echo
echo "    $RAG -j1$SET"
echo "    $RAG -j2$SET"
echo "    $RAG$ODD & $RAG$EVEN & wait"
echo
# shellcheck disable=SC2086
measure /dev/null "$OUT/set-j1.jsonl" "$RAG" -j1 $SET
# shellcheck disable=SC2086
measure /dev/null "$OUT/set-j2.jsonl" "$RAG" -j2 $SET
if cmp -s "$OUT/set-j1.jsonl" "$OUT/set-j2.jsonl"; then same=yes; else same="NO (differs)"; fi
# a pure-CPU loop, once and twice at once: how much parallelism the machine gives
SPIN='n = 0
for i in range(6000000): n += i'
: > "$OUT/j1.t"; : > "$OUT/j2.t"; : > "$OUT/p2.t"; : > "$OUT/s1.t"; : > "$OUT/s2.t"
r=0
while [ $r -lt "$RUNS" ]; do
	# shellcheck disable=SC2086
	measure "$OUT/j1.t" /dev/null "$RAG" -j1 $SET
	# shellcheck disable=SC2086
	measure "$OUT/j2.t" /dev/null "$RAG" -j2 $SET
	# shellcheck disable=SC2086
	measure "$OUT/p2.t" /dev/null "$RAG" $ODD :: "$RAG" $EVEN
	measure "$OUT/s1.t" /dev/null "$PY" -c "$SPIN"
	measure "$OUT/s2.t" /dev/null "$PY" -c "$SPIN" :: "$PY" -c "$SPIN"
	r=$((r + 1))
done
t1=$(median "$OUT/j1.t" 1); c1=$(median "$OUT/j1.t" 3)
t2=$(median "$OUT/j2.t" 1); c2=$(median "$OUT/j2.t" 3)
tp=$(median "$OUT/p2.t" 1); cp=$(median "$OUT/p2.t" 3)
sp=$(ratio "$t1" "$t2")
spp=$(ratio "$t1" "$tp")
ts1=$(median "$OUT/s1.t" 1)
ts2=$(median "$OUT/s2.t" 1)
sps=$(awk -v a="$ts1" -v b="$ts2" 'BEGIN { printf "%.2f\n", (b > 0 ? 2 * a / b : 0) }')
if [ "$(nproc)" -lt 2 ]; then
	RESULT="skipped (1 core)"
elif le 1.7 "$sp"; then verdict 1; else verdict 0; fi
echo "| run | wall s | CPU s (user+sys) | CPU/wall | speedup vs -j1 | target | result |"
echo "|---|---:|---:|---:|---:|---|---|"
echo "| -j1 | $t1 | $c1 | $(ratio "$c1" "$t1") | 1.00 | | |"
echo "| -j2 | $t2 | $c2 | $(ratio "$c2" "$t2") | $sp | >= 1.7 | $RESULT |"
echo "| 2 processes (ceiling) | $tp | $cp | $(ratio "$cp" "$tp") | $spp | | |"
echo
echo "Machine check: a pure-CPU Python loop takes $ts1 s alone and $ts2 s when two run at"
echo "once, i.e. the two cores give a speedup of $sps on compute that shares nothing"
echo "(2.00 on two real, idle cores; less when the vCPUs are SMT siblings or shared)."
echo "-j2 reaches $(ratio "$sp" "$sps") of that and $(ratio "$sp" "$spp") of the two-process ceiling."
echo
echo "-j2 output byte-identical to -j1 output: $same"
[ "$same" = yes ] || MISSED=$((MISSED + 1))
echo

# ---------------------------------------------------------------------------
fi

if want 3; then
echo "### 3. Peak RSS (ru_maxrss of the child, = GNU time %M): 100 vs 1000 pages"
echo
echo "Commands: \`$RAG FILE\` and, for reference, \`mutool draw -q -F txt -o /dev/null FILE\`"
echo
echo "| program | book-100.pdf KB | book-1000.pdf KB | ratio | target | result |"
echo "|---|---:|---:|---:|---|---|"
for prog in rag-split mutool; do
	for name in book-100 book-1000; do
		: > "$OUT/rss-$name.t"
		r=0
		while [ $r -lt "$RUNS" ]; do
			if [ $prog = mutool ]; then
				measure "$OUT/rss-$name.t" /dev/null "$MUTOOL" draw -q -F txt -o /dev/null "$OUT/$name.pdf"
			else
				measure "$OUT/rss-$name.t" /dev/null "$RAG" "$OUT/$name.pdf"
			fi
			r=$((r + 1))
		done
	done
	a=$(median "$OUT/rss-book-100.t" 2 | cut -d. -f1)
	b=$(median "$OUT/rss-book-1000.t" 2 | cut -d. -f1)
	q=$(ratio "$b" "$a")
	if [ $prog = mutool ]; then
		echo "| mutool (reference) | $a | $b | $q | | |"
	else
		if le "$q" 1.5; then verdict 1; else verdict 0; fi
		echo "| rag-split | $a | $b | $q | <= 1.5 | $RESULT |"
	fi
done
echo
fi
echo "Targets missed: $MISSED"

if [ "$MISSED" -gt 0 ] && [ "$STRICT" != 0 ]; then exit 1; fi
exit 0
