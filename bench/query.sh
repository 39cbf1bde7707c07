#!/bin/sh
# bench/query.sh - rag-query: retrieval quality through the real programs,
# and speed at 100k chunks. Markdown on stdout, progress on stderr; exit 0
# all targets met, 1 a target missed, 2 could not run.
#
#   1. quality on ../shared/data (cmrc2018, cranfield) and on cmrc2018-tw, a
#      Traditional Chinese copy of cmrc2018 (passages and questions through
#      Debian's opencc, s2twp.json, into bench/out): each set's passages
#      through rag-embed and rag-index, its questions through rag-query with
#      no mode flag (the default path) and in the three modes (and the hybrid
#      with other weights, for reference), beside SQLite FTS5 BM25
#      (bench/fts5_baseline.py), scored by bench/eval.py. Targets: the
#      default's R@5, MRR@10 and nDCG@10 each >= FTS5's and >= --mode bm25's
#      on every set; cranfield nDCG@10 >= 0.42.
#   2. speed at 100k chunks, built-in embedder, the index type rag-index
#      picks by default: recall@10 of the default nprobe against an exact
#      search (target >= 0.95); one question as a new process, against a
#      python3 that only imports faiss and numpy and loads the same file
#      (target median <= 50 ms); 1000 questions in one process (target >= 500
#      questions/s).
#   3. speed of the three modes on distinct documents: 100k chunks of the
#      machine's Debian changelogs (/usr/share/doc/*/changelog*.gz), 200
#      questions (reported; no target).
#
# Environment: BENCH_OUT (default bench/out), BENCH_DATA (default
# ../shared/data), BENCH_QUERY_N (chunks of section 2, default 100000),
# BENCH_QUERY_RUNS (cold starts, default 21), BENCH_QUERY_SECTIONS (default
# "1 2 3"), BENCH_QUERY_CHANGELOG_N (chunks of section 3, default 100000).
#
# Section 1 needs Debian's opencc; section 2 python3-faiss and
# python3-numpy for the comparison (make bench-deps, or apt-get install
# opencc python3-faiss python3-numpy).

cd "$(dirname "$0")/.." || exit 2
OUT=${BENCH_OUT:-bench/out}/query
DATA=${BENCH_DATA:-$(pwd)/../shared/data}
N=${BENCH_QUERY_N:-100000}
RUNS=${BENCH_QUERY_RUNS:-21}
SECTIONS=${BENCH_QUERY_SECTIONS:-1 2 3}
NC=${BENCH_QUERY_CHANGELOG_N:-100000}
PY=/usr/bin/python3
mkdir -p "$OUT" || exit 2
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
die() { echo "bench/query.sh: $*" >&2; exit 2; }

for t in bin/rag-split bin/rag-embed bin/rag-index bin/rag-query; do
	[ -x "$t" ] || die "$t missing (make)"
done
command -v jq >/dev/null || die "jq missing (make deps)"

missed=0
pass() { if [ "$1" = 1 ]; then echo pass; else echo FAIL; missed=$((missed + 1)); fi; }

cat <<EOF
## rag-query benchmarks

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB;
load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(bin/rag-query --version).

EOF

# ---------------------------------------------------------------------------
if want 1; then
	command -v opencc >/dev/null || die "opencc missing (make bench-deps)"
	cat <<EOF
### 1. Retrieval quality on ../shared/data, through the real programs

Per set: every passage as a chunk record (\`id\`, \`title\`, \`text\`; a passage
with an empty text has its title as text, one with neither is left out), then

    bin/rag-embed < chunks.jsonl | bin/rag-index -d KB
    bin/rag-query -d KB -k 10 [--mode MODE] SET/queries.jsonl > run.jsonl
    python3 bench/eval.py SET/queries.jsonl run.jsonl

(the questions' \`id\` is carried through to the hits records, which eval.py
reads as they are). Built-in embedder, dimension 512. *default*: no mode
flag, as a user runs it (the hybrid, with the built-in embedder's weights);
*vector*: faiss inner product (cosine); *bm25*: FTS5's bm25() over ragpipe's
terms; *hybrid*: reciprocal rank fusion of the vector list and the lexical
list (the vector top 100 and FTS5 top 100 re-scored by exact BM25 over
ragpipe's terms with the index's statistics, k1 2, b 0.5, titles counted
twice, CJK terms at 2/3 and single characters at half that, then one round
of pseudo-relevance feedback), with the default weights for the built-in
embedder (0 for the vector list, 1 for the lexical list); the rows *hybrid
--weights V,L* show what weight on the vector list does. *FTS5 BM25*:
bench/fts5_baseline.py over the same passages (../shared/data/README.md's
baseline). cmrc2018-tw is cmrc2018 with its passages and questions made
Traditional Chinese by \`opencc -c s2twp.json\` (Taiwan usage, phrases
included). Questions whose text is empty (2 in cmrc2018) are refused by
rag-query and score 0 in every row.

EOF
	tw=${BENCH_OUT:-bench/out}/cmrc2018-tw
	if [ ! -s "$tw/queries.jsonl" ] || [ "$tw/queries.jsonl" -ot "$DATA/cmrc2018/queries.jsonl" ]; then
		echo "bench/query.sh: cmrc2018-tw: opencc -c s2twp.json" >&2
		mkdir -p "$tw" || exit 2
		for f in corpus queries; do
			# the ids are ASCII: converting whole lines leaves them and the
			# JSON as they were, which the check makes sure of
			opencc -c s2twp.json -i "$DATA/cmrc2018/$f.jsonl" -o "$tw/$f.tmp" || die "opencc failed"
			[ "$(jq -c '[.id, .relevant]' "$tw/$f.tmp" | cksum)" = \
				"$(jq -c '[.id, .relevant]' "$DATA/cmrc2018/$f.jsonl" | cksum)" ] ||
				die "cmrc2018-tw: opencc changed the ids of $f.jsonl"
			mv "$tw/$f.tmp" "$tw/$f.jsonl" || exit 2
		done
	fi
	# a metric of a .metrics file times 10000, rounded, to compare in the shell
	m4() { jq --arg m "$2" '.[$m] * 10000 | round' "$1"; }
	f4() { awk -v x="$1" 'BEGIN { printf "%.4f", x / 10000 }'; }
	for set in cmrc2018 cranfield cmrc2018-tw; do
		case $set in
		cmrc2018-tw) dir=$tw ;;
		*) dir=$DATA/$set ;;
		esac
		[ -f "$dir/corpus.jsonl" ] || die "$dir/corpus.jsonl missing"
		kb=$OUT/$set.kb
		echo "bench/query.sh: $set: index" >&2
		jq -c 'select((.text | length) > 0 or (.title | length) > 0)
			| {id, source: .id, doc: "1"} + (if (.text | length) == 0 then {text: .title} else {title, text} end)' \
			"$dir/corpus.jsonl" >"$OUT/$set.chunks.jsonl" || exit 2
		rm -rf "$kb"
		bin/rag-embed -q <"$OUT/$set.chunks.jsonl" | bin/rag-index -d "$kb" || die "$set: indexing failed"
		echo "#### $set"
		echo
		echo "$(bin/rag-index -d "$kb" --stats | jq -r '"\(.chunks) chunks, \(.index_type), \(.embedder)"'); $(wc -l <"$dir/queries.jsonl") questions."
		echo
		echo "| run | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | seconds |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		for run in default vector bm25 hybrid "hybrid --weights 0.1,1" "hybrid --weights 1,1"; do
			name=$(echo "$run" | tr ' ' '_' | tr -d ',')
			flags="--mode $run"
			label=$run
			if [ "$run" = default ]; then
				flags=
				label="default (no mode flag)"
			fi
			echo "bench/query.sh: $set: $label" >&2
			s=$(date +%s.%N)
			# shellcheck disable=SC2086
			bin/rag-query -q -d "$kb" -k 10 $flags "$dir/queries.jsonl" >"$OUT/$set.$name.jsonl" 2>"$OUT/$set.$name.err"
			rc=$?
			e=$(date +%s.%N)
			[ "$rc" -le 1 ] || die "$set: rag-query $flags failed ($rc): $(head -3 "$OUT/$set.$name.err")"
			$PY bench/eval.py --json "$dir/queries.jsonl" "$OUT/$set.$name.jsonl" >"$OUT/$set.$name.metrics" 2>/dev/null ||
				die "$set: eval.py failed"
			# eval.py's own row (4 decimals), and the seconds
			row=$($PY bench/eval.py -n "$label" "$dir/queries.jsonl" "$OUT/$set.$name.jsonl" 2>/dev/null) ||
				die "$set: eval.py failed"
			echo "$row $(printf %.1f "$(echo "$e - $s" | bc -l)") |"
		done
		echo "bench/query.sh: $set: FTS5" >&2
		s=$(date +%s.%N)
		$PY bench/fts5_baseline.py -o "$OUT/$set.fts5.jsonl" "$dir" >/dev/null || die "$set: fts5_baseline.py failed"
		e=$(date +%s.%N)
		$PY bench/eval.py --json "$dir/queries.jsonl" "$OUT/$set.fts5.jsonl" >"$OUT/$set.fts5.metrics" 2>/dev/null ||
			die "$set: eval.py failed"
		row=$($PY bench/eval.py -n "FTS5 BM25 (bench/fts5_baseline.py)" "$dir/queries.jsonl" "$OUT/$set.fts5.jsonl" \
			2>/dev/null) || die "$set: eval.py failed"
		echo "$row $(printf %.1f "$(echo "$e - $s" | bc -l)") |"
		echo
		for m in R@5 MRR@10 nDCG@10; do
			d=$(m4 "$OUT/$set.default.metrics" "$m")
			b=$(m4 "$OUT/$set.bm25.metrics" "$m")
			f=$(m4 "$OUT/$set.fts5.metrics" "$m")
			echo "- $m: default $(f4 "$d") >= bm25 $(f4 "$b") and FTS5 $(f4 "$f"):" \
				"$(pass "$([ "$d" -ge "$b" ] && [ "$d" -ge "$f" ] && echo 1)")"
		done
		if [ "$set" = cranfield ]; then
			d=$(m4 "$OUT/$set.default.metrics" nDCG@10)
			echo "- nDCG@10: default $(f4 "$d") >= 0.4200: $(pass "$([ "$d" -ge 4200 ] && echo 1)")"
		fi
		echo
	done
fi

# ---------------------------------------------------------------------------
if want 2; then
	$PY -c 'import faiss, numpy' 2>/dev/null ||
		die "Debian's python3-faiss and python3-numpy are needed (make bench-deps)"
	# chunk texts: those of bench/index.sh (made from the split benchmark's books)
	src=${BENCH_OUT:-bench/out}/index-chunks.jsonl
	if [ ! -s "$src" ]; then
		for b in book-100 en-300 zh-300; do
			[ -s "${BENCH_OUT:-bench/out}/$b.pdf" ] || sh bench/split.sh >/dev/null 2>&1 || true
		done
		bin/rag-split "${BENCH_OUT:-bench/out}"/book-100.pdf "${BENCH_OUT:-bench/out}"/en-300.pdf \
			"${BENCH_OUT:-bench/out}"/zh-300.pdf >"$src" || die "cannot make $src"
	fi
	kb=$OUT/kb-$N
	if [ "$(bin/rag-index -d "$kb" --stats 2>/dev/null | jq -r '"\(.chunks) \(.embedder) \(.faiss_current)"')" != "$N ragpipe-lex1-512 true" ]; then
		echo "bench/query.sh: making $N records and their index" >&2
		rm -rf "$kb"
		$PY - "$src" "$N" <<'EOF' | bin/rag-embed -q | bin/rag-index -d "$kb" || die "cannot build $kb"
# n distinct records: a chunk's text and a slice of another's (bench/index.sh
# repeats its chunks, so that many vectors would be the same)
import json, random, sys
chunks = [json.loads(l) for l in open(sys.argv[1])]
rnd = random.Random(6)
for i in range(int(sys.argv[2])):
    c = dict(chunks[i % len(chunks)])
    o = chunks[rnd.randrange(len(chunks))]["text"]
    a = rnd.randrange(max(1, len(o) - 200))
    c["text"] = c["text"] + "\n" + o[a:a + 100 + rnd.randrange(200)]
    c["source"] = "doc%06d.pdf" % (i // 50)
    c["id"] = "%s#%d" % (c["source"], i % 50 + 1)
    c["seq"] = i % 50 + 1
    c["doc"] = "%064x" % (i // 50)
    print(json.dumps(c, ensure_ascii=False))
EOF
	fi
	qs=$OUT/questions-1000.txt
	$PY - "$src" 1000 >"$qs" <<'EOF' || die "cannot make questions"
# questions: a few words (English) or characters (Chinese) of random chunks
import json, random, re, sys
chunks = [json.loads(l)["text"] for l in open(sys.argv[1])]
rnd = random.Random(7)
n = 0
while n < int(sys.argv[2]):
    t = chunks[rnd.randrange(len(chunks))]
    if re.search(r'[\u4e00-\u9fff]', t):
        s = re.sub(r'\s+', '', t)
        if len(s) < 30:
            continue
        a = rnd.randrange(len(s) - 20)
        q = s[a:a + 8 + rnd.randrange(12)]
    else:
        w = t.split()
        if len(w) < 15:
            continue
        a = rnd.randrange(len(w) - 12)
        q = " ".join(w[a:a + 4 + rnd.randrange(8)])
    if q.startswith("{"):
        continue
    print(q)
    n += 1
EOF
	st=$(bin/rag-index -d "$kb" --stats)
	type=$(echo "$st" | jq -r .index_type)
	nlist=$(echo "$type" | sed -n 's/^IVF\([0-9]*\),.*/\1/p')
	faiss=$(ls "$kb"/vectors-*.faiss | head -1)
	echo "bench/query.sh: recall" >&2
	bin/rag-query -q -d "$kb" -k 10 --mode vector --nprobe "${nlist:-1}" "$qs" >"$OUT/exact.jsonl" ||
		die "exact search failed"
	bin/rag-query -q -d "$kb" -k 10 --mode vector "$qs" >"$OUT/default.jsonl" || die "search failed"
	recall=$($PY - "$OUT/exact.jsonl" "$OUT/default.jsonl" <<'EOF'
import json, sys
ex = [json.loads(l) for l in open(sys.argv[1])]
ap = [json.loads(l) for l in open(sys.argv[2])]
assert len(ex) == len(ap)
r = n = 0
for e, a in zip(ex, ap):
    ids = {h["id"] for h in e["hits"]}
    if ids:
        r += len(ids & {h["id"] for h in a["hits"]}) / len(ids)
        n += 1
print("%.4f" % (r / n))
EOF
)
	loader=$OUT/load-faiss.py
	cat >"$loader" <<'EOF'
# python3: import faiss and numpy, load the index (mapped, as rag-query does)
import sys
import numpy
import faiss
index = faiss.read_index(sys.argv[1], faiss.IO_FLAG_MMAP)
EOF
	echo "bench/query.sh: cold starts" >&2
	cold=$($PY - "$qs" "$RUNS" "$kb" "$loader" "$faiss" <<'EOF'
# median wall and CPU (user + system) time of each command as a new process,
# the runs interleaved so that the machine's load falls on all alike
import resource, statistics, subprocess, sys, time
qs = open(sys.argv[1]).read().splitlines()
runs, kb, loader, faiss = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
cmds = {
    "vector": ["bin/rag-query", "-d", kb, "--mode", "vector"],
    "hybrid": ["bin/rag-query", "-d", kb],
    "bm25": ["bin/rag-query", "-d", kb, "--mode", "bm25"],
    "python": ["/usr/bin/python3", loader, faiss],
}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for i in range(runs):
    for k, c in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(c, input=(qs[i] + "\n").encode(), stdout=subprocess.DEVNULL, check=True)
        wall[k].append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[k].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
for k in cmds:
    print(k, "%.1f %.1f %.1f %.1f" % (statistics.median(wall[k]) * 1000, min(wall[k]) * 1000,
                                      max(wall[k]) * 1000, statistics.median(cpu[k]) * 1000))
EOF
) || die "cold start runs failed"
	echo "bench/query.sh: batches" >&2
	batch() {
		# median of 3 runs: seconds for the 1000 questions
		for r in 1 2 3; do
			s=$(date +%s.%N)
			bin/rag-query -q -d "$kb" "$@" "$qs" >/dev/null || return 1
			e=$(date +%s.%N)
			echo "$e - $s" | bc -l
		done | sort -n | sed -n 2p
	}
	b_vec=$(batch --mode vector) || die "batch failed"
	nq=$(wc -l <"$qs")
	# the other modes, for reference: the first 200 questions, once
	head -200 "$qs" >"$OUT/questions-200.txt"
	once() {
		s=$(date +%s.%N)
		bin/rag-query -q -d "$kb" "$@" "$OUT/questions-200.txt" >/dev/null || return 1
		e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	}
	b_hyb=$(once) || die "batch failed"
	b_bm=$(once --mode bm25) || die "batch failed"
	row() { echo "$cold" | awk -v k="$1" '$1 == k { printf "%s | %s-%s | %s", $2, $3, $4, $5 }'; }
	vmed=$(echo "$cold" | awk '$1 == "vector" { print $2 }')
	qps=$(echo "$nq / $b_vec" | bc -l)
	nprobe_default=$(bin/rag-query -d "$kb" -v </dev/null 2>&1 | sed -n 's/.*nprobe \([0-9]*\).*/\1/p' | head -1)
	[ -n "$nprobe_default" ] || nprobe_default=$(echo "x" | bin/rag-query -d "$kb" -v 2>&1 >/dev/null | sed -n 's/.*nprobe \([0-9]*\).*/\1/p')
	cat <<EOF
### 2. Speed at $N chunks

Index: $N chunk records made from bench/index.sh's chunk texts
(bench/out/index-chunks.jsonl: the split benchmark's English and Chinese
books), each a chunk's text followed by a random slice of another's, so that
no two vectors are alike (bench/index.sh's records repeat 1738 texts, which
would make many vectors equal); \`bin/rag-embed\` (built-in, dimension 512),
\`bin/rag-index\`: type **$type** (rag-index's default at this size), $(echo "$st" | jq -r '.bytes / 1048576 | floor') MiB.
Questions: $nq, a few words (English) or characters (Chinese) of random
chunks, one per line ($qs).

| measurement | value | target | result |
|---|---:|---|---|
| recall@10 of the default nprobe ($nprobe_default of $nlist lists) against an exact search (\`--nprobe $nlist\`) | $recall | >= 0.95 | $(pass "$(echo "$recall >= 0.95" | bc -l)") |
| one question as a new process, \`--mode vector\`: median wall ms | $vmed | <= 50 | $(pass "$(echo "$vmed <= 50" | bc -l)") |
| $nq questions in one process, vector mode: questions/s | $(printf %.0f "$qps") ($(printf %.2f "$b_vec") s) | >= 500 | $(pass "$(echo "$qps >= 500" | bc -l)") |

Cold starts, $RUNS runs each, interleaved (a new process each, the page cache warm):

| command | median wall ms | min-max ms | median CPU ms (user+sys) |
|---|---:|---|---:|
| \`echo Q \| bin/rag-query -d KB --mode vector\` | $(row vector) |
| \`echo Q \| bin/rag-query -d KB\` (default: hybrid) | $(row hybrid) |
| \`echo Q \| bin/rag-query -d KB --mode bm25\` | $(row bm25) |
| \`/usr/bin/python3 $loader FAISS\` (imports faiss and numpy, loads the file mapped; no question) | $(row python) |

Batches (\`bin/rag-query -d KB [MODE] QUESTIONS\`): vector, the $nq questions, median of 3:
$(printf %.2f "$b_vec") s ($(printf %.0f "$qps")/s); for reference, the first 200 once: default (hybrid)
$(printf %.2f "$b_hyb") s ($(printf %.0f "$(echo "200 / $b_hyb" | bc -l)")/s), bm25 $(printf %.2f "$b_bm") s
($(printf %.0f "$(echo "200 / $b_bm" | bc -l)")/s) (FTS5 computes bm25() for every chunk holding a
question term, tens of thousands here).

EOF
fi

# ---------------------------------------------------------------------------
if want 3; then
	# real text whose words are not all common: the machine's Debian
	# changelogs, in path order, split as they are
	corp=$OUT/changelogs
	kb=$OUT/kb-changelogs
	if [ "$(bin/rag-index -d "$kb" --stats 2>/dev/null | jq -r .chunks)" != "$NC" ]; then
		echo "bench/query.sh: splitting and indexing $NC chunks of /usr/share/doc/*/changelog*.gz" >&2
		rm -rf "$corp" "$kb"
		mkdir -p "$corp" || exit 2
		find /usr/share/doc -name 'changelog*.gz' | LC_ALL=C sort | awk '{ printf "%s %05d\n", $0, NR }' |
			while read -r f i; do zcat "$f" >"$corp/c$i.txt" 2>/dev/null; done
		bin/rag-split -q "$corp"/c*.txt | head -n "$NC" | bin/rag-embed -q | bin/rag-index -d "$kb" ||
			die "cannot index the changelogs"
		[ "$(bin/rag-index -d "$kb" --stats | jq -r .chunks)" = "$NC" ] || die "fewer than $NC chunks of changelogs"
	fi
	cq=$OUT/changelog-questions.txt
	$PY - "$kb/index.sqlite" >"$cq" <<'EOF' || die "cannot make questions"
# 200 questions: three to eight words of random chunks (fixed seed)
import random, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
texts = [t for (t,) in db.execute("SELECT text FROM chunks ORDER BY rid")]
rnd = random.Random(7)
for _ in range(200):
    w = rnd.choice(texts).split()
    a = rnd.randrange(max(1, len(w) - 8))
    print(" ".join(w[a:a + rnd.randrange(3, 9)]).replace('"', ""))
EOF
	timed() {
		s=$(date +%s.%N)
		bin/rag-query -q -d "$kb" "$@" "$cq" >/dev/null || return 1
		e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	}
	c_vec=$(timed --mode vector) || die "rag-query failed"
	c_bm=$(timed --mode bm25) || die "rag-query failed"
	c_hyb=$(timed) || die "rag-query failed"
	cat <<EOF
### 3. Speed on distinct documents: $NC chunks of Debian changelogs

Index: the first $NC chunks of \`bin/rag-split\` over the machine's
/usr/share/doc/*/changelog*.gz (in path order), built-in embedder,
$(bin/rag-index -d "$kb" --stats | jq -r '"\(.documents) documents, \(.index_type)"'). Questions: 200, three to eight words of random chunks
($cq). One process each, the 200 questions once:

| mode | seconds | questions/s |
|---|---:|---:|
| \`--mode vector\` | $(printf %.2f "$c_vec") | $(printf %.0f "$(echo "200 / $c_vec" | bc -l)") |
| bm25 | $(printf %.2f "$c_bm") | $(printf %.0f "$(echo "200 / $c_bm" | bc -l)") |
| default (hybrid) | $(printf %.2f "$c_hyb") | $(printf %.0f "$(echo "200 / $c_hyb" | bc -l)") |

EOF
fi
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Targets missed: $missed"
[ "$missed" -eq 0 ]
