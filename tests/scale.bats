#!/usr/bin/env bats
# Scale-out and batch use (ragpipe(7), examples/): shards built with GNU
# parallel and merged answer exactly as one index built serially; several
# shards queried without merging; examples/Makefile re-does only what
# changed; examples/cron/nightly never overlaps itself.

load helpers

EXAMPLES="$RAGPIPE_ROOT/examples"

# docs: a small tree of documents of several formats
make_docs() {
	mkdir -p docs/sub docs/zh
	cp "$DATA"/demo/quillsort.md "$DATA"/notes.md docs/
	cp "$DATA"/plain.txt "$DATA"/page.html docs/sub/
	cp "$DATA"/demo/cnn-zh.md docs/zh/
	cp "$DATA"/demo/cnn-architectures.pdf docs/
}

# questions, as rag-query reads them
questions() {
	printf '%s\n' "What is DenseNet?" "How does quillsort pick a pivot?" "卷积神经网络" "residual connections" \
		"plain text file" "what is in the notes"
}

# hits DIR... [OPTIONS]: the hits of every question, as "question rank id
# score" lines; hits that score 0 tie, in any order, and are left out
hits() {
	questions | rag-query "$@" -k 5 |
		jq -r '.question as $q | .hits[] | select(.score != 0) | "\($q)\t\(.rank)\t\(.id)\t\(.score)"'
}

@test "shards built with GNU parallel and merged answer exactly like one index built serially, Flat or IVF" {
	command -v parallel >/dev/null || skip "GNU parallel is not installed (make deps)"
	make_docs
	find docs -type f | LC_ALL=C sort >list
	# serially
	xargs rag-split <list | rag-embed | rag-index -d serial
	# in parallel, one shard per job slot, then merged
	parallel --will-cite -j 3 'rag-split {} | rag-embed | rag-index -d shards/{%}' <list
	[ "$(ls shards | wc -l)" -ge 2 ]
	rag-index -d kb --merge shards/*
	[ "$(rag-index -d kb --stats | jq -c '{documents, chunks, dimension, embedder}')" = \
	  "$(rag-index -d serial --stats | jq -c '{documents, chunks, dimension, embedder}')" ]
	for mode in vector bm25 hybrid; do
		hits -d serial --mode "$mode" >serial.$mode
		hits -d kb --mode "$mode" >merged.$mode
		[ -s serial.$mode ]
		diff serial.$mode merged.$mode
	done
	# an inverted file trains on the same sample whatever the order of the
	# rows: probing one list of four finds the same chunks
	rag-index -q -d serial --type IVF4,Flat
	rag-index -q -d kb --type IVF4,Flat
	hits -d serial --nprobe 1 >serial.ivf
	hits -d kb --nprobe 1 >merged.ivf
	[ -s serial.ivf ]
	diff serial.ivf merged.ivf
	# merging again changes nothing
	run --separate-stderr rag-index -d kb --summary --merge shards/*
	assert_success
	assert_jq '.[0].added == 0 and .[0].replaced == 0 and .[0].unchanged > 0'
}

@test "several shards queried together without merging find the same chunks with the same cosine scores" {
	command -v parallel >/dev/null || skip "GNU parallel is not installed (make deps)"
	make_docs
	find docs -type f | LC_ALL=C sort >list
	xargs rag-split <list | rag-embed | rag-index -d serial
	parallel --will-cite -j 2 'rag-split {} | rag-embed | rag-index -d shards/{%}' <list
	set -- $(for d in shards/*; do printf -- '-d %s ' "$d"; done)
	# vector scores are cosines, the question weighted by the statistics of
	# all the shards: they do not depend on how chunks are spread (chunks that
	# score 0 tie, in any order)
	hits -d serial --mode vector | cut -f 1,3,4 | LC_ALL=C sort >serial.hits
	hits "$@" --mode vector | cut -f 1,3,4 | LC_ALL=C sort >sharded.hits
	[ -s serial.hits ]
	diff serial.hits sharded.hits
}

@test "examples/Makefile: indexes a tree, then re-does only what changed; prunes what is gone; -j gives the same index" {
	make_docs
	run make -s -f "$EXAMPLES/Makefile" DOCS=docs KB=kb INDEX_FLAGS=--summary -j 3
	assert_success
	n=$(find docs -type f | wc -l)
	assert_line --partial "indexing $n changed document(s) into kb"
	assert_line "{\"added\":$n,\"replaced\":0,\"unchanged\":0,\"deleted\":0,\"chunks_added\":$(cat kb.work/docs/*.jsonl kb.work/docs/*/*.jsonl | wc -l)}"
	[ "$(rag-index -d kb --stats | jq .documents)" -eq "$n" ]
	g=$(rag-index -d kb --stats | jq .generation)

	# nothing changed: nothing is split, embedded or indexed
	run make -f "$EXAMPLES/Makefile" DOCS=docs KB=kb
	assert_success
	refute_output --partial rag-split
	refute_output --partial rag-index
	[ "$(rag-index -d kb --stats | jq .generation)" -eq "$g" ]

	# a touched document is split and embedded again, alone; its hash says unchanged
	sleep 1
	touch docs/notes.md
	run make -f "$EXAMPLES/Makefile" DOCS=docs KB=kb INDEX_FLAGS=--summary
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c 'rag-split')" -eq 1 ]
	assert_line --partial "rag-split  docs/notes.md | rag-embed"
	assert_line --partial "indexing 1 changed document(s) into kb"
	assert_line '{"added":0,"replaced":0,"unchanged":1,"deleted":0,"chunks_added":0}'
	[ "$(rag-index -d kb --stats | jq .generation)" -eq "$g" ]

	# a changed document is replaced; a removed one is pruned
	printf '\nA new closing paragraph about the zebra index.\n' >>docs/sub/plain.txt
	rm docs/zh/cnn-zh.md
	run make -f "$EXAMPLES/Makefile" DOCS=docs KB=kb INDEX_FLAGS=--summary
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c 'rag-split')" -eq 1 ]
	assert_line --partial '"replaced":1'
	assert_line --partial '"deleted":1'
	[ "$(rag-index -d kb --stats | jq .documents)" -eq $((n - 1)) ]
	[ ! -e kb.work/docs/zh/cnn-zh.md.jsonl ]
	questions | rag-query -d kb -k 1 | jq -e -s 'all(.hits[0].source != "docs/zh/cnn-zh.md")'
	echo "zebra index" | rag-query -d kb -k 1 | jq -e '.hits[0].source == "docs/sub/plain.txt"'

	# the same tree indexed with one job holds the same chunks
	make -s -f "$EXAMPLES/Makefile" DOCS=docs KB=kb1 -j 1 >/dev/null
	hits -d kb >parallel.hits
	hits -d kb1 >serial.hits
	diff parallel.hits serial.hits
}

@test "examples/Makefile: a failing document stops the run with an error and leaves no chunk file; the next run retries it" {
	make_docs
	cp "$DATA"/truncated.pdf docs/broken.pdf
	run make -s -f "$EXAMPLES/Makefile" DOCS=docs KB=kb -j 2
	assert_failure
	assert_output --partial "broken.pdf"
	[ ! -e kb.work/docs/broken.pdf.jsonl ]
	[ ! -e kb.work/docs/broken.pdf.jsonl.tmp ]
	rm docs/broken.pdf
	run make -s -f "$EXAMPLES/Makefile" DOCS=docs KB=kb
	assert_success
	[ "$(rag-index -d kb --stats | jq .documents)" -eq "$(find docs -type f | wc -l)" ]
}

@test "examples/cron/nightly: two runs at once never overlap; the second says so and exits 75; the log has both" {
	make_docs
	# a slow rag-split keeps the first run going
	mkdir slow
	printf '#!/bin/sh\nsleep 2\nexec "%s/bin/rag-split" "$@"\n' "$RAGPIPE_ROOT" >slow/rag-split
	chmod +x slow/rag-split
	PATH="$TMP/slow:$PATH" "$EXAMPLES/cron/nightly" -j 2 -l nightly.log docs kb &
	first=$!
	sleep 1
	run "$EXAMPLES/cron/nightly" -l nightly.log docs kb
	assert_failure 75
	wait "$first"
	grep -q 'another run is updating kb; not starting' nightly.log
	grep -q 'start: docs -> kb' nightly.log
	grep -q 'done: {"documents":' nightly.log
	[ "$(rag-index -d kb --stats | jq .documents)" -eq "$(find docs -type f | wc -l)" ]
	# once the first is over, a run goes ahead (and has nothing to do)
	run "$EXAMPLES/cron/nightly" -l nightly.log docs kb
	assert_success
	[ "$(grep -c 'start: ' nightly.log)" -eq 2 ]
}

@test "examples/cron/nightly: runs started in other directories name the sources the same; nothing is pruned or added again" {
	make_docs
	run "$EXAMPLES/cron/nightly" -l nightly.log docs kb
	assert_success
	before=$(rag-index -d kb --stats | jq -c '{documents, chunks, generation}')
	sources=$(sqlite3 kb/index.sqlite 'SELECT source FROM documents ORDER BY source' 2>/dev/null || true)
	run sh -c "cd / && '$EXAMPLES/cron/nightly' -l '$TMP/nightly.log' '$TMP/docs' '$TMP/kb'"
	assert_success
	run sh -c "cd '$TMP/docs' && '$EXAMPLES/cron/nightly' -l '$TMP/nightly.log' . ../kb"
	assert_success
	assert_equal "$(rag-index -d kb --stats | jq -c '{documents, chunks, generation}')" "$before"
	if [ -n "$sources" ]; then
		assert_equal "$(sqlite3 kb/index.sqlite 'SELECT source FROM documents ORDER BY source')" "$sources"
		[[ "$sources" == "$TMP/docs/"* ]] || fail "sources not absolute: $sources"
	fi
}

@test "examples/cron/nightly: a failure exits non-zero and is logged; usage errors exit 2" {
	run "$EXAMPLES/cron/nightly" -l nightly.log missing kb
	assert_failure 1
	grep -q 'missing: no such directory' nightly.log
	make_docs
	printf 'not an index\n' >kb
	run "$EXAMPLES/cron/nightly" -l nightly.log docs kb
	assert_failure
	run "$EXAMPLES/cron/nightly" docs
	assert_failure 2
	assert_output --partial usage
}

@test "lines as Hadoop Streaming writes them (a tab at the end) index like the plain ones" {
	rag-split "$DATA"/demo/quillsort.md "$DATA"/notes.md | rag-embed >chunks.jsonl
	sed 's/$/\t/' chunks.jsonl | rag-index -d hadoop
	rag-index -d plain <chunks.jsonl
	[ "$(rag-index -d hadoop --stats | jq -c 'del(.bytes)')" = "$(rag-index -d plain --stats | jq -c 'del(.bytes)')" ]
	hits -d hadoop >h1
	hits -d plain >h2
	diff h1 h2
}

@test "jobs run by GNU parallel (as with --sshlogin) feed one writer: each job's lines come back whole" {
	command -v parallel >/dev/null || skip "GNU parallel is not installed (make deps)"
	make_docs
	find docs -type f | LC_ALL=C sort >list
	xargs rag-split <list | rag-embed | rag-index -d serial
	# -S : is this machine over the same mechanism as other machines
	parallel --will-cite -j 3 -S : 'rag-split {} | rag-embed' <list | rag-index -d kb
	[ "$(rag-index -d kb --stats | jq -c '{documents, chunks}')" = \
	  "$(rag-index -d serial --stats | jq -c '{documents, chunks}')" ]
	hits -d serial >h1
	hits -d kb >h2
	diff h1 h2
}
