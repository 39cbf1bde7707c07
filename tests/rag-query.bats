#!/usr/bin/env bats
# rag-query: questions -> hits from index directories (man/rag-query.1).
# Every option, every error the manual names, shards, filters inside the
# search, MMR merging overlapping neighbours, a faiss file missing, stale or
# corrupt, an index built through an embeddings server, and `| head -1`.

load helpers
load server

setup_file() {
	local d=$BATS_FILE_TMPDIR

	# the demo documents
	KB=$d/kb
	rag-split "$DATA"/demo/* | rag-embed | rag-index -d "$KB"
	# small chunks that overlap their neighbours
	OV=$d/ov
	rag-split -s 300 -o 120 "$DATA"/demo/cnn-architectures.pdf | rag-embed | rag-index -d "$OV"
	# 60 sources of 5 chunks, with fields of their own; two shards and the
	# same chunks in one index
	SYN=$d/syn.jsonl
	awk 'BEGIN { for (s = 1; s <= 60; s++) for (c = 1; c <= 5; c++)
		printf "{\"id\":\"/syn/s%03d.txt#%d\",\"source\":\"/syn/s%03d.txt\",\"doc\":\"h%03d\",\"seq\":%d,\"page\":%d,\"page_end\":%d,\"lang\":\"%s\",\"year\":%d,\"tags\":[\"t%d\",\"all\"],\"text\":\"chunk %d of document %d about topic%d and word%dx%d, alpha beta gamma\"}\n",
			s, c, s, s, c, c, c, (s % 3 ? "en" : "zh"), 2000 + s % 5, c, c, s, s % 7, s, c }' | rag-embed >"$SYN"
	ALL=$d/all
	SA=$d/sa
	SB=$d/sb
	rag-index -d "$ALL" "$SYN"
	jq -c 'select(.source < "/syn/s031")' "$SYN" | rag-index -d "$SA"
	jq -c 'select(.source >= "/syn/s031")' "$SYN" | rag-index -d "$SB"
	export KB OV SYN ALL SA SB
}

teardown() {
	server_stop_all
}

# ids of the hits of the first record of $output, one line
ids() {
	printf '%s\n' "$output" | head -1 | jq -r '[.hits[].id] | join(" ")'
}

# sig: the first record's hits as scores (5 decimals) and the ids of those
# that score above the last (chunks that tie may come in any order)
sig() {
	printf '%s\n' "$output" | head -1 |
		jq -c '[.hits[] | .score * 1e5 | round] as $s | [$s, ([.hits[] | select((.score * 1e5 | round) > $s[-1]) | .id] | sort)]'
}

# ---------------------------------------------------------------------------
# questions and hits

@test "a plain question: one record with the question and k=5 hits, best first, cosine scores" {
	run --separate-stderr rag-query -d "$KB" <<<"What is DenseNet?"
	assert_success
	assert_stderr_empty
	assert_jsonl
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	assert_jq '.[0].question == "What is DenseNet?" and (.[0].hits | length) == 5'
	assert_jq '[.[0].hits[] | .rank] == [1, 2, 3, 4, 5]'
	assert_jq 'all(.[0].hits[]; (.score | type) == "number" and .score >= -1 and .score <= 1)'
	assert_jq '[.[0].hits[].score] == ([.[0].hits[].score] | sort | reverse)'
	assert_jq 'all(.[0].hits[]; (.id | type) == "string" and (.source | type) == "string" and (.text | type) == "string")'
	assert_jq 'any(.[0].hits[0:2][]; .title == "3 DenseNet")'
	# a PDF's chunks have pages; Markdown's have none
	assert_jq 'all(.[0].hits[] | select(.source | endswith(".pdf")); .page >= 1 and .page_end >= .page)'
	assert_jq 'all(.[0].hits[] | select(.source | endswith(".md")); has("page") | not)'
}

@test "JSON questions keep their other fields; an old hits member is replaced" {
	run --separate-stderr rag-query -d "$KB" -k 2 <<'EOF'
{"id":"q1","question":"What is DenseNet?","user":{"n":1.50}}
{"hits":[1,2,3],"question":"residual block","id":"q2"}
EOF
	assert_success
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	# carried byte for byte, hits added last
	[[ "${lines[0]}" == '{"id":"q1","question":"What is DenseNet?","user":{"n":1.50},"hits":[{'* ]]
	assert_jq '.[1].id == "q2" and (.[1].hits | length) == 2 and (.[1].hits[0] | type) == "object"'
	run jq -r 'keys_unsorted | map(select(. == "hits")) | length' <<<"${lines[1]}"
	assert_output 1
}

@test "the chunk's own fields come with its hit" {
	run rag-query -d "$ALL" -k 1 <<<"chunk 3 of document 9 about topic2"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s009.txt#3" and .[0].hits[0].lang == "zh" and .[0].hits[0].year == 2004'
	assert_jq '.[0].hits[0].tags == ["t3", "all"] and .[0].hits[0].seq == 3'
}

@test "-k sets the number of hits; fewer when the index holds fewer" {
	run rag-query -d "$KB" -k 2 <<<"residual network"
	assert_success
	assert_jq '(.[0].hits | length) == 2'
	n=$(rag-index -d "$KB" --stats | jq .chunks)
	# every chunk has a vector; the default path returns only chunks with a question term
	run rag-query -d "$KB" -k 1000 --mode vector <<<"residual network"
	assert_success
	assert_jq "(.[0].hits | length) == $n"
	for bad in 0 -1 x 10001; do
		run --separate-stderr rag-query -d "$KB" -k "$bad" </dev/null
		assert_failure 2
		[[ "$stderr" == *"-k"* ]]
	done
}

@test "several files, and - for standard input, answered in order" {
	printf 'What is ResNet?\n' >a.txt
	printf 'quillsort\n' >b.txt
	run --separate-stderr rag-query -d "$KB" -k 1 a.txt - b.txt <<<"稠密连接网络"
	assert_success
	assert_jq '[.[].question] == ["What is ResNet?", "稠密连接网络", "quillsort"]'
	assert_jq '.[1].hits[0].source | endswith("cnn-zh.md")'
}

# ---------------------------------------------------------------------------
# modes

@test "--mode bm25: FTS5's ranking, positive scores, every hit holds a question word" {
	run --separate-stderr rag-query -d "$KB" --mode bm25 -k 3 <<<"quillsort lines"
	assert_success
	assert_jq '(.[0].hits | length) == 3 and all(.[0].hits[]; .score > 0)'
	assert_jq '[.[0].hits[].score] == ([.[0].hits[].score] | sort | reverse)'
	assert_jq 'all(.[0].hits[]; .text | test("quillsort|lines"; "i"))'
	# no word in common: no hits, still a record
	run rag-query -d "$KB" --mode bm25 <<<"zzzqqq"
	assert_success
	assert_jq '.[0].hits == []'
}

@test "no mode flag is the hybrid; --mode vector is the vector search alone" {
	run rag-query -d "$KB" -k 3 <<<"What is DenseNet?"
	assert_success
	a=$output
	run rag-query -d "$KB" -k 3 --mode hybrid <<<"What is DenseNet?"
	[ "$output" = "$a" ]
	assert_jq '[.[0].hits[].score | . * 1e6 | round] == ([1/61, 1/62, 1/63] | map(. * 1e6 | round))'
	run rag-query -d "$KB" -k 3 --mode vector <<<"What is DenseNet?"
	assert_success
	[ "$output" != "$a" ]
	assert_jq 'all(.[0].hits[]; .score > 0.05 and .score <= 1)'
}

@test "by default the exact match of a rare word comes first, and then what its other words bring" {
	# "document alpha" are in all 300 chunks, word17x3 in one: feedback
	# from it brings the chunks of its document, where the vector search
	# alone has only noise after it
	run rag-query -d "$ALL" -k 3 <<<"document alpha word17x3"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s017.txt#3" and all(.[0].hits[]; .source == "/syn/s017.txt")'
	run rag-query -d "$ALL" -k 3 --mode vector <<<"document alpha word17x3"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s017.txt#3" and all(.[0].hits[1:][]; .source != "/syn/s017.txt" and .score < 0.01)'
}

@test "the default ranking counts a chunk's title twice" {
	{
		printf '{"id":"b","source":"b.txt","text":"zebra about animals"}\n'
		printf '{"id":"a","source":"a.txt","title":"zebra","text":"about animals and plants"}\n'
		for i in 1 2 3 4 5 6; do printf '{"id":"f%d","source":"f%d.txt","text":"filler text number %d about rivers"}\n' $i $i $i; done
	} | rag-embed | rag-index -d kb
	run rag-query -d kb -k 2 <<<"zebra"
	assert_success
	assert_jq '[.[0].hits[].id] == ["a", "b"]'
	# FTS5's bm25() takes the title as text: the shorter chunk first
	run rag-query -d kb -k 2 --mode bm25 <<<"zebra"
	assert_jq '[.[0].hits[].id] == ["b", "a"]'
}

@test "the CJK words of a mixed question do not outweigh its other words by their many terms" {
	# four characters are 4 unigrams and 3 pairs, against 4 words
	{
		printf '{"id":"en","source":"en.txt","text":"smarthost exim4 relay passwd and other words here"}\n'
		printf '{"id":"zh","source":"zh.txt","text":"帳號密碼"}\n'
		for i in 1 2 3 4 5 6; do printf '{"id":"f%d","source":"f%d.txt","text":"filler text number %d about rivers 河流"}\n' $i $i $i; done
	} | rag-embed | rag-index -d kb
	run rag-query -d kb -k 2 <<<"smarthost exim4 relay passwd 帳號密碼"
	assert_success
	assert_jq '[.[0].hits[].id] == ["en", "zh"]'
}

@test "feedback: the best chunks' rare words bring their other chunks, not the words every chunk has" {
	w="alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec"
	w="$w romeo sierra tango uniform victor whiskey xray yankee"
	{
		printf '{"id":"t","source":"t.txt","text":"quasar xylophone %s %s"}\n' "$w" "$w"
		for i in 1 2 3 4 5 6; do printf '{"id":"f%d","source":"f%d.txt","text":"%s"}\n' $i $i "$w"; done
		printf '{"id":"c","source":"c.txt","text":"xylophone %s"}\n' "$w"
	} | rag-embed | rag-index -d kb
	run rag-query -d kb -k 3 <<<"quasar"
	assert_success
	assert_jq '[.[0].hits[].id] == ["t", "c"]'
}

@test "feedback: the best chunk's words weigh more than a weaker one's" {
	# linear weights would favour ocarina (3 times in t2) over marimba (once in t1)
	{
		printf '{"id":"t1","source":"t1.txt","text":"quasar nebula marimba one two three"}\n'
		printf '{"id":"t2","source":"t2.txt","text":"nebula ocarina ocarina ocarina four five"}\n'
		printf '{"id":"c1","source":"c1.txt","text":"marimba six seven"}\n'
		printf '{"id":"c2","source":"c2.txt","text":"ocarina eight nine"}\n'
		for i in 1 2 3 4 5 6; do printf '{"id":"f%d","source":"f%d.txt","text":"filler words number %d"}\n' $i $i $i; done
	} | rag-embed | rag-index -d kb
	run rag-query -d kb -k 4 <<<"quasar nebula"
	assert_success
	assert_jq '[.[0].hits[].id] == ["t1", "t2", "c1", "c2"]'
}

@test "--mode hybrid and --hybrid are the same; scores are reciprocal rank fusion" {
	run rag-query -d "$KB" --hybrid <<<"What is DenseNet?"
	assert_success
	a=$output
	run rag-query -d "$KB" --mode hybrid <<<"What is DenseNet?"
	[ "$output" = "$a" ]
	# the built-in embedder's default weights 0,1: 1/(60 + lexical rank)
	assert_jq '[.[0].hits[].score] == [1/61, 1/62, 1/63, 1/64, 1/65] | not'
	assert_jq '[.[0].hits[].score | . * 1e6 | round] == ([1/61, 1/62, 1/63, 1/64, 1/65] | map(. * 1e6 | round))'
	run --separate-stderr rag-query -d "$KB" --hybrid --mode bm25 </dev/null
	assert_failure 2
	[[ "$stderr" == *"--hybrid and --mode bm25"* ]]
	run --separate-stderr rag-query -d "$KB" --mode fuzzy </dev/null
	assert_failure 2
	[[ "$stderr" == *"--mode: 'fuzzy'"* ]]
}

@test "words in most chunks: left out of the search while a rarer one is asked, used when there is none" {
	# "alpha beta gamma" and "document" are in all 300 chunks, word17x3 in one
	run --separate-stderr rag-query -d "$ALL" --mode bm25 <<<"document alpha word17x3"
	assert_success
	assert_jq '[.[0].hits[].id] == ["/syn/s017.txt#3"]'
	run --separate-stderr rag-query -d "$ALL" --mode hybrid <<<"document alpha word17x3"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s017.txt#3" and (.[0].hits | length) == 5'
	for mode in bm25 hybrid; do
		run --separate-stderr rag-query -d "$ALL" --mode $mode -k 4 <<<"alpha beta gamma"
		assert_success
		assert_jq '(.[0].hits | length) == 4 and all(.[0].hits[]; .score > 0)'
	done
}

@test "--weights: 1,0 ranks as the vector list, 0,1 as the lexical one; --rrf-k sets the constant" {
	run rag-query -d "$KB" -k 3 --mode vector <<<"residual block shortcut"
	vec=$(ids)
	run rag-query -d "$KB" -k 3 --hybrid --weights 1,0 <<<"residual block shortcut"
	assert_success
	[ "$(ids)" = "$vec" ]
	assert_jq '[.[0].hits[].score | . * 1e6 | round] == ([1/61, 1/62, 1/63] | map(. * 1e6 | round))'
	run rag-query -d "$KB" -k 3 --hybrid --weights 2,1 --rrf-k 1 <<<"residual block shortcut"
	assert_success
	assert_jq '.[0].hits[0].score <= 2/2 + 1/2 and .[0].hits[0].score > 0.5'
	for bad in 1 a,b 0,0 -1,1 1,2,3; do
		run --separate-stderr rag-query -d "$KB" --hybrid --weights "$bad" </dev/null
		assert_failure 2
		[[ "$stderr" == *"--weights"* ]]
	done
	# the default mode is the hybrid: --weights needs no --hybrid
	run rag-query -d "$KB" -k 3 --weights 1,0 <<<"residual block shortcut"
	assert_success
	[ "$(ids)" = "$vec" ]
	run --separate-stderr rag-query -d "$KB" --mode vector --weights 1,1 </dev/null
	assert_failure 2
	[[ "$stderr" == *"--weights goes with the hybrid mode, not --mode vector"* ]]
	run --separate-stderr rag-query -d "$KB" --mode bm25 --rrf-k 10 </dev/null
	assert_failure 2
}

@test "--min-score leaves out hits below it, in every mode" {
	run rag-query -d "$KB" -k 10 <<<"What is DenseNet?"
	mid=$(jl '.hits[2].score')
	run rag-query -d "$KB" -k 10 --min-score "$mid" <<<"What is DenseNet?"
	assert_success
	assert_jq "(.[0].hits | length) == 3 and all(.[0].hits[]; .score >= $mid)"
	run rag-query -d "$KB" --min-score 1.5 <<<"What is DenseNet?"
	assert_jq '.[0].hits == []'
	run rag-query -d "$KB" --mode bm25 --min-score 0.5 -k 10 <<<"DenseNet"
	assert_jq 'all(.[0].hits[]; .score >= 0.5) and (.[0].hits | length) >= 1'
	run rag-query -d "$KB" --hybrid --min-score 0.0161 -k 10 <<<"DenseNet"
	assert_jq '(.[0].hits | length) == 2'
	run --separate-stderr rag-query -d "$KB" --min-score abc </dev/null
	assert_failure 2
}

# ---------------------------------------------------------------------------
# MMR

@test "--mmr: overlapping neighbours come as one merged hit, not twice" {
	q="A residual block computes a small correction F(x) with two or three convolution layers"
	run rag-query -d "$OV" -k 3 --mode bm25 <<<"$q"
	assert_success
	# without MMR the two chunks that share the sentence are both there
	assert_jq '[.[0].hits[0:2][] | .id | sub(".*/"; "")] == ["cnn-architectures.pdf#6", "cnn-architectures.pdf#7"]'
	run rag-query -d "$OV" -k 3 --mode bm25 --mmr <<<"$q"
	assert_success
	assert_jq '(.[0].hits | length) == 3'
	assert_jq '(.[0].hits[0].id | endswith("cnn-architectures.pdf#6")) and (.[0].hits[0].merged | length == 1 and (.[0] | endswith("cnn-architectures.pdf#7")))'
	assert_jq '.[0].hits[0].text | contains("so the block outputs x + F(x)") and contains("which is easy")'
	# the merged text holds both once: the shared sentence is not repeated
	assert_jq '[.[0].hits[] | select(.merged) | .text | [match("A residual block computes"; "g")] | length] | all(. == 1)'
	assert_jq '[.[0].hits[] | .id] | unique | length == 3'
}

@test "--mmr LAMBDA: 1 is plain relevance, lower values prefer variety; --fetch-k bounds the candidates" {
	run rag-query -d "$ALL" -k 4 <<<"document 7 about topic0"
	plain=$(ids)
	run rag-query -d "$ALL" -k 4 --mmr 1 <<<"document 7 about topic0"
	assert_success
	[ "$(ids)" = "$plain" ]
	run rag-query -d "$ALL" -k 4 --mmr=0.1 <<<"document 7 about topic0"
	assert_success
	[ "$(ids)" != "$plain" ]
	assert_jq '(.[0].hits | length) == 4'
	run rag-query -d "$ALL" -k 4 --mmr 0.5 --fetch-k 4 <<<"document 7 about topic0"
	assert_success
	[ "$(printf '%s\n' "$(ids)" | tr ' ' '\n' | sort)" = "$(printf '%s\n' "$plain" | tr ' ' '\n' | sort)" ]
	run --separate-stderr rag-query -d "$ALL" --mmr=2 </dev/null
	assert_failure 2
	run --separate-stderr rag-query -d "$ALL" --fetch-k 10 </dev/null
	assert_failure 2
	[[ "$stderr" == *"--fetch-k goes with --mmr"* ]]
}

# ---------------------------------------------------------------------------
# filters

@test "--source GLOB: only matching sources, several patterns are alternatives" {
	run rag-query -d "$ALL" -k 5 --source '/syn/s01[0-2].txt' <<<"alpha beta"
	assert_success
	assert_jq '(.[0].hits | length) == 5 and all(.[0].hits[]; .source | test("^/syn/s01[0-2]\\.txt$"))'
	run rag-query -d "$ALL" -k 10 --source '*s001*' --source '*s060*' <<<"alpha"
	assert_jq '(.[0].hits | length) == 10 and ([.[0].hits[].source] | unique) == ["/syn/s001.txt", "/syn/s060.txt"]'
	run rag-query -d "$ALL" --source 'nothing*' <<<"alpha"
	assert_success
	assert_jq '.[0].hits == []'
}

@test "filters are applied inside the search: k hits even when almost every chunk is excluded, in each mode" {
	# the 5 chunks of one source out of 300 chunks; the question favours others
	for m in vector bm25 hybrid; do
		run --separate-stderr rag-query -d "$ALL" --mode "$m" -k 5 --source /syn/s042.txt <<<"document 7 about topic0"
		assert_success
		assert_jq '(.[0].hits | length) == 5 and all(.[0].hits[]; .source == "/syn/s042.txt")'
	done
	# on an IVF index searching few lists
	rag-index -d all-ivf --merge "$ALL"
	rag-index -d all-ivf --type IVF4,Flat --rebuild 2>/dev/null
	run rag-query -d all-ivf --nprobe 1 -k 5 --source /syn/s042.txt <<<"document 7 about topic0"
	assert_success
	assert_jq '(.[0].hits | length) == 5 and all(.[0].hits[]; .source == "/syn/s042.txt")'
}

@test "--where FIELD=VALUE: the chunk's own fields and its columns, all must hold" {
	run rag-query -d "$ALL" -k 300 --where lang=zh <<<"alpha"
	assert_success
	assert_jq '(.[0].hits | length) == 100 and all(.[0].hits[]; .lang == "zh")'
	run rag-query -d "$ALL" -k 300 --where lang=zh --where year=2003 --where seq=2 <<<"alpha"
	assert_jq '(.[0].hits | length) == 4 and all(.[0].hits[]; .lang == "zh" and .year == 2003 and .seq == 2)'
	# numbers compare as numbers, arrays by any element
	run rag-query -d "$ALL" -k 300 --where year=2003.0 --where tags=t5 <<<"alpha"
	assert_jq '(.[0].hits | length) == 12 and all(.[0].hits[]; .year == 2003 and .seq == 5)'
	run rag-query -d "$ALL" -k 300 --where page=4 --where source=/syn/s007.txt <<<"alpha"
	assert_jq '(.[0].hits | length) == 1 and .[0].hits[0].id == "/syn/s007.txt#4"'
	run rag-query -d "$ALL" --where nosuch=1 <<<"alpha"
	assert_jq '.[0].hits == []'
	run --separate-stderr rag-query -d "$ALL" --where lang <<<"alpha"
	assert_failure 2
	[[ "$stderr" == *"--where: 'lang' is not FIELD=VALUE"* ]]
	run --separate-stderr rag-query -d "$ALL" --where =zh </dev/null
	assert_failure 2
}

# ---------------------------------------------------------------------------
# output

@test "--format text: rank, score, source:page, title and a trimmed passage" {
	run --separate-stderr rag-query -d "$KB" -k 2 --format text <<<"What is DenseNet?"
	assert_success
	[ "${lines[0]}" = "What is DenseNet?" ]
	[[ "${lines[1]}" =~ ^\ \ 1\.\ 0\.[0-9]{4}\ \ [^\ ]*/demo/cnn-architectures\.pdf:[0-9]+\ \ [^\ ] ]]
	[[ "${lines[1]}" == *"DenseNet"* || "${lines[1]}" == *"Choosing"* ]]
	[[ "${lines[2]}" =~ ^\ {5}[^\ ] ]]
	[ "${#lines[2]}" -le 220 ]
	[[ "${lines[3]}" =~ ^\ \ 2\. ]]
	run rag-query -d "$KB" --format text --mode bm25 <<<"zzzqqq"
	assert_line -n 1 "   (no hits)"
	run --separate-stderr rag-query -d "$KB" --format xml </dev/null
	assert_failure 2
}

@test "| head -1 ends quietly" {
	for i in $(seq 300); do echo "question $i about DenseNet"; done >q.txt
	run --separate-stderr bash -c "rag-query -d '$KB' q.txt | head -1"
	assert_success
	assert_stderr_empty
	run bash -c "rag-query -d '$KB' < q.txt | head -1 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output 0
}

# ---------------------------------------------------------------------------
# IVF, nprobe, the faiss file

@test "--nprobe: more lists, closer to the exact search; all lists give it; a Flat index says it ignores it" {
	rag-index -d ivf --merge "$ALL"
	rag-index -d ivf --type IVF8,Flat --rebuild 2>/dev/null
	run rag-query -d "$ALL" -k 10 <<<"document 33 about topic5 word33x2"
	exact=$(sig)
	run --separate-stderr rag-query -d ivf -k 10 --nprobe 8 -v <<<"document 33 about topic5 word33x2"
	assert_success
	[ "$(sig)" = "$exact" ]
	[[ "$stderr" == *"IVF8,Flat, 8 lists (memory-mapped), nprobe 8"* ]]
	run --separate-stderr rag-query -d ivf -k 10 --nprobe 1 -v <<<"document 33 about topic5 word33x2"
	assert_success
	[[ "$stderr" == *"nprobe 1"* ]]
	assert_jq '(.[0].hits | length) == 10'
	run --separate-stderr rag-query -d ivf -v <<<"x"
	[[ "$stderr" == *"nprobe 4"* ]]
	run --separate-stderr rag-query -d "$KB" --nprobe 4 <<<"DenseNet"
	assert_success
	[[ "$stderr" == *"--nprobe: $KB is not an inverted file (Flat)"* ]]
	run --separate-stderr rag-query -d "$KB" --nprobe 0 </dev/null
	assert_failure 2
}

@test "a missing or stale faiss file: the same hits from an exact search of the stored vectors (-v says so)" {
	rag-index -d kb --merge "$ALL"
	run rag-query -d kb -k 8 <<<"document 12 about topic5"
	want=$output
	f=$(ls kb/vectors-*.faiss)
	mv "$f" saved.faiss
	run --separate-stderr rag-query -d kb -k 8 -v <<<"document 12 about topic5"
	assert_success
	[ "$output" = "$want" ]
	[[ "$stderr" == *"no faiss file for generation"*"exact search over the stored vectors"* ]]
	# an older generation's file is never used: it names other chunks
	rag-index -d kb --delete /syn/s012.txt
	g=$(rag-index -d kb --stats | jq .generation)
	rm -f kb/vectors-*.faiss
	cp saved.faiss "kb/vectors-$((g - 1)).faiss"
	run --separate-stderr rag-query -d kb -k 8 -v <<<"document 12 about topic5"
	assert_success
	assert_jq 'all(.[0].hits[]; .source != "/syn/s012.txt") and (.[0].hits | length) == 8'
	[[ "$stderr" == *"exact search"* ]]
}

@test "a corrupt faiss file: a warning, and the hits of an exact search" {
	rag-index -d kb --merge "$ALL"
	run rag-query -d kb -k 5 <<<"document 12 about topic5"
	want=$output
	f=$(ls kb/vectors-*.faiss)
	head -c 100 "$f" >cut && mv cut "$f"
	# (a sanitizer build: faiss leaks what it read of a cut file)
	export LSAN_OPTIONS=suppressions=$RAGPIPE_ROOT/tests/lsan.supp:print_suppressions=0
	run --separate-stderr rag-query -d kb -k 5 <<<"document 12 about topic5"
	assert_success
	[ "$output" = "$want" ]
	[[ "$stderr" == *"$f: cannot read it"*"exact search"* ]]
	run --separate-stderr rag-query -q -d kb -k 5 <<<"document 12 about topic5"
	assert_stderr_empty
}

@test "a reader sees a consistent snapshot and never waits for a writer" {
	rag-index -d kb --merge "$SA"
	# a writer holding the lock and an open write transaction
	python3 - kb <<'EOF' &
import sqlite3, sys, time, fcntl
lock = open(sys.argv[1] + "/lock", "w")
fcntl.flock(lock, fcntl.LOCK_EX)
db = sqlite3.connect(sys.argv[1] + "/index.sqlite", isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE chunks SET text = 'half written' WHERE rid = 1")
open(sys.argv[1] + "/held", "w").close()
time.sleep(30)
EOF
	pid=$!
	for i in $(seq 100); do [ -f kb/held ] && break; sleep 0.1; done
	[ -f kb/held ]
	SECONDS=0
	run --separate-stderr timeout 10 rag-query -d kb -k 300 --mode bm25 <<<"alpha"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	assert_success
	[ "$SECONDS" -lt 5 ]
	assert_jq '(.[0].hits | length) == 150 and all(.[0].hits[]; .text != "half written")'
}

# ---------------------------------------------------------------------------
# shards

@test "several -d: the shards answer as the one index holding them all" {
	for m in vector hybrid; do
		run rag-query -d "$ALL" --mode "$m" -k 8 <<<"document 40 about topic5 word40x3"
		one=$(sig)
		run --separate-stderr rag-query -d "$SA" -d "$SB" --mode "$m" -k 8 <<<"document 40 about topic5 word40x3"
		assert_success
		[ "$(sig)" = "$one" ]
	done
	# bm25: merged by FTS5's scores; both shards contribute
	run rag-query -d "$SA" -d "$SB" --mode bm25 -k 10 <<<"document 40 word3x1 topic1"
	assert_success
	assert_jq '[.[0].hits[].score] == ([.[0].hits[].score] | sort | reverse)'
	assert_jq '[.[0].hits[].source] | any(. < "/syn/s031") and any(. >= "/syn/s031")'
}

@test "several -d: a chunk in two shards comes once; shards of different embedders are refused" {
	run rag-query -d "$ALL" -d "$SA" -k 10 <<<"document 12 about topic5"
	assert_success
	assert_jq '([.[0].hits[].id] | unique | length) == 10'
	rag-split "$DATA"/demo/quillsort.md | rag-embed --dim 64 | rag-index -d small
	run --separate-stderr rag-query -d "$ALL" -d small <<<"x"
	assert_failure 4
	[[ "$stderr" == *"$ALL was built with ragpipe-lex1-512 (dimension 512) but small with ragpipe-lex1-64 (dimension 64)"* ]]
}

# ---------------------------------------------------------------------------
# errors

@test "a missing, empty or corrupt index directory: one line naming it, status 4" {
	run --separate-stderr rag-query -d nosuch <<<"x"
	assert_failure 4
	assert_output ""
	[ "$stderr" = "rag-query: nosuch: No such file or directory" ]
	mkdir empty
	run --separate-stderr rag-query -d empty <<<"x"
	assert_failure 4
	[ "$stderr" = "rag-query: empty: not an index (no index.sqlite)" ]
	mkdir bad
	head -c 5000 /dev/urandom >bad/index.sqlite
	run --separate-stderr rag-query -d bad <<<"x"
	assert_failure 4
	[[ "$stderr" == "rag-query: bad"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	run --separate-stderr rag-query <<<"x"
	assert_failure 2
	[[ "$stderr" == *"no index directory (-d DIR)"* ]]
}

@test "empty questions, malformed lines and questions that are not strings: errors with line numbers, the rest answered, status 1" {
	printf '%s\n' 'What is DenseNet?' '{"question":""}' '{"question": 5}' '{"question":"ok" ' '   ' \
		'{"id":1}' '{"question":"  \t "}' 'ResNet' >q.txt
	printf 'bad \xff utf8\n' >>q.txt
	run --separate-stderr rag-query -d "$KB" -k 1 q.txt
	assert_failure 1
	assert_jq '[.[].question] == ["What is DenseNet?", "ResNet"]'
	[[ "$stderr" == *"q.txt: line 2: empty question"* ]]
	[[ "$stderr" == *"q.txt: line 3: no \"question\" string"* ]]
	[[ "$stderr" == *"q.txt: line 4: "* ]]
	[[ "$stderr" == *"q.txt: line 6: no \"question\" string"* ]]
	[[ "$stderr" == *"q.txt: line 7: empty question"* ]]
	[[ "$stderr" == *"q.txt: line 9: "* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 6 ]
	run --separate-stderr rag-query -d "$KB" missing.txt
	assert_failure 1
	[[ "$stderr" == *"missing.txt: No such file or directory"* ]]
}

@test "an embedder forced on the command line that is not the index's is refused" {
	run --separate-stderr rag-query -d "$KB" -e ragpipe-lex1-256 <<<"x"
	assert_failure 2
	assert_output ""
	[[ "$stderr" == *"$KB was built with ragpipe-lex1-512, not ragpipe-lex1-256 (-e)"* ]]
	run --separate-stderr rag-query -d "$KB" -e ragpipe-lex1-512 <<<"DenseNet"
	assert_success
	run --separate-stderr rag-query -d "$KB" -m nomic-embed-text <<<"x"
	assert_failure 2
	[[ "$stderr" == *"not with the server model nomic-embed-text (-m)"* ]]
	run --separate-stderr rag-query -d "$KB" -u http://127.0.0.1:9/v1 <<<"x"
	assert_failure 2
	[[ "$stderr" == *"not with a server's model (-u)"* ]]
	# the environment names no embedder: a built-in index ignores it
	RAG_EMBED_URL=http://127.0.0.1:9/v1 run --separate-stderr rag-query -d "$KB" <<<"DenseNet"
	assert_success
}

@test "an index built through an embeddings server: questions go to the same server and model" {
	server_start --dim 16
	jq -c 'del(.title)' "$SYN" | jq -c 'del(.embedding, .embedder)' | head -40 >chunks.jsonl
	rag-embed -u "$SERVER_URL" -m test-model --no-cache chunks.jsonl | rag-index -d skb
	[ "$(rag-index -d skb --stats | jq -r .embedder)" = "api:test-model:16" ]
	text=$(jq -r 'select(.id == "/syn/s004.txt#2") | .text' chunks.jsonl)
	before=$(server_requests)
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" -k 3 --mode vector <<<"$text"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s004.txt#2" and (.[0].hits[0].score * 1e5 | round) == 100000'
	[ "$(server_requests)" -eq $((before + 1)) ]
	grep -q 'inputs=1' "$SERVER_LOG"
	# the URL from the environment; -m must agree
	RAG_EMBED_URL=$SERVER_URL run rag-query -d skb -m test-model -k 1 <<<"$text"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s004.txt#2"'
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" -m other <<<"$text"
	assert_failure 2
	# no server named
	run --separate-stderr rag-query -d skb <<<"$text"
	assert_failure 2
	[[ "$stderr" == *"skb was built with api:test-model:16: give its server with -u URL or RAG_EMBED_URL"* ]]
	# bm25 needs no server
	run --separate-stderr rag-query -d skb --mode bm25 -k 1 <<<"document 4"
	assert_success
}

@test "an embeddings server that cannot be reached: each question says so, status 3; bm25 still answers" {
	server_start --dim 16
	jq -c 'del(.title, .embedding, .embedder)' "$SYN" | head -20 >chunks.jsonl
	rag-embed -u "$SERVER_URL" -m m --no-cache chunks.jsonl | rag-index -d skb
	server_stop_all || true
	port=$(free_port)
	printf '%s\n' 'first question' '' '{"question":""}' 'second question' >q.txt
	run --separate-stderr rag-query -d skb -u "http://127.0.0.1:$port/v1" --retries 0 q.txt
	assert_failure 3
	assert_output ""
	[[ "$stderr" == *"q.txt: line 1: cannot embed the question: "*"127.0.0.1:$port"* ]]
	[[ "$stderr" == *"q.txt: line 3: empty question"* ]]
	[[ "$stderr" == *"q.txt: line 4: "* ]]
	run --separate-stderr rag-query -d skb -u "http://127.0.0.1:$port/v1" --mode bm25 -k 1 <<<"chunk 2 of document 3 word3x2"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s003.txt#2"'
}

@test "an embeddings server that answers with the wrong dimension is an embedder failure" {
	server_start --dim 8
	jq -c 'del(.title, .embedding, .embedder)' "$SYN" | head -5 >chunks.jsonl
	rag-embed -u "$SERVER_URL" -m m --no-cache chunks.jsonl | rag-index -d skb
	server_stop_all || true
	server_start --dim 12
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" --retries 0 <<<"question"
	assert_failure 3
	[[ "$stderr" == *"bad answer"*"dimension"* ]]
}

@test "the server's key: from --api-key-file or RAG_API_KEY, never printed" {
	server_start --dim 16 --require-key sekrit-key-42
	jq -c 'del(.title, .embedding, .embedder)' "$SYN" | head -10 >chunks.jsonl
	RAG_API_KEY=sekrit-key-42 rag-embed -u "$SERVER_URL" -m m --no-cache chunks.jsonl | rag-index -d skb
	text=$(jq -r 'select(.id == "/syn/s002.txt#1") | .text' chunks.jsonl)
	printf 'sekrit-key-42\n' >key
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" --api-key-file key -k 1 <<<"$text"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s002.txt#1"'
	RAG_API_KEY=sekrit-key-42 run --separate-stderr rag-query -d skb -u "$SERVER_URL" -k 1 <<<"$text"
	assert_success
	RAG_API_KEY=wrong-key run --separate-stderr rag-query -d skb -u "$SERVER_URL" --retries 0 -v <<<"$text"
	assert_failure 3
	[[ "$stderr" == *"401"* ]]
	[[ "$stderr" != *wrong-key* ]]
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" --api-key-file nosuch <<<"$text"
	assert_failure 2
	[[ "$stderr" == *nosuch* ]]
}

@test "an HTTPS server: --cacert trusts its private certificate; --connect-timeout bounds the wait" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout key.pem -out cert.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	server_start --tls cert.pem:key.pem --dim 16
	jq -c 'del(.title, .embedding, .embedder)' "$SYN" | head -5 >chunks.jsonl
	rag-embed -u "$SERVER_URL" -m m --no-cache --cacert cert.pem chunks.jsonl | rag-index -d skb
	text=$(jq -r 'select(.id == "/syn/s001.txt#3") | .text' chunks.jsonl)
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" --retries 0 -k 1 <<<"$text"
	assert_failure 3
	[[ "$stderr" == *certificate* ]]
	run --separate-stderr rag-query -d skb -u "$SERVER_URL" --cacert cert.pem -k 1 <<<"$text"
	assert_success
	assert_jq '.[0].hits[0].id == "/syn/s001.txt#3"'
	# an address that never answers a connection (a blackhole): given up on in time
	SECONDS=0
	run --separate-stderr rag-query -d skb -u http://10.255.255.1:9/v1 --connect-timeout 1 --retries 0 <<<"$text"
	assert_failure 3
	[ "$SECONDS" -lt 10 ]
	run --separate-stderr rag-query -d skb --connect-timeout x </dev/null
	assert_failure 2
}

@test "--api-key is refused; options need their values" {
	run --separate-stderr rag-query -d "$KB" --api-key secret123 </dev/null
	assert_failure 2
	[[ "$stderr" != *secret123* ]]
	run --separate-stderr rag-query -d "$KB" --bogus </dev/null
	assert_failure 2
	run --separate-stderr rag-query -d "$KB" --timeout x </dev/null
	assert_failure 2
}

@test "--help and --version" {
	run rag-query --help
	assert_success
	assert_line -n 0 -p "usage: rag-query -d DIR"
	for o in --mode --hybrid --weights --rrf-k --min-score --mmr --fetch-k --source --where --format --nprobe --embedder --url --model; do
		[[ "$output" == *"$o"* ]]
	done
	run rag-query --version
	assert_success
	assert_output -p "rag-query (ragpipe)"
}
