#!/usr/bin/env bats
# rag-query fed the wrong input, and stopped by a signal: one line naming
# what is wrong or what happened, records whole, the conventional status.

load helpers

setup_file() {
	KB="$BATS_FILE_TMPDIR/kb"
	rag-split "$DATA"/demo/* | rag-embed | rag-index -d "$KB"
	export KB
}

setup() {
	ragpipe_setup
}

@test "rag-query: a document or another stage's output stops at once with one line naming the right order" {
	run --separate-stderr rag-query -d "$KB" "$DATA/handbook.pdf"
	assert_failure 1
	assert_output ""
	assert_stderr_equal "rag-query: $DATA/handbook.pdf: a PDF document, not questions: rag-query reads questions, a line or {\"question\":...} each (echo QUESTION | rag-query -d DIR)"
	echo 'What is DenseNet?' | rag-query -d "$KB" >hits.jsonl
	run --separate-stderr rag-query -d "$KB" hits.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-query: hits.jsonl: rag-query's hits, not questions:"* ]] || fail "stderr: $stderr"
	rag-split "$DATA/plain.txt" | rag-embed >emb.jsonl
	run --separate-stderr rag-query -d "$KB" <emb.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-query: stdin: rag-embed's embedded chunks, not questions:"* ]] || fail "stderr: $stderr"
	# questions, plain or as records, are what it reads
	run --separate-stderr rag-query -d "$KB" <<<'{"question":"What is DenseNet?"}'
	assert_success
}

@test "rag-query: SIGINT, SIGTERM, SIGHUP while questions come: every record whole, one line, exit 128+N" {
	local sig pid num
	for sig in INT TERM HUP; do
		rm -f in
		mkfifo in
		rag-query -d "$KB" <in >out.jsonl 2>err &
		pid=$!
		exec 5>in
		for i in $(seq 40); do echo "What is DenseNet, question $i?"; done >&5
		sleep "0.$((RANDOM % 5))"
		kill -"$sig" "$pid"
		wait "$pid" && status=0 || status=$?
		exec 5>&-
		num=$(kill -l "$sig")
		[ "$status" = $((128 + num)) ] || fail "SIG$sig: exit $status: $(cat err)"
		assert_equal "$(cat err)" "rag-query: interrupted"
		jq -e -s 'all(.hits | length > 0)' out.jsonl >/dev/null || fail "SIG$sig: a record is not whole"
		[ -z "$(tail -c 1 out.jsonl)" ] || fail "SIG$sig: the output does not end with a newline"
	done
}
