#!/bin/sh
# bench/memory.sh - long-run memory of rag-embed and rag-index: 200000 chunk
# records embedded (built-in embedder), then indexed, while VmRSS is sampled
# from /proc every 0.2 s. Reports for each run the peak, and the slope of RSS
# against the records read over the second half of the input (least
# squares, in KB per 10000 records). Target: flat, |slope| below 1% of the
# peak per 10000 records. Markdown on stdout, progress on stderr; exit 0
# all targets met, 1 a target missed, 2 could not run.
#
#   BENCH_MEMORY_N   records (default 200000)
#   BENCH_OUT        scratch directory (default bench/out; this one writes memory/ there)

cd "$(dirname "$0")/.." || exit 2
OUT=${BENCH_OUT:-bench/out}
N=${BENCH_MEMORY_N:-200000}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
W=$OUT/memory
mkdir -p "$W" || exit 2

for t in bin/rag-split bin/rag-embed bin/rag-index; do
	[ -x "$t" ] || { echo "bench/memory.sh: $t missing (make)" >&2; exit 2; }
done

# Real chunk texts: the split benchmark's books (English, Chinese), as
# bench/index.sh takes them.
src=$OUT/index-chunks.jsonl
if [ ! -s "$src" ]; then
	echo "bench/memory.sh: splitting the split benchmark's books" >&2
	for b in book-100 en-300 zh-300; do
		[ -s "$OUT/$b.pdf" ] || sh bench/split.sh > /dev/null 2>&1 || true
	done
	bin/rag-split "$OUT"/book-100.pdf "$OUT"/en-300.pdf "$OUT"/zh-300.pdf > "$src" || exit 2
fi

# N records cycling through them, each its own id (50 chunks a document).
chunks=$W/chunks-$N.jsonl
if [ ! -s "$chunks" ]; then
	echo "bench/memory.sh: making $N chunk records" >&2
	"$PY" - "$src" "$N" > "$chunks" <<'EOF' || exit 2
import json, sys
base = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
out = sys.stdout
for i in range(int(sys.argv[2])):
    c = dict(base[i % len(base)])
    c["source"] = "doc%06d.pdf" % (i // 50)
    c["id"] = "%s#%d" % (c["source"], i % 50 + 1)
    c["seq"] = i % 50 + 1
    c["doc"] = "%064x" % (i // 50)
    out.write(json.dumps(c, ensure_ascii=False) + "\n")
EOF
fi

# run NAME INPUT OUTPUT CMD...: feed INPUT's lines into CMD's stdin (counting
# them), its stdout to OUTPUT, and sample VmRSS every 0.2 s. Writes the
# samples (seconds, VmRSS KB, records fed) to $W/rss-NAME.tsv and prints
#   records N seconds S rate R peak_kb K half_kb K input_end_kb K slope X pct P after_peak_kb K
# (half: at half the input; input_end: when the last record was fed;
# slope: KB per 10000 records over the second half; pct: slope / peak, %;
# after_peak: the highest RSS sampled after the input ended).
run() {
	"$PY" - "$W/rss-$1.tsv" "$2" "$3" "$W/$1.err" "$@" <<'EOF'
import os, subprocess, sys, threading, time
tsv, inp, outp, errp = sys.argv[1:5]
cmd = sys.argv[8:]
fed = 0
done_at = None

def feed(pipe):
    global fed, done_at
    with open(inp, "rb") as f:
        buf = []
        for line in f:
            buf.append(line)
            if len(buf) == 256:
                pipe.write(b"".join(buf))
                fed += len(buf)
                buf = []
        pipe.write(b"".join(buf))
        fed += len(buf)
    pipe.close()
    done_at = time.monotonic()

def vm(pid):
    """VmRSS and VmHWM of pid in KB, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            st = dict(line.split(":", 1) for line in f if ":" in line)
        return int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])
    except (OSError, KeyError):
        return None

with open(outp, "wb") as out, open(errp, "wb") as err:
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err)
t0 = time.monotonic()
threading.Thread(target=feed, args=(p.stdin,), daemon=True).start()
samples, hwm, status = [], 0, None
while status is None:
    time.sleep(0.2)
    m = vm(p.pid)
    pid, st, _ = os.wait4(p.pid, os.WNOHANG)
    if pid:
        status = os.waitstatus_to_exitcode(st)
    elif m:
        hwm = max(hwm, m[1])
        samples.append((time.monotonic() - t0, m[0], fed, done_at is not None))
T = time.monotonic() - t0
if status != 0:
    sys.exit("bench/memory.sh: exit status %d: %s (see %s)" % (status, " ".join(cmd), errp))
with open(tsv, "w") as f:
    for t, rss, n, _ in samples:
        f.write("%.2f\t%d\t%d\n" % (t, rss, n))
n = fed
ingest = [s for s in samples if not s[3]]
half = [s for s in ingest if s[2] >= n / 2]
if len(half) < 5:
    sys.exit("bench/memory.sh: too few samples in the second half (%d): %s" % (len(half), " ".join(cmd)))
mx = sum(s[2] for s in half) / len(half)
my = sum(s[1] for s in half) / len(half)
sxx = sum((s[2] - mx) ** 2 for s in half)
slope = sum((s[2] - mx) * (s[1] - my) for s in half) / sxx * 10000 if sxx else 0.0
after = [s[1] for s in samples if s[3]]
print("records %d seconds %.1f rate %.0f peak_kb %d half_kb %d input_end_kb %d slope %.1f pct %.3f after_peak_kb %d"
      % (n, T, n / T, hwm, half[0][1], ingest[-1][1], slope, 100 * slope / hwm, max(after) if after else 0))
EOF
}

field() { # field FILE NAME
	awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"
}

failed=0
row() { # row LABEL FILE
	pct=$(field "$2" pct)
	if awk -v p="$pct" 'BEGIN { exit !(p < 1 && p > -1) }'; then r=pass; else r=FAIL; failed=1; fi
	echo "| $1 | $(field "$2" records) | $(field "$2" seconds) | $(field "$2" rate) | $(field "$2" half_kb) | $(field "$2" input_end_kb) | $(field "$2" slope) | $(field "$2" peak_kb) | $pct% | $(field "$2" after_peak_kb) | < 1% | $r |"
}

echo "bench/memory.sh: rag-embed over $N records" >&2
run embed "$chunks" "$W/emb-$N.jsonl" bin/rag-embed --no-cache > "$W/embed.out" || exit 2
echo "bench/memory.sh: rag-index over $N records" >&2
rm -rf "$W/kb"
run index "$W/emb-$N.jsonl" /dev/null bin/rag-index -d "$W/kb" > "$W/index.out" || exit 2
type=$(bin/rag-index -d "$W/kb" --stats | sed -n 's/.*"index_type":"\([^"]*\)".*/\1/p')
# the embedded records and the index take about 2 GB: not kept
rm -rf "$W/kb" "$W/emb-$N.jsonl"

echo "## Memory over a long run"
echo
echo "$N chunk records (the split benchmark's books, cycled, each its own id, 50 to a"
echo "document) embedded with the built-in embedder (dimension 512), then indexed"
echo "(default type, here $type). The records are fed into the program's standard"
echo "input by the sampling process, which reads VmRSS from /proc/PID/status every"
echo "0.2 s with the number of records fed so far. *Slope*: least squares of RSS"
echo "against records over the second half of the input, in KB per 10000 records;"
echo "*peak*: the last VmHWM; *after input*: the highest RSS sampled after the last"
echo "record was fed (rag-index builds the faiss file then). Target: |slope| < 1% of"
echo "the peak per 10000 records."
echo
echo "Commands: \`bin/rag-embed --no-cache < chunks > emb\`, \`bin/rag-index -d kb < emb\`"
echo "(the sampler: bench/memory.sh; samples in $W/rss-embed.tsv and rss-index.tsv)."
echo
echo "| program | records | seconds | records/s | RSS at half KB | RSS at input end KB | slope KB/10k | peak KB | slope/peak per 10k | after input KB | target | result |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
row rag-embed "$W/embed.out"
row rag-index "$W/index.out"
echo
exit $failed
