#!/bin/sh
# bench/index.sh - rag-index: ingest speed against a python3 + numpy + faiss
# loader, a re-run on unchanged input, and peak memory against the vectors'
# size. Markdown on stdout, progress on stderr; exit 0 all targets met, 1 a
# target missed, 2 could not run.
#
#   BENCH_INDEX_N    records for the ingest and re-run measurements (100000)
#   BENCH_INDEX_MEM  records for the memory measurement (200000)

cd "$(dirname "$0")/.." || exit 2
OUT=${BENCH_OUT:-bench/out}
N=${BENCH_INDEX_N:-100000}
NMEM=${BENCH_INDEX_MEM:-200000}
DIM=384
PY=/usr/bin/python3
mkdir -p "$OUT" || exit 2

for t in bin/rag-split bin/rag-embed bin/rag-index; do
	[ -x "$t" ] || { echo "bench/index.sh: $t missing (make)" >&2; exit 2; }
done
if ! $PY -c 'import faiss, numpy' 2>/dev/null; then
	echo "bench/index.sh: Debian's python3-faiss and python3-numpy are needed (apt-get install python3-faiss python3-numpy)" >&2
	exit 2
fi

# Chunk texts from the split benchmark's books (made if missing).
src=$OUT/index-chunks.jsonl
if [ ! -s "$src" ]; then
	for b in book-100 en-300 zh-300; do
		[ -s "$OUT/$b.pdf" ] || sh bench/split.sh >/dev/null 2>&1 || true
	done
	cat "$OUT"/book-100.pdf "$OUT"/en-300.pdf "$OUT"/zh-300.pdf >/dev/null 2>&1 || exit 2
	bin/rag-split "$OUT"/book-100.pdf "$OUT"/en-300.pdf "$OUT"/zh-300.pdf > "$src" || exit 2
fi

# n records of DIM floats, with distinct ids and sources (50 chunks a document).
make_records() {
	$PY - "$src" "$1" <<'EOF' | bin/rag-embed -q --dim 384
import json, sys
chunks = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
for i in range(n):
    c = dict(chunks[i % len(chunks)])
    c["source"] = "doc%06d.pdf" % (i // 50)
    c["id"] = "%s#%d" % (c["source"], i % 50 + 1)
    c["seq"] = i % 50 + 1
    c["doc"] = "%064x" % (i // 50)
    print(json.dumps(c, ensure_ascii=False))
EOF
}

recs=$OUT/index-$N.jsonl
[ -s "$recs" ] || { echo "bench/index.sh: making $N records of $DIM floats" >&2; make_records "$N" > "$recs" || exit 2; }
bytes=$(wc -c < "$recs")

# seconds of a command, wall clock
secs() {
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || return 1
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}

loader=$OUT/index-loader.py
cat > "$loader" <<'EOF'
# The python3 way: json.loads each line, numpy arrays, faiss IDMap(Flat IP).
import json, sys
import numpy as np
import faiss
ids, vecs = [], []
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    r = json.loads(line)
    ids.append(i + 1)
    vecs.append(r["embedding"])
x = np.asarray(vecs, dtype="float32")
index = faiss.IndexIDMap(faiss.IndexFlatIP(x.shape[1]))
index.add_with_ids(x, np.asarray(ids, dtype="int64"))
faiss.write_index(index, sys.argv[2])
EOF

echo "bench/index.sh: ingest" >&2
rm -rf "$OUT/kb-bench" "$OUT/kb-bench-flat"
t_ours=$(secs bin/rag-index -d "$OUT/kb-bench-flat" --type Flat "$recs") || { echo "rag-index failed" >&2; exit 2; }
rm -rf "$OUT/kb-bench-flat"
t_one=$(secs bin/rag-index -d "$OUT/kb-bench-flat" --type Flat --threads 1 "$recs") || { echo "rag-index failed" >&2; exit 2; }
t_default=$(secs bin/rag-index -d "$OUT/kb-bench" "$recs") || { echo "rag-index failed" >&2; exit 2; }
type_default=$(bin/rag-index -d "$OUT/kb-bench" --stats | jq -r .index_type)
t_py=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 secs $PY "$loader" "$recs" "$OUT/kb-bench-py.faiss") || exit 2
echo "bench/index.sh: re-run" >&2
t_rerun=$(secs bin/rag-index -d "$OUT/kb-bench" "$recs") || exit 2

echo "bench/index.sh: memory" >&2
mem=$OUT/index-$NMEM.jsonl
[ -s "$mem" ] || make_records "$NMEM" > "$mem" || exit 2
rm -rf "$OUT/kb-mem"
peak=$($PY - "$OUT/kb-mem" "$mem" <<'EOF'
import resource, subprocess, sys
subprocess.run(["bin/rag-index", "-d", sys.argv[1], sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
) || exit 2
vec_kb=$((NMEM * DIM * 4 / 1024))
type=$(bin/rag-index -d "$OUT/kb-mem" --stats | jq -r .index_type)

ratio=$(echo "$t_py / $t_ours" | bc -l)
rerun=$(echo "$t_rerun / $t_default" | bc -l)
memr=$(echo "$peak / $vec_kb" | bc -l)
fixed=65536
missed=0
pass() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo pass; else echo FAIL; missed=$((missed + 1)); fi; }
p1=$(pass "$ratio >= 2")
p2=$(pass "$rerun <= 0.10")
p3=$(pass "$peak <= 1.5 * $vec_kb + $fixed")

cat <<EOF
## rag-index benchmarks

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB;
SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || $PY -c 'import sqlite3; print(sqlite3.sqlite_version)'), faiss 1.7.3 (Debian); $N records of $DIM floats
($(echo "$bytes / 1048576" | bc) MiB of JSON lines, built-in embedder, 50 chunks a document).

| measurement | seconds | target | result |
|---|---:|---|---|
| \`rag-index -d kb --type Flat FILE\` (SQLite + FTS5 + faiss Flat, as the loader builds; reading thread + writing thread) | $(printf %.2f "$t_ours") | | |
| the same with \`--threads 1\` | $(printf %.2f "$t_one") | | |
| \`rag-index -d kb FILE\` (default type at this size: $type_default) | $(printf %.2f "$t_default") | | |
| python3 json.loads + numpy + faiss IDMap(FlatIP) (faiss only, no store) | $(printf %.2f "$t_py") | | |
| speed-up of rag-index | $(printf %.2f "$ratio")x | >= 2x | $p1 |
| re-run on the unchanged input | $(printf %.2f "$t_rerun") ($(printf %.1f "$(echo "$rerun * 100" | bc -l)")% of the first run) | <= 10% | $p2 |

Peak RSS indexing $NMEM records (default type chosen: $type): $peak KB; the vectors are $vec_kb KB
($(printf %.2f "$memr")x); target <= 1.5x vectors + 64 MB: $p3.

Commands: \`bin/rag-index -d DIR [--type Flat] FILE\`, \`/usr/bin/python3 $loader FILE OUT.faiss\` (OMP/OpenBLAS threads 1),
peak RSS as ru_maxrss of the child. Inputs: \`bench/index.sh\` makes them from the split benchmark's books.

EOF
[ "$missed" -eq 0 ]
