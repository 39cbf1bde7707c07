#!/usr/bin/env bats
# rag-index at scale: SIGKILL at 100 random instants of multi-batch runs,
# and two writers with four readers on one index. After every kill the
# index opens, --stats agrees with what the database really holds, every
# document is whole and of one version, nothing committed is lost, and
# re-running the input completes it to exactly what a clean serial build
# gives. Readers never fail and never see part of a batch. Needs sqlite3
# (the CLI) to look into the database.

load helpers

K=5		# chunks per document
BATCH=25	# records per batch: exactly 5 documents

setup_file() {
	# make_docs PREFIX VERSION N: N documents of K chunks, text and doc hash
	# telling the version; made-up vectors under the built-in embedder's
	# name of dimension 8, so that rag-query can embed questions for them
	make_docs() {
		awk -v p="$1" -v v="$2" -v n="$3" -v k="$K" 'BEGIN {
			for (s = 1; s <= n; s++) for (c = 1; c <= k; c++) {
				printf "{\"id\":\"%s%03d#%d\",\"source\":\"%s%03d\",\"doc\":\"v%d-%s%03d\",\"seq\":%d,", p, s, c, p, s, v, p, s, c
				printf "\"text\":\"v%d chunk %d of %s%03d about topic%d and word%d\",\"embedding\":[", v, c, p, s, s % 17, c
				for (i = 0; i < 8; i++)
					printf "%s%.4f", i ? "," : "", ((s * 7 + c * 3 + i * 5 + v) % 11) / 10.0 - 0.5
				printf "],\"embedder\":\"ragpipe-lex1-8\"}\n"
			} }'
	}
	D=$BATS_FILE_TMPDIR
	make_docs s 1 100 > "$D/s1.jsonl"
	make_docs s 2 100 > "$D/s2.jsonl"
	for w in a b; do
		make_docs $w 1 100 > "$D/$w-1.jsonl"
		make_docs $w 2 100 > "$D/$w-2.jsonl"
	done
	export D
}

teardown() {
	local p
	if [ -f "$TMP/pids" ]; then
		while read -r p; do kill -9 "$p" 2>/dev/null || true; done < "$TMP/pids"
	fi
}

remember() {
	echo "$1" >> "$TMP/pids"
}

# feed FILE: its lines at about 2000 a second, so that a run lasts longer
# than the longest wait before a kill (perl: it starts at once).
feed() {
	perl -e '$| = 1; $SIG{PIPE} = sub { exit 0 }; while (<>) { print; select(undef, undef, undef, 0.0005) }' "$1"
}

# check DIR: --stats opens the index and agrees with its database; every
# document is whole (K chunks, all of its version); prints the number of
# documents of version 2, "documents chunks generation". (It returns 1 on
# a failure itself: a caller's `|| fail` turns off set -e inside it.)
check() {
	local st db
	st=$(rag-index -d "$1" --stats 2>&1) || { fail "--stats fails: $st"; return 1; }
	st=$(jq -r '"\(.documents) \(.chunks) \(.generation)"' <<< "$st")
	db=$(sqlite3 -readonly "$1/index.sqlite" "SELECT
		(SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM chunks) || ' '
		|| ifnull((SELECT value FROM meta WHERE key = 'generation'), 0);
		SELECT count(*) FROM fts_docsize;
		SELECT count(*) FROM documents d WHERE d.chunks != $K
			OR (SELECT count(*) FROM chunks c WHERE c.source = d.source) != $K
			OR EXISTS (SELECT 1 FROM chunks c WHERE c.source = d.source AND substr(c.text, 1, 2) != substr(d.doc, 1, 2));
		SELECT count(*) FROM documents WHERE doc LIKE 'v2-%'") || { fail "$1: cannot read the database"; return 1; }
	{
		read -r counts
		read -r fts
		read -r broken
		read -r v2
	} <<< "$db"
	[ "$counts" = "$st" ] || { fail "$1: --stats says $st (documents chunks generation), the database $counts"; return 1; }
	[ "$fts" = "$(cut -d' ' -f2 <<< "$counts")" ] || { fail "$1: $fts full-text rows, documents chunks generation $counts"; return 1; }
	[ "$broken" = 0 ] || { fail "$1: $broken documents not whole or of two versions"; return 1; }
	echo "$v2 $counts"
}

# dump DIR: everything a user can tell apart, row ids and times aside.
dump() {
	sqlite3 -readonly "$1/index.sqlite" \
		"SELECT id, source, seq, page, page_end, title, text, fields, hex(vec) FROM chunks ORDER BY id;
		 SELECT source, doc, chunks FROM documents ORDER BY source;
		 SELECT hash, df FROM terms ORDER BY hash;
		 SELECT key, value FROM meta WHERE key IN ('chunks', 'total_dl', 'embedder', 'dim') ORDER BY key"
}

@test "SIGKILL at 100 random instants: the index opens, --stats agrees with the database, nothing committed is lost, a re-run completes it" {
	rag-index -d ref --batch $BATCH < "$D/s2.jsonl"
	want=$(dump ref)
	rag-index -d empty < /dev/null
	rag-index -d v1 --batch $BATCH < "$D/s1.jsonl"
	kills=0 midway=0
	for round in $(seq 10); do
		# odd rounds replace version 1, even ones start from nothing
		rm -rf kb
		cp -r "$([ $((round % 2)) = 1 ] && echo v1 || echo empty)" kb
		done_before=0
		for i in $(seq 10); do
			feed "$D/s2.jsonl" | rag-index -d kb --batch $BATCH 2> err &
			pid=$!
			remember "$pid"
			printf -v t '0.%03d' $((RANDOM % 220))
			sleep "$t"
			alive=0
			kill -9 "$pid" 2>/dev/null && alive=1 kills=$((kills + 1))
			{ wait "$pid"; } 2>/dev/null || true
			r=$(check kb) || fail "round $round, kill $i after ${t}s: $r"
			read -r v2 docs chunks gen <<< "$r"
			# committed documents are never lost, and the count only goes up
			[ "$v2" -ge "$done_before" ] || fail "round $round, kill $i: $v2 documents of version 2, $done_before before"
			[ "$alive" = 1 ] && [ "$v2" -lt 100 ] && midway=$((midway + 1))
			done_before=$v2
		done
		run --separate-stderr rag-index -d kb --batch $BATCH < "$D/s2.jsonl"
		assert_success
		[ "$(dump kb)" = "$want" ] || fail "round $round: the re-run does not give the clean build: $(diff <(dump kb) <(echo "$want") | head -5)"
		run rag-index -d kb --stats
		[ "$(jl -c '[.documents, .chunks, .faiss_current]')" = "[100,500,true]" ] || fail "round $round: $output"
		files=(kb/vectors-*)
		[ "${#files[@]}" -eq 1 ] || fail "round $round: faiss files ${files[*]}"
	done
	# the kills really came while the runs were writing
	[ "$kills" -ge 90 ] || fail "only $kills of 100 kills found the process alive"
	[ "$midway" -ge 50 ] || fail "only $midway kills came before the run was through"
}

@test "two writers and four readers on one index: no error, no reader sees part of a batch, the end is the serial result" {
	bin_query=0
	[ -x "$RAGPIPE_ROOT/bin/rag-query" ] && bin_query=1
	rag-index -d kb < /dev/null
	deadline=$((SECONDS + ${CRASH_SECONDS:-60}))	# a minute, CRASH_SECONDS to change it
	for w in a b; do
		(
			# add version 1, replace it by version 2, delete it all; again
			n=0
			while [ $SECONDS -lt $deadline ]; do
				rag-index -d kb --batch $BATCH < "$D/$w-1.jsonl" || exit 1
				rag-index -d kb --batch $BATCH < "$D/$w-2.jsonl" || exit 1
				if [ $((n % 2)) = 0 ]; then
					rag-index -d kb --delete $(jq -r .source "$D/$w-1.jsonl" | sort -u) || exit 1
				fi
				n=$((n + 1))
			done
			rag-index -d kb --batch $BATCH < "$D/$w-2.jsonl" || exit 1
			echo "$n" > "writes-$w"
		) 2> "writer-$w.err" &
		remember $!
		eval "writer_$w=$!"
	done
	for r in 1 2 3 4; do
		(
			last=0 seen=0
			while kill -0 "$writer_a" 2>/dev/null || kill -0 "$writer_b" 2>/dev/null; do
				if [ "$bin_query" = 1 ] && [ "$r" -gt 2 ]; then
					# hits of one document are all of one version
					out=$(echo "topic$((RANDOM % 17)) word$((RANDOM % 5 + 1))" | rag-query -d kb -k 20 2>&1) \
						|| { echo "rag-query failed: $out"; exit 1; }
					jq -e '[.hits[] | {s: .source, v: .text[0:2]}] | group_by(.s) | all(map(.v) | unique | length == 1)' \
						<<< "$out" > /dev/null || { echo "a document of two versions: $out"; exit 1; }
				else
					out=$(rag-index -d kb --stats 2>&1) || { echo "--stats failed: $out"; exit 1; }
					# batches are whole documents, five at a time
					read -r docs chunks gen < <(jq -r '"\(.documents) \(.chunks) \(.generation)"' <<< "$out")
					[ "$chunks" -eq $((docs * K)) ] && [ $((docs % 5)) -eq 0 ] \
						|| { echo "part of a batch: $out"; exit 1; }
					[ "$gen" -ge "$last" ] || { echo "generation went back: $last, then $out"; exit 1; }
					last=$gen
				fi
				seen=$((seen + 1))
			done
			echo "$seen" > "reads-$r"
		) > "reader-$r.err" 2>&1 &
		remember $!
		eval "reader_$r=$!"
	done
	for w in a b; do
		eval "pid=\$writer_$w"
		wait "$pid" || fail "writer $w failed: $(cat "writer-$w.err")"
	done
	for r in 1 2 3 4; do
		eval "pid=\$reader_$r"
		wait "$pid" || fail "reader $r: $(cat "reader-$r.err")"
		[ "$(cat "reads-$r")" -ge 10 ] || fail "reader $r read only $(cat "reads-$r") times"
	done
	# both writers wrote several rounds, so they waited for each other
	[ "$(cat writes-a)" -ge 2 ] && [ "$(cat writes-b)" -ge 2 ] || fail "writes: $(cat writes-a) and $(cat writes-b)"
	check kb > /dev/null
	rag-index -d ref --batch $BATCH < "$D/a-2.jsonl"
	rag-index -d ref --batch $BATCH < "$D/b-2.jsonl"
	[ "$(dump kb)" = "$(dump ref)" ] || fail "not the serial result: $(diff <(dump kb) <(dump ref) | head -5)"
	run rag-index -d kb --stats
	[ "$(jl -c '[.documents, .chunks, .faiss_current]')" = "[200,1000,true]" ]
}
