#!/usr/bin/env bats
# Every program under valgrind's memcheck on real input: no invalid read or
# write, no use of uninitialised memory, no leak. Skipped under sanitizers
# (the two do not mix).

load helpers
load server

vg() {
	valgrind -q --suppressions="$RAGPIPE_ROOT/tests/valgrind.supp" --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$@"
}

setup() {
	ragpipe_setup
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	if nm "$RAGPIPE_ROOT/bin/rag-split" 2>/dev/null | grep -q __asan_init; then
		skip "sanitizer build"
	fi
}

teardown() {
	server_stop_all
}

@test "valgrind: rag-split on every fixture format, native and langchain rules" {
	run --separate-stderr vg rag-split -s 200 -o 40 "$DATA"/handbook.pdf "$DATA"/zh.pdf "$DATA"/book.epub \
		"$DATA"/doc.xps "$DATA"/story.fb2 "$DATA"/book.mobi "$DATA"/page.html "$DATA"/notes.md \
		"$DATA"/bad-utf8.txt "$DATA"/empty.txt
	[ "$status" -ne 99 ] || fail "$stderr"
	assert_success
	run --separate-stderr vg rag-split --compat langchain -s 100 -o 20 "$DATA"/plain.txt "$DATA"/handbook.pdf
	[ "$status" -ne 99 ] || fail "$stderr"
	assert_success
}

@test "valgrind: rag-split error paths and parallel workers" {
	run --separate-stderr vg rag-split -j 2 "$DATA"/encrypted.pdf "$DATA"/truncated.pdf "$DATA"/noise.bin \
		"$DATA"/mini.pdf missing.pdf "$DATA"
	[ "$status" -ne 99 ] || fail "$stderr"
	assert_failure 1
}

@test "valgrind: rag-embed with the built-in embedder, bad lines included" {
	rag-split "$DATA"/demo/* > chunks.jsonl
	printf 'What is DenseNet?\n{"text":5}\nnot json {\n' >> chunks.jsonl
	run --separate-stderr vg rag-embed --dim 64 chunks.jsonl
	[ "$status" -ne 99 ] || fail "$stderr"
	assert_failure 1
}

@test "valgrind: rag-index create, re-run, delete, merge, rebuild" {
	rag-split "$DATA"/demo/* | rag-embed --dim 32 > emb.jsonl
	for args in "-d kb" "-d kb --summary" "-d kb --delete $DATA/demo/quillsort.md" "-d kb2 --merge kb" \
		    "-d kb --type IDMap,Flat --rebuild" "-d kb --stats"; do
		run --separate-stderr vg rag-index $args < emb.jsonl
		[ "$status" -ne 99 ] || fail "rag-index $args: $stderr"
		assert_success
	done
}

@test "valgrind: rag-answer, extractive and through a chat server (whole, streamed, history, a cut stream)" {
	rag-split "$DATA"/demo/* > chunks.jsonl
	{
		jq -sc '{question: "What does DenseNet concatenate?", hits: [.[] | {id, source, page, title, text}]}' chunks.jsonl
		jq -sc '{question: "稠密连接网络的增长率是什么？", hits: [.[] | {id, source, title, text}]}' chunks.jsonl
		printf '{"question":"q","hits":[]}\nnot json\n'
	} > hits.jsonl
	for args in "" "--text" "--sentences 1"; do
		run --separate-stderr vg rag-answer $args hits.jsonl
		[ "$status" -ne 99 ] || fail "rag-answer $args: $stderr"
		assert_failure 1
	done
	server_start --reply "DenseNet concatenates [1], not [40]." --fail cut@5
	for args in "--max-context 300" "--stream --history h.jsonl --param seed=1" "--text --history h.jsonl"; do
		run --separate-stderr vg rag-answer -u "$SERVER_URL" -m m $args hits.jsonl
		[ "$status" -ne 99 ] || fail "rag-answer $args: $stderr"
	done
	# the last run: the first question's stream was cut (status 3)
	assert_failure 3
	[ "$(wc -l < h.jsonl)" -eq 5 ]
}

@test "valgrind: rag-query in every mode, filters, MMR, bad lines, shards, an exact search without the faiss file" {
	rag-split -s 300 -o 120 "$DATA"/demo/* | rag-embed --dim 32 > emb.jsonl
	rag-index -d kb < emb.jsonl
	rag-index -d kb2 --merge kb
	printf '%s\n' 'What is DenseNet?' '{"id":1,"question":"residual block"}' '{"question":""}' 'not json {' '稠密连接网络' > q.txt
	for args in "" "--mode bm25" "--hybrid --mmr 0.5" "--hybrid --weights 1,1 --format text" \
		    "--source *.md --where seq=1 -k 2" "-d kb2 --min-score 0.1"; do
		run --separate-stderr vg rag-query -d kb $args q.txt
		[ "$status" -ne 99 ] || fail "rag-query $args: $stderr"
		assert_failure 1
	done
	rm kb/vectors-*.faiss
	run --separate-stderr vg rag-query -d kb -v q.txt
	[ "$status" -ne 99 ] || fail "$stderr"
	assert_failure 1
}
