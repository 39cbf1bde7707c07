#!/bin/sh
# bench/scale.sh - indexing N chunks (default 1000000) serially, and as two
# shards built in parallel then merged: times, peak memory of every process,
# and whether the merged index (and the two shards queried together) answer
# exactly as the serial one. Markdown on stdout, progress on stderr; exit 0
# all targets met, 1 a target missed, 2 could not run.
#
#   BENCH_SCALE_N   chunks (1000000)
#   BENCH_SCALE_Q   questions compared (200)

cd "$(dirname "$0")/.." || exit 2
OUT=${BENCH_OUT:-bench/out}
N=${BENCH_SCALE_N:-1000000}
Q=${BENCH_SCALE_Q:-200}
PY=/usr/bin/python3
W=$OUT/scale
mkdir -p "$W" || exit 2
for t in bin/rag-split bin/rag-embed bin/rag-index bin/rag-query; do
	[ -x "$t" ] || { echo "bench/scale.sh: $t missing (make)" >&2; exit 2; }
done

# chunk texts from the split benchmark's books (as bench/index.sh makes them)
src=$OUT/index-chunks.jsonl
if [ ! -s "$src" ]; then
	sh bench/index.sh >/dev/null 2>&1 </dev/null || true
	[ -s "$src" ] || { echo "bench/scale.sh: $src missing (run bench/index.sh)" >&2; exit 2; }
fi

# N chunks, 50 a document, each text made distinct by a closing tag
chunks=$W/chunks-$N.jsonl
if [ ! -s "$chunks" ]; then
	echo "bench/scale.sh: making $N chunks" >&2
	$PY - "$src" "$N" > "$chunks" <<'PYEOF' || exit 2
import json, sys
chunks = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
out = sys.stdout
for i in range(n):
    c = dict(chunks[i % len(chunks)])
    d = i // 50
    c["source"] = "doc%07d.pdf" % d
    c["id"] = "%s#%d" % (c["source"], i % 50 + 1)
    c["seq"] = i % 50 + 1
    c["doc"] = "%064x" % d
    c["text"] = c["text"] + " [d%07d.%d]" % (d, i % 50 + 1)
    out.write(json.dumps(c, ensure_ascii=False) + "\n")
PYEOF
fi
half=$(( (N / 100) * 50 ))	# a document boundary
head -n "$half" "$chunks" > "$W/part1.jsonl" || exit 2
tail -n +"$((half + 1))" "$chunks" > "$W/part2.jsonl" || exit 2

# run NAME CMD...: wall seconds to $W/NAME.s, peak RSS (KB) to $W/NAME.kb
run() {
	name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$W/$name.time" "$@" || return 1
	cut -d' ' -f1 "$W/$name.time" > "$W/$name.s"
	cut -d' ' -f2 "$W/$name.time" > "$W/$name.kb"
}
now() { date +%s.%N; }

rm -rf "$W/serial" "$W/s1" "$W/s2" "$W/merged"
echo "bench/scale.sh: serial" >&2
t0=$(now)
run serial-embed bin/rag-embed -q < "$chunks" | run serial-index bin/rag-index -q -d "$W/serial" || exit 2
t_serial=$(echo "$(now) - $t0" | bc -l)

echo "bench/scale.sh: two shards in parallel" >&2
t0=$(now)
(run s1-embed bin/rag-embed -q < "$W/part1.jsonl" | run s1-index bin/rag-index -q -d "$W/s1") &
p1=$!
(run s2-embed bin/rag-embed -q < "$W/part2.jsonl" | run s2-index bin/rag-index -q -d "$W/s2") &
p2=$!
wait $p1 || exit 2
wait $p2 || exit 2
t_shards=$(echo "$(now) - $t0" | bc -l)
echo "bench/scale.sh: merge" >&2
t0=$(now)
run merge bin/rag-index -q -d "$W/merged" --merge "$W/s1" "$W/s2" || exit 2
t_merge=$(echo "$(now) - $t0" | bc -l)

echo "bench/scale.sh: queries" >&2
# questions: the first words of chunks spread over the input
$PY - "$chunks" "$N" "$Q" > "$W/questions.txt" <<'PYEOF' || exit 2
import json, sys
n, q = int(sys.argv[2]), int(sys.argv[3])
want = set(range(7, n, max(1, n // q)))
for i, l in enumerate(open(sys.argv[1])):
    if i in want:
        words = json.loads(l)["text"].split()
        print(" ".join(words[:8]))
PYEOF
hits() {
	bin/rag-query -q "$@" -k 10 < "$W/questions.txt" |
		jq -r '.question as $q | .hits[] | select(.score != 0) | "\($q)\t\(.rank)\t\(.id)\t\(.score)"'
}
hits -d "$W/serial" > "$W/serial.hits" || exit 2
hits -d "$W/merged" > "$W/merged.hits" || exit 2
hits -d "$W/s1" -d "$W/s2" > "$W/sharded.hits" || exit 2
lines=$(wc -l < "$W/serial.hits")
if cmp -s "$W/serial.hits" "$W/merged.hits"; then same_merged=yes; else same_merged=no; fi
differ_merged=$(diff "$W/serial.hits" "$W/merged.hits" | grep -c '^>')
cut -f 1,3,4 "$W/serial.hits" | LC_ALL=C sort > "$W/serial.set"
cut -f 1,3,4 "$W/sharded.hits" | LC_ALL=C sort > "$W/sharded.set"
common=$(LC_ALL=C comm -12 "$W/serial.set" "$W/sharded.set" | wc -l)

kb() { cat "$W/$1.kb"; }
s() { printf %.1f "$(cat "$W/$1.s")"; }
type=$(bin/rag-index -d "$W/serial" --stats | jq -r .index_type)
mtype=$(bin/rag-index -d "$W/merged" --stats | jq -r .index_type)
missed=0
[ "$same_merged" = yes ] || missed=$((missed + 1))

cat <<EOF
## Scale-out: $N chunks, serial vs two shards in parallel then merged

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB.
Built-in embedder (ragpipe-lex1-512), $N chunks of the split benchmark's books, 50 a document,
each text made distinct; default index type: $type (merged: $mtype).

| run | wall s | steps (wall s, peak RSS KB) |
|---|---:|---|
| serial: \`rag-embed < chunks \| rag-index -d serial\` | $(printf %.1f "$t_serial") | embed $(s serial-embed) s $(kb serial-embed) KB; index $(s serial-index) s $(kb serial-index) KB |
| two shards at once: \`rag-embed < partN \| rag-index -d sN\` | $(printf %.1f "$t_shards") | s1: embed $(kb s1-embed) KB, index $(s s1-index) s $(kb s1-index) KB; s2: embed $(kb s2-embed) KB, index $(s s2-index) s $(kb s2-index) KB |
| merge: \`rag-index -d merged --merge s1 s2\` | $(printf %.1f "$t_merge") | $(kb merge) KB |
| shards + merge | $(printf %.1f "$(echo "$t_shards + $t_merge" | bc -l)") | |

Queries: $Q questions (the first eight words of chunks spread over the input), \`rag-query -k 10\`, vector mode,
$lines hits with a non-zero score from the serial index.

| compared with the serial index | result | target |
|---|---|---|
| merged index: same hits, ranks and scores | $same_merged ($differ_merged lines differ) | identical: $( [ "$same_merged" = yes ] && echo pass || echo FAIL) |
| the two shards queried together (\`-d s1 -d s2\`), same (question, id, score) | $common of $lines | (reported) |

EOF
[ "$missed" -eq 0 ]
