#!/usr/bin/env bats
# Faults at the edges: an index directory that cannot be written, a server
# that accepts and never answers, a server that sends an endless answer.
# Each is a clear error with the documented status, in bounded time and
# memory, and nothing committed is lost. (A full disk is in rag-index.bats;
# the HTTP client's own timeouts and size limit in http.bats.)

load helpers
load server

teardown() {
	server_stop_all
}

# readonly_run CMD...: run CMD as the owner of a read-only directory sees it.
# Root passes over permissions (CAP_DAC_OVERRIDE), so as root the command
# runs without the capabilities that do that, still as root.
readonly_run() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --bounding-set=-dac_override,-dac_read_search,-fowner -- "$@"
	else
		"$@"
	fi
}

# dump DIR: the rows of the index, as a user could tell them apart.
dump() {
	python3 - "$1/index.sqlite" <<-'EOF'
	import sqlite3, sys
	db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
	for q in ("SELECT id, source, seq, text, hex(vec) FROM chunks ORDER BY id",
	          "SELECT source, doc, chunks FROM documents ORDER BY source",
	          "SELECT key, value FROM meta WHERE key IN ('chunks', 'embedder', 'dim') ORDER BY key"):
	    for row in db.execute(q):
	        print("|".join(map(str, row)))
	db.close()
	EOF
}

# no_cap_override: skip when root cannot give up passing over permissions.
no_cap_override() {
	if [ "$(id -u)" -eq 0 ]; then
		readonly_run true 2>/dev/null || skip "cannot drop CAP_DAC_OVERRIDE here (setpriv: $(readonly_run true 2>&1))"
	fi
}

@test "rag-index: a read-only index directory or database: a clear error, the index as it was, a re-run completes it" {
	no_cap_override
	rag-split "$DATA"/demo/* | rag-embed --dim 32 > emb.jsonl
	jq -c 'select(.source | endswith(".md"))' emb.jsonl | rag-index -d kb
	jq -c 'select(.source | endswith(".md"))' emb.jsonl | rag-index -d before
	rag-index -d ref < emb.jsonl
	# closed cleanly, and no reader since: the database, the lock, the faiss file
	[ "$(ls kb | tr '\n' ' ')" = "index.sqlite lock vectors-1.faiss " ]
	chmod 555 kb
	readonly_run touch kb/probe 2>/dev/null && fail "the directory is writable after all"
	run --separate-stderr readonly_run rag-index -d kb < emb.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-index: kb/index.sqlite: "*"attempt to write a readonly database" ]] || fail "stderr: $stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "more than one line: $stderr"
	chmod 755 kb
	chmod 444 kb/index.sqlite
	run --separate-stderr readonly_run rag-index -d kb < emb.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-index: kb/index.sqlite: "*"attempt to write a readonly database" ]] || fail "stderr: $stderr"
	chmod 644 kb/index.sqlite
	[ "$(dump kb)" = "$(dump before)" ] || fail "the index changed"
	[ "$(rag-index -d kb --stats | jq -c 'del(.bytes)')" = "$(rag-index -d before --stats | jq -c 'del(.bytes)')" ]
	run --separate-stderr rag-index -d kb < emb.jsonl
	assert_success
	[ "$(dump kb)" = "$(dump ref)" ] || fail "not the index a clean run builds"
}

@test "rag-index: a read-only directory whose database files are writable: the batch is kept, the faiss file fails clearly, a re-run completes it" {
	no_cap_override
	rag-split "$DATA"/demo/* | rag-embed --dim 32 > emb.jsonl
	jq -c 'select(.source | endswith(".md"))' emb.jsonl | rag-index -d kb
	rag-index -d ref < emb.jsonl
	# a reader that went away without closing leaves -wal and -shm behind
	python3 -c 'import sqlite3, os; db = sqlite3.connect("kb/index.sqlite"); db.execute("SELECT count(*) FROM chunks").fetchone(); os._exit(0)'
	[ -e kb/index.sqlite-wal ] && [ -e kb/index.sqlite-shm ]
	chmod 555 kb
	run --separate-stderr readonly_run rag-index -d kb < emb.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-index: "*"kb/vectors-2.faiss"*"Permission denied" ]] || fail "stderr: $stderr"
	chmod 755 kb
	# what was committed is there; the faiss file is behind, and readers say so
	run rag-index -d kb --stats
	[ "$(jl -c '[.documents, .chunks, .generation, .faiss_current]')" = "[3,15,2,false]" ]
	[ "$(dump kb)" = "$(dump ref)" ] || fail "the committed batch is not whole"
	run --separate-stderr rag-query -d kb -k 1 <<< "What is DenseNet?"
	assert_success
	[ "$(jl -r '.hits | length')" = 1 ]
	run --separate-stderr rag-index -d kb < emb.jsonl
	assert_success
	[ "$(rag-index -d kb --stats | jq -c '[.chunks, .faiss_current]')" = "[15,true]" ]
	[ "$(dump kb)" = "$(dump ref)" ]
}

@test "rag-embed: a server that accepts and never answers: timed out, retried as asked, a clear error, status 3" {
	server_start --fail hang:100
	printf '{"id":"a#1","text":"hello"}\n{"id":"a#2","text":"world"}\n' > in.jsonl
	SECONDS=0
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --no-cache --timeout 1 --retries 1 in.jsonl
	took=$SECONDS
	assert_failure 3
	[ -z "$output" ]
	[[ "$stderr" == "rag-embed: batch 1 (in.jsonl lines 1-2) failed: $SERVER_URL/embeddings: "*"timed out after 100"?" milliseconds"*"(gave up after 2 attempts)" ]] \
		|| fail "stderr: $stderr"
	[ "$(server_requests)" -eq 2 ]
	# two attempts of a second each, a short pause between them
	[ "$took" -le 10 ] || fail "took $took s"
}

@test "rag-embed: a server that sends an endless answer: cut off at 256 MB, not retried, status 3, memory bounded" {
	server_start --fail huge:100
	printf '{"id":"a#1","text":"hello"}\n' > in.jsonl
	SECONDS=0
	/usr/bin/time -f %M -o rss.txt rag-embed -u "$SERVER_URL" -m m --no-cache in.jsonl > out 2> err && fail "it succeeded"
	rc=$(sed -n 's/^Command exited with non-zero status //p' rss.txt)
	rss=$(tail -1 rss.txt)
	[ "$rc" -eq 3 ] || fail "status $rc: $(cat err)"
	[ ! -s out ]
	[ "$(cat err)" = "rag-embed: batch 1 (in.jsonl lines 1-1) failed: $SERVER_URL/embeddings: answer longer than 268435456 bytes, cut off there" ]
	[ "$(server_requests)" -eq 1 ]
	[ "$SECONDS" -le 60 ] || fail "took $SECONDS s"
	# the answer kept, and not much more (a sanitizer build has its shadow memory)
	limit=$((400 * 1024))
	nm "$RAGPIPE_ROOT/bin/rag-embed" | grep -q __asan_init && limit=$((1500 * 1024))
	[ "$rss" -le "$limit" ] || fail "peak RSS $rss KB"
}

@test "readers of an index in a read-only directory: --stats and rag-query read it as it is" {
	no_cap_override
	rag-split "$DATA"/demo/* | rag-embed > emb.jsonl
	rag-index -d kb < emb.jsonl
	rag-index -d ref < emb.jsonl
	chmod 555 kb
	run --separate-stderr readonly_run rag-index -d kb --stats
	assert_success
	[ "$(printf '%s\n' "$output" | jq -c 'del(.bytes)')" = "$(rag-index -d ref --stats | jq -c 'del(.bytes)')" ]
	run --separate-stderr readonly_run sh -c 'echo "What is DenseNet?" | rag-query -d kb -k 3'
	assert_success
	[ "$(printf '%s\n' "$output" | jq -c '[.hits[] | .id, .score]')" = \
	  "$(echo "What is DenseNet?" | rag-query -d ref -k 3 | jq -c '[.hits[] | .id, .score]')" ]
	chmod 755 kb
}
