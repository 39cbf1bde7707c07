#!/usr/bin/env bats
# rag-embed: chunk records -> chunk records with "embedding" and "embedder".
# The built-in embedder, bad input, and the server path against tests/server.py
# (fault injection, several servers, the cache, the API key).  Needs jq and python3.

load helpers
load server

setup() {
	ragpipe_setup
	XDG_CACHE_HOME="$TMP/cache"
	export XDG_CACHE_HOME
	CACHE_DB="$XDG_CACHE_HOME/ragpipe/embeddings.sqlite"
}

teardown() {
	server_stop_all
}

# ---------------------------------------------------------------------------
# helpers

# records N [WORD]: N chunk records, ids 1..N, distinct texts.
records() {
	awk -v n="$1" -v w="${2:-topic}" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":\"%d\",\"source\":\"doc.txt\",\"seq\":%d,\"text\":\"chunk %d is about %s %d and networks\"}\n", i, i, i, w, i }'
}

# ids: the "id" fields of $output, space separated.
ids() {
	printf '%s\n' "$output" | jq -r .id | tr '\n' ' ' | sed 's/ $//'
}

# seq_ids N: "1 2 ... N"
seq_ids() {
	seq "$1" | tr '\n' ' ' | sed 's/ $//'
}

# check_vectors FILE DIM NAME: every line has an "embedding" of DIM numbers of
# unit L2 norm, "embedder" NAME, and every printed number is a float32 printed
# with at most 9 significant digits, correctly rounded, that reads back as
# that float32.
check_vectors() {
	python3 - "$@" <<'EOF'
import json, math, re, struct, sys
path, dim, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
n = 0
for ln, line in enumerate(open(path, encoding="utf-8"), 1):
    n += 1
    rec = json.loads(line)
    v = rec.get("embedding")
    assert rec.get("embedder") == name, f"line {ln}: embedder {rec.get('embedder')!r}, expected {name!r}"
    assert isinstance(v, list) and len(v) == dim, f"line {ln}: embedding of length {len(v) if isinstance(v, list) else v!r}"
    assert all(type(x) in (int, float) for x in v), f"line {ln}: not all numbers"
    norm = math.sqrt(sum(x * x for x in v))
    assert abs(norm - 1) < 1e-5, f"line {ln}: norm {norm}"
    i = line.rindex('"embedding":[') + len('"embedding":[')
    for s in line[i:line.index("]", i)].split(","):
        y = f32(float(s))
        assert math.isfinite(y), f"line {ln}: {s} is not a finite float32"
        digits = re.sub(r"[eE].*", "", s).lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) <= 9, f"line {ln}: {s} has more digits than a float32 needs"
        assert any(float("%.*g" % (p, y)) == float(s) for p in range(1, 10)), \
            f"line {ln}: {s} is not float32 {y!r} rounded to at most 9 digits"
        assert f32(float("%.9g" % y)) == y
assert n > 0, "no records"
EOF
}

# check_server_vectors FILE DIM: every record's embedding is, as float32, the
# vector tests/server.py gives for the text embedded (title, blank line, text
# when the text does not begin with the title; else the text; else the question).
check_server_vectors() {
	python3 - "$@" <<'EOF'
import json, struct, sys, os
sys.path.insert(0, os.path.join(os.environ["RAGPIPE_ROOT"], "tests"))
import server
path, dim = sys.argv[1], int(sys.argv[2])
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
n = 0
for ln, line in enumerate(open(path, encoding="utf-8"), 1):
    n += 1
    rec = json.loads(line)
    if "text" in rec:
        t = rec["text"]
        title = rec.get("title")
        if isinstance(title, str) and title and not t.startswith(title):
            t = title + "\n\n" + t
    else:
        t = rec["question"]
    want = [f32(x) for x in server.vector(t, dim)]
    got = [f32(x) for x in rec["embedding"]]
    assert got == want, f"line {ln}: {got} is not the server's vector for {t!r}: {want}"
assert n > 0, "no records"
EOF
}

# check_bytes IN OUT: each output line is its input line with only the two
# fields added: the same JSON once they are removed, and the raw bytes of the
# input line (less its final '}') are the start of the output line.
check_bytes() {
	diff <(jq -c . "$1") <(jq -c 'del(.embedding, .embedder)' "$2") || fail "records changed"
	python3 - "$1" "$2" <<'EOF'
import sys
a = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
b = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
assert len(a) == len(b), f"{len(a)} lines in, {len(b)} out"
for n, (x, y) in enumerate(zip(a, b), 1):
    assert x.endswith(b"}"), f"fixture line {n}"
    assert y.startswith(x[:-1] + b',"embedding":['), f"line {n}:\n in: {x!r}\nout: {y[:len(x) + 20]!r}"
    assert y.endswith(b"}"), f"line {n}: {y[-40:]!r}"
EOF
}

# log_inputs [LOG]: the inputs= of every logged request, space separated.
log_inputs() {
	sed -n 's/.* inputs=\([0-9]*\) .*/\1/p' "${1:-$SERVER_LOG}" | tr '\n' ' ' | sed 's/ $//'
}

# log_sum [LOG]: all inputs= added up.
log_sum() {
	sed -n 's/.* inputs=\([0-9]*\) .*/\1/p' "${1:-$SERVER_LOG}" | awk '{ s += $1 } END { print s + 0 }'
}

now_ms() {
	date +%s%3N
}

# stderr_lines: the number of lines in $stderr.
stderr_lines() {
	[ -z "$stderr" ] && echo 0 || printf '%s\n' "$stderr" | wc -l
}

# ---------------------------------------------------------------------------
# the built-in embedder

@test "built-in: every record gets a 512-number unit embedding and embedder ragpipe-lex1-512" {
	records 30 > in.jsonl
	run --separate-stderr rag-embed in.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	[ "$(wc -l < out.jsonl)" -eq 30 ]
	check_vectors out.jsonl 512 ragpipe-lex1-512
	assert_jq 'all(keys_unsorted[-2:] == ["embedding", "embedder"])'
}

@test "built-in: --dim N sets the length and the name" {
	records 5 > in.jsonl
	run --separate-stderr rag-embed --dim 64 < in.jsonl
	assert_success
	printf '%s\n' "$output" > out.jsonl
	check_vectors out.jsonl 64 ragpipe-lex1-64
	run --separate-stderr rag-embed --dim 8 < in.jsonl
	assert_success
	printf '%s\n' "$output" > out8.jsonl
	check_vectors out8.jsonl 8 ragpipe-lex1-8
}

@test "built-in: every other field and byte of the input line is kept" {
	cat > in.jsonl <<'EOF'
{"id":"a#1","source":"docs/a.pdf","doc":"ab12","seq":1,"page":3,"page_end":4,"title":"7.7 DenseNet","text":"Dense blocks concatenate feature maps."}
{ "text" : "spaces  everywhere" , "n" : [ 1 , 2.50 , 1e2 , -0.0 ] , "deep" : { "x" : null , "y" : true } }
{"text":"escapes: caf\u00e9 \/ \"quoted\" \t tab \ud83d\ude00","esc":"\u0041\n","user":{"tags":["a","b"]}}
{"text":"raw UTF-8: café, 深度学习, 😀","z":0,"a":false,"title":""}
{"question":"What is a residual connection?","k":5,"meta":{"who":"me"}}
EOF
	run --separate-stderr rag-embed in.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	check_bytes in.jsonl out.jsonl
	check_vectors out.jsonl 512 ragpipe-lex1-512
}

@test "built-in: records come out in input order, one per input line" {
	records 500 > in.jsonl
	run --separate-stderr rag-embed in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 500)" ]
}

@test "built-in: deterministic, two runs give the same bytes" {
	records 50 > in.jsonl
	printf 'a plain question line\n{"text":"深度学习是机器学习的一个分支。"}\n' >> in.jsonl
	rag-embed in.jsonl > one.jsonl
	rag-embed < in.jsonl > two.jsonl
	cmp one.jsonl two.jsonl
	[ "$(wc -l < one.jsonl)" -eq 52 ]
}

@test "built-in: a record that already has embedding and embedder gets new ones, once" {
	printf '%s\n' '{"id":"x","text":"residual networks","embedding":[0.5,0.5,0.5,0.5],"embedder":"old-model:4"}' \
		'{"id":"y","embedder":"only-name","text":"dense networks"}' \
		'{"id":"z","text":"plain networks","embedding":"AAAAAA=="}' > in.jsonl
	run --separate-stderr rag-embed --dim 16 in.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	# exactly one of each key in the raw text (jq would hide a duplicate)
	while IFS= read -r line; do
		[ "$(grep -o '"embedding":' <<< "$line" | wc -l)" -eq 1 ] || fail "not one embedding: $line"
		[ "$(grep -o '"embedder":' <<< "$line" | wc -l)" -eq 1 ] || fail "not one embedder: $line"
	done < out.jsonl
	check_vectors out.jsonl 16 ragpipe-lex1-16
	assert_jq '[.[].id] == ["x","y","z"] and ([.[].text] == ["residual networks","dense networks","plain networks"])'
	# the same vector as the record without the old fields
	printf '%s\n' '{"id":"x","text":"residual networks"}' | rag-embed --dim 16 | jq -c .embedding > fresh
	[ "$(head -1 out.jsonl | jq -c .embedding)" = "$(cat fresh)" ]
}

@test "built-in: re-embedding keeps the other bytes of the record as they were" {
	# man page: "Every other byte of the record is left as it was" -- also
	# when an old embedding is replaced
	printf '%s\n' '{"id": "x", "t":"caf\u00e9 \/", "n": 1.50, "text":"hello world", "embedding":[1,2], "embedder":"old"}' > in.jsonl
	run --separate-stderr rag-embed --dim 8 in.jsonl
	assert_success
	[[ "$output" == '{"id": "x", "t":"caf\u00e9 \/", "n": 1.50, "text":"hello world",'* ]] \
		|| fail "other fields rewritten: $output"
	# the output of rag-embed run through it again: same bytes apart from the vector
	records 3 | rag-embed --dim 8 > once.jsonl
	rag-embed --dim 16 once.jsonl > twice.jsonl
	diff <(sed 's/,"embedding":.*//' once.jsonl) <(sed 's/,"embedding":.*//' twice.jsonl)
	check_vectors twice.jsonl 16 ragpipe-lex1-16
}

@test "built-in: plain text lines and question records are embedded as questions" {
	printf '%s\n' 'What is DenseNet?' '{"question":"What is DenseNet?","user":"me"}' '  indented question  ' > in.jsonl
	run --separate-stderr rag-embed in.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	check_vectors out.jsonl 512 ragpipe-lex1-512
	assert_jq '.[0] | keys_unsorted == ["question","embedding","embedder"] and .question == "What is DenseNet?"'
	assert_jq '.[1] | keys_unsorted == ["question","user","embedding","embedder"] and .user == "me"'
	assert_jq '.[0].embedding == .[1].embedding'
	assert_jq '.[2].question | test("indented question")'
}

@test "built-in: CJK text is embedded, related texts are close" {
	printf '%s\n' '{"id":"zh1","text":"深度学习是机器学习的一个分支。"}' \
		'{"id":"zh2","text":"机器学习与深度学习"}' \
		'{"id":"ja","text":"日本語のテキストを埋め込みます。"}' \
		'{"id":"en","text":"Quillsort sorts feathers by length."}' > in.jsonl
	run --separate-stderr rag-embed in.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	check_vectors out.jsonl 512 ragpipe-lex1-512
	assert_jq 'def dot(a; b): [a, b] | transpose | map(.[0] * .[1]) | add;
		dot(.[0].embedding; .[1].embedding) > 0.3 and dot(.[0].embedding; .[1].embedding) > dot(.[0].embedding; .[3].embedding)
		and (.[2].embedding | map(select(. != 0)) | length) > 4'
}

@test "built-in: the demo documents through rag-split give one output line per chunk" {
	rag-split "$DATA"/demo/* > chunks.jsonl
	[ "$(wc -l < chunks.jsonl)" -gt 3 ]
	run --separate-stderr rag-embed < chunks.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	[ "$(wc -l < out.jsonl)" -eq "$(wc -l < chunks.jsonl)" ]
	[ "$(jq -r .id out.jsonl)" = "$(jq -r .id chunks.jsonl)" ]
	check_bytes chunks.jsonl out.jsonl
	check_vectors out.jsonl 512 ragpipe-lex1-512
	# also as a pipe
	run --separate-stderr bash -c 'rag-split "$DATA"/demo/* | rag-embed | wc -l'
	assert_success
	[ "$output" -eq "$(wc -l < chunks.jsonl)" ]
}

@test "built-in: -h prints usage, an unknown option is a usage error" {
	run --separate-stderr rag-embed -h
	assert_success
	assert_output --partial "usage: rag-embed"
	run --separate-stderr rag-embed --no-such-option
	assert_failure 2
	[ -z "$output" ]
}

# ---------------------------------------------------------------------------
# bad input: one line on stderr naming stdin or the file and the line, the
# other records still written, status 1

# bad_line LINE MESSAGE-REGEX: LINE between two good records.
bad_line() {
	{
		printf '%s\n' '{"id":"1","text":"first good record"}'
		printf '%s\n' "$1"
		printf '%s\n' '{"id":"3","text":"third good record"}'
	} > in.jsonl
	run --separate-stderr rag-embed --dim 8 < in.jsonl
	assert_failure 1
	[ "$(ids)" = "1 3" ] || fail "records written: $output"
	[ "$(stderr_lines)" -eq 1 ] || fail "not one line on stderr: $stderr"
	[[ "$stderr" =~ ^rag-embed:\ stdin:\ line\ 2:\ $2 ]] || fail "stderr: $stderr"
	# the same from a file: named in the message
	run --separate-stderr rag-embed --dim 8 in.jsonl
	assert_failure 1
	[ "$(ids)" = "1 3" ]
	[[ "$stderr" =~ ^rag-embed:\ in\.jsonl:\ line\ 2:\ $2 ]] || fail "stderr: $stderr"
}

@test "bad input: not JSON" {
	bad_line '{"id":"2","text":"cut off' 'not valid JSON'
}

@test "bad input: JSON with trailing garbage" {
	bad_line '{"id":"2","text":"x"} trailing' 'not valid JSON'
}

@test "bad input: \"text\" is not a string" {
	bad_line '{"id":"2","text":42}' '"text" is not a string'
}

@test "bad input: no text and no question" {
	bad_line '{"id":"2","body":"words"}' 'no "text" \(or "question"\) to embed'
}

@test "bad input: empty text" {
	bad_line '{"id":"2","text":""}' '.*empty'
}

@test "bad input: text of blanks only" {
	bad_line '{"id":"2","text":"  \n\t "}' '.*empty'
}

@test "bad input: invalid UTF-8" {
	bad_line "$(printf '{"id":"2","text":"bad \xff\xfe bytes"}')" '.*UTF-8'
}

@test "bad input: several bad lines, each named once, the good ones all written" {
	printf '%s\n' '{"text":"one"}' '{"text":' '{"text":"three"}' '{"text":[1]}' '{"text":"five"}' '{"x":1}' '{"text":"seven"}' > in.jsonl
	run --separate-stderr rag-embed --dim 8 in.jsonl
	assert_failure 1
	[ "$(jl .text | tr '\n' ' ')" = "one three five seven " ]
	[ "$(stderr_lines)" -eq 3 ]
	[ "$(printf '%s\n' "$stderr" | sed -n 's/^rag-embed: in\.jsonl: line \([0-9]*\): .*/\1/p' | tr '\n' ' ')" = "2 4 6 " ]
}

@test "files as arguments: read in order, errors name the file; a missing file is an error" {
	records 3 a > a.jsonl
	printf '%s\n' '{"id":"b1","text":"bee one"}' '{"id":"b2","text":7}' '{"id":"b3","text":"bee three"}' > b.jsonl
	run --separate-stderr rag-embed --dim 8 a.jsonl b.jsonl
	assert_failure 1
	[ "$(ids)" = "1 2 3 b1 b3" ]
	[ "$stderr" = 'rag-embed: b.jsonl: line 2: "text" is not a string' ]
	run --separate-stderr rag-embed --dim 8 a.jsonl missing.jsonl b.jsonl
	assert_failure 1
	[ "$(ids)" = "1 2 3 b1 b3" ]
	[[ "$stderr" == *"rag-embed: missing.jsonl: "* ]] || fail "stderr: $stderr"
	run --separate-stderr rag-embed --dim 8 missing.jsonl
	assert_failure 1
	[ -z "$output" ]
	[[ "$stderr" =~ ^rag-embed:\ missing\.jsonl:\ No\ such\ file ]] || fail "stderr: $stderr"
}

@test "built-in: | head -1 on a long input ends quietly with status 0" {
	records 20000 > long.jsonl
	run --separate-stderr bash -c 'rag-embed < long.jsonl | head -1 > first; echo "${PIPESTATUS[0]}"'
	assert_success
	assert_stderr_empty
	assert_output 0
	[ "$(jq -r .id first)" = 1 ]
}

# ---------------------------------------------------------------------------
# a server

@test "server: vectors are the server's, embedder api:MODEL:8, same text same vector" {
	server_start --dim 8
	{
		records 4
		printf '%s\n' '{"id":"t1","title":"7.7 DenseNet","text":"Dense blocks."}' \
			'{"id":"t2","title":"Intro","text":"Intro to the book."}' \
			'{"id":"dup","text":"chunk 1 is about topic 1 and networks"}' \
			'{"question":"What is a dense block?","k":3}' \
			'a plain question'
	} > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m test-model in.jsonl
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" > out.jsonl
	[ "$(wc -l < out.jsonl)" -eq 9 ]
	assert_jq 'all(.embedder == "api:test-model:8") and all(.embedding | length == 8)'
	check_server_vectors out.jsonl 8
	assert_jq '.[0].embedding == .[6].embedding'
	assert_jq '.[8] | .question == "a plain question"'
	check_bytes <(head -7 in.jsonl) <(head -7 out.jsonl)
	[ "$(log_sum)" -ge 9 ]
	grep -q 'path=/v1/embeddings' "$SERVER_LOG"
}

@test "server: --model is required (status 2, no request made); RAG_EMBED_MODEL gives it" {
	server_start
	records 2 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" in.jsonl
	assert_failure 2
	[ -z "$output" ]
	[[ "$stderr" == *model* ]] || fail "stderr: $stderr"
	RAG_EMBED_URL=$SERVER_URL run --separate-stderr rag-embed in.jsonl
	assert_failure 2
	[[ "$stderr" == *model* ]]
	[ "$(server_requests)" -eq 0 ]
	RAG_EMBED_MODEL=envmodel run --separate-stderr rag-embed -u "$SERVER_URL" in.jsonl
	assert_success
	assert_jq 'all(.embedder == "api:envmodel:8")'
}

@test "server: RAG_EMBED_URL, then OPENAI_BASE_URL, when there is no --url; --url wins" {
	server_start
	A_URL=$SERVER_URL A_LOG=$SERVER_LOG
	server_start
	B_URL=$SERVER_URL B_LOG=$SERVER_LOG
	records 3 > in.jsonl
	RAG_EMBED_URL=$A_URL run --separate-stderr rag-embed -m m in.jsonl
	assert_success
	assert_jq 'all(.embedder == "api:m:8") and length == 3'
	[ "$(server_requests "$A_LOG")" -eq 1 ]
	OPENAI_BASE_URL=$B_URL run --separate-stderr rag-embed -m m --no-cache in.jsonl
	assert_success
	assert_jq 'all(.embedder == "api:m:8") and length == 3'
	[ "$(server_requests "$B_LOG")" -eq 1 ]
	# RAG_EMBED_URL before OPENAI_BASE_URL
	RAG_EMBED_URL=$A_URL OPENAI_BASE_URL=$B_URL run --separate-stderr rag-embed -m m --no-cache in.jsonl
	assert_success
	[ "$(server_requests "$A_LOG")" -eq 2 ]
	[ "$(server_requests "$B_LOG")" -eq 1 ]
	# a flag before both
	RAG_EMBED_URL=$A_URL OPENAI_BASE_URL=$A_URL run --separate-stderr rag-embed -u "$B_URL" -m m --no-cache in.jsonl
	assert_success
	[ "$(server_requests "$A_LOG")" -eq 2 ]
	[ "$(server_requests "$B_LOG")" -eq 2 ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
}

@test "server: RAG_EMBED_URL may list several URLs separated by commas" {
	server_start --latency 30
	A_LOG=$SERVER_LOG A_URL=$SERVER_URL
	server_start --latency 30
	records 12 > in.jsonl
	RAG_EMBED_URL="$A_URL,$SERVER_URL" run --separate-stderr rag-embed -m m --batch 1 --parallel 1 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 12)" ]
	[ "$(server_requests "$A_LOG")" -gt 0 ]
	[ "$(server_requests)" -gt 0 ]
	[ "$(($(log_sum "$A_LOG") + $(log_sum)))" -eq 12 ]
}

@test "server: order kept with --parallel 4 --batch 2 under latency and a shuffled answer" {
	server_start --latency 40 --shuffle
	records 40 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --parallel 4 --batch 2 in.jsonl
	assert_success
	assert_stderr_empty
	[ "$(ids)" = "$(seq_ids 40)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	check_bytes in.jsonl out.jsonl
	[ "$(server_requests)" -eq 20 ]
	[ "$(log_inputs | tr ' ' '\n' | sort -u | tr '\n' ' ')" = "2 " ]
	# requests overlapped, never more than --parallel
	[ "$(server_max_inflight)" -gt 1 ]
	[ "$(server_max_inflight)" -le 4 ]
}

@test "server: answers out of order (the first batch retried) are written in input order" {
	server_start --fail 500@1
	records 8 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --parallel 4 --batch 2 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 8)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(server_requests)" -eq 5 ]
}

@test "server: a first batch held up by a retry while many batches finish behind it" {
	# 20 batches of one: batch 1 waits 0.5 s for its retry while the rest
	# are answered; every record must still come out, in order
	server_start --fail 500@1
	records 20 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --batch 1 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 20)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
}

@test "server: --batch bounds the inputs per request" {
	server_start
	records 10 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --batch 3 --parallel 1 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 10)" ]
	[ "$(log_inputs)" = "3 3 3 1" ]
	# the default: 64
	records 150 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m2 --parallel 1 in.jsonl
	assert_success
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 150 ]
	[ "$(log_inputs)" = "3 3 3 1 64 64 22" ]
}

@test "server: --max-chars bounds the characters per request" {
	server_start
	# ten texts of 10 characters: at most two fit in 25
	for i in $(seq 10); do printf '{"id":"%d","text":"abcdefgh%02d"}\n' "$i" "$i"; done > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --max-chars 25 --parallel 1 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 10)" ]
	[ "$(log_sum)" -eq 10 ]
	for n in $(log_inputs); do
		[ "$n" -le 2 ] || fail "a request of $n texts of 10 characters with --max-chars 25: $(log_inputs)"
	done
}

@test "server: a text longer than --max-chars goes alone" {
	server_start
	printf '%s\n' '{"id":"1","text":"short"}' '{"id":"2","text":"a much longer text than the limit"}' '{"id":"3","text":"short too"}' > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --max-chars 12 --parallel 1 in.jsonl
	assert_success
	[ "$(ids)" = "1 2 3" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(log_sum)" -eq 3 ]
}

# ---- faults that are retried

@test "server: 429 is retried after Retry-After" {
	server_start --fail 429:1 --retry-after 1
	records 5 > in.jsonl
	t0=$(now_ms)
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in.jsonl
	elapsed=$(($(now_ms) - t0))
	assert_success
	[ "$(ids)" = "$(seq_ids 5)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(server_requests)" -eq 2 ]
	grep -q 'n=1 .*status=429' "$SERVER_LOG"
	[ "$elapsed" -ge 900 ] || fail "retried after $elapsed ms, Retry-After was 1 s"
}

@test "server: 500 is retried" {
	server_start --fail 500:1
	records 5 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 5)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(server_requests)" -eq 2 ]
}

@test "server: a dropped connection is retried" {
	server_start --fail drop:1
	records 5 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 5)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(server_requests)" -eq 2 ]
}

@test "server: an answer cut short (truncated JSON) is retried as a broken connection" {
	server_start --fail truncate:1
	records 5 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 5)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(server_requests)" -eq 2 ]
}

# ---- faults that stop the run with status 3

# fails_for_good KIND: --batch 3 --parallel 1 over 10 records, batch 2 gets
# the fault: records 1-3 written, none after, one line on stderr naming the
# batch, its lines and the server; the fault was not retried.
fails_for_good() {
	server_start --fail "$1@2"
	records 10 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --batch 3 --parallel 1 < in.jsonl
	assert_failure 3
	[ "$(ids)" = "1 2 3" ] || fail "written: $(ids)"
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	# not retried: the fault is answered once; besides the two batches, at most
	# the next one, already sent while the bad answer was read, was asked for
	[ "$(grep -c "fault=$1" "$SERVER_LOG")" -eq 1 ] || fail "requests: $(cat "$SERVER_LOG")"
	[ "$(server_requests)" -le 3 ] || fail "requests: $(cat "$SERVER_LOG")"
	# (that it is said once is the next test's business)
	[[ "$(printf '%s\n' "$stderr" | head -1)" == "rag-embed: batch 2 (stdin lines 4-6) failed: $SERVER_URL"* ]] \
		|| fail "stderr: $stderr"
}

@test "server: a batch that fails for good is reported in one line, once" {
	fails_for_good malformed
	[ "$(stderr_lines)" -eq 1 ] || fail "not one line on stderr: $stderr"
}

@test "server: malformed JSON answer: error naming server and batch, status 3, not retried" {
	fails_for_good malformed
}

@test "server: wrong number of vectors: status 3" {
	fails_for_good count
	[[ "$stderr" == *vector* ]]
}

@test "server: wrong dimension: status 3" {
	fails_for_good dim
	[[ "$stderr" == *dimension* ]]
}

@test "server: a NaN in a vector: status 3" {
	fails_for_good nan
}

@test "server: truncated answers until the retries run out: status 3" {
	server_start --fail truncate:5
	records 4 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --retries 1 --batch 2 --parallel 1 < in.jsonl
	assert_failure 3
	[ -z "$output" ]
	# batch 1 tried twice; batch 2, sent meanwhile, at most twice too
	[ "$(server_requests)" -ge 2 ] && [ "$(server_requests)" -le 4 ] || fail "requests: $(cat "$SERVER_LOG")"
	# the server is named, first or (when it was set aside meanwhile) in the reason
	[[ "$stderr" == *"rag-embed: batch 1 (stdin lines 1-2) failed: "*"$SERVER_URL"* ]] || fail "stderr: $stderr"
}

@test "server: --retries 0 with a 500: status 3, one request" {
	server_start --fail 500:1
	records 4 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --retries 0 < in.jsonl
	assert_failure 3
	[ -z "$output" ]
	[ "$(server_requests)" -eq 1 ]
	# (the input's name: see the next test)
	[[ "$stderr" == "rag-embed: batch 1 ("*" lines 1-4) failed: $SERVER_URL"*500* ]] || fail "stderr: $stderr"
	[ "$(stderr_lines)" -eq 1 ] || fail "stderr: $stderr"
}

@test "server: a batch failing after all input is read names stdin or the input file" {
	server_start --fail 500:2
	records 4 > in.jsonl
	# a single batch, so it fails after the whole input was read
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --retries 0 in.jsonl
	assert_failure 3
	[ -z "$output" ]
	[[ "$stderr" == "rag-embed: batch 1 (in.jsonl lines 1-4) failed: $SERVER_URL"*500* ]] || fail "stderr: $(printf '%q' "$stderr")"
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --retries 0 < in.jsonl
	assert_failure 3
	[[ "$stderr" == "rag-embed: batch 1 (stdin lines 1-4) failed: $SERVER_URL"*500* ]] || fail "stderr: $(printf '%q' "$stderr")"
}

@test "server: --skip-errors FILE gets the failed batch's lines as they came; the rest written; status 1" {
	server_start --fail malformed@2
	records 10 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --batch 3 --parallel 1 --skip-errors skipped.jsonl in.jsonl
	assert_failure 1
	[ "$(ids)" = "1 2 3 7 8 9 10" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	sed -n 4,6p in.jsonl | cmp - skipped.jsonl
	[[ "$stderr" == *"batch 2"*"4-6"*skipped.jsonl* ]] || fail "stderr: $stderr"
}

@test "server: a bad input line with a server: named, the others embedded, status 1" {
	server_start
	printf '%s\n' '{"id":"1","text":"one"}' '{"id":"2","text":null}' '{"id":"3","text":"three"}' > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m < in.jsonl
	assert_failure 1
	[ "$(ids)" = "1 3" ]
	[ "$stderr" = 'rag-embed: stdin: line 2: "text" is not a string' ]
	[ "$(log_sum)" -eq 2 ]
}

# ---- several servers

@test "server: two --url share the work" {
	server_start --latency 30
	A_URL=$SERVER_URL A_LOG=$SERVER_LOG
	server_start --latency 30
	records 20 > in.jsonl
	run --separate-stderr rag-embed -u "$A_URL" -u "$SERVER_URL" -m m --batch 2 --parallel 2 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 20)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(server_requests "$A_LOG")" -ge 2 ]
	[ "$(server_requests)" -ge 2 ]
	[ "$(($(log_sum "$A_LOG") + $(log_sum)))" -eq 20 ]
}

@test "server: a dead URL and a live one: the run completes" {
	server_start
	dead="http://127.0.0.1:$(free_port)/v1"
	records 10 > in.jsonl
	run --separate-stderr rag-embed -u "$dead" -u "$SERVER_URL" -m m --batch 2 in.jsonl
	assert_success
	[ "$(ids)" = "$(seq_ids 10)" ]
	printf '%s\n' "$output" > out.jsonl
	check_server_vectors out.jsonl 8
	[ "$(log_sum)" -eq 10 ]
}

# ---- the cache

@test "cache: a second run makes no request and gives the same bytes; --no-cache asks again" {
	server_start
	records 10 > in.jsonl
	rag-embed -u "$SERVER_URL" -m m --batch 4 in.jsonl > one.jsonl
	[ "$(server_requests)" -eq 3 ]
	[ -f "$CACHE_DB" ]
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --batch 4 in.jsonl
	assert_success
	printf '%s\n' "$output" > two.jsonl
	cmp one.jsonl two.jsonl
	[ "$(server_requests)" -eq 3 ]
	# -v counts hits and misses
	run --separate-stderr rag-embed -v -u "$SERVER_URL" -m m in.jsonl
	assert_success
	[[ "$stderr" == *"10 hits"* ]] || fail "stderr: $stderr"
	[ "$(server_requests)" -eq 3 ]
	run --separate-stderr rag-embed --no-cache -u "$SERVER_URL" -m m --batch 4 in.jsonl
	assert_success
	[ "$(server_requests)" -eq 6 ]
	printf '%s\n' "$output" | cmp - one.jsonl
	# another model is another key
	run --separate-stderr rag-embed -u "$SERVER_URL" -m other in.jsonl
	assert_success
	[ "$(server_requests)" -eq 7 ]
}

@test "cache: two rag-embed at once share it safely" {
	server_start --latency 20
	records 200 > in.jsonl
	rag-embed -u "$SERVER_URL" -m m --no-cache in.jsonl > want.jsonl
	rag-embed -u "$SERVER_URL" -m m --batch 3 in.jsonl > a.jsonl 2> a.err &
	a=$!
	rag-embed -u "$SERVER_URL" -m m --batch 5 in.jsonl > b.jsonl 2> b.err &
	b=$!
	wait "$a" || fail "first: $(cat a.err)"
	wait "$b" || fail "second: $(cat b.err)"
	cmp a.jsonl want.jsonl
	cmp b.jsonl want.jsonl
	before=$(server_requests)
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in.jsonl
	assert_success
	printf '%s\n' "$output" | cmp - want.jsonl
	[ "$(server_requests)" -eq "$before" ]
}

@test "cache: --no-cache neither reads nor writes it; --cache DIR puts it elsewhere" {
	server_start
	records 4 > in.jsonl
	rag-embed --no-cache -u "$SERVER_URL" -m m in.jsonl > /dev/null
	[ ! -e "$CACHE_DB" ]
	rag-embed -u "$SERVER_URL" -m m in.jsonl > /dev/null
	[ "$(server_requests)" -eq 2 ]
	rag-embed --cache "$TMP/mycache" -u "$SERVER_URL" -m m in.jsonl > /dev/null
	[ "$(server_requests)" -eq 3 ]
	[ -n "$(ls -A "$TMP/mycache")" ]
	rag-embed --cache "$TMP/mycache" -u "$SERVER_URL" -m m in.jsonl > /dev/null
	[ "$(server_requests)" -eq 3 ]
}

@test "cache: changing one record re-embeds only that one" {
	server_start
	records 10 > in.jsonl
	rag-embed -u "$SERVER_URL" -m m in.jsonl > one.jsonl
	[ "$(log_inputs)" = 10 ]
	sed '5s/topic 5/a changed subject/' in.jsonl > in2.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in2.jsonl
	assert_success
	[ "$(log_inputs)" = "10 1" ]
	printf '%s\n' "$output" > two.jsonl
	check_server_vectors two.jsonl 8
	diff <(sed 5d one.jsonl) <(sed 5d two.jsonl)
}

@test "cache: a corrupted entry is not returned; the server is asked again and the entry replaced" {
	server_start
	records 6 > in.jsonl
	rag-embed -u "$SERVER_URL" -m m in.jsonl > one.jsonl
	[ "$(server_requests)" -eq 1 ]
	# garbage of the same length in one entry, a short blob in another
	python3 - "$CACHE_DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
hit = None
for (t,) in db.execute("select name from sqlite_master where type = 'table'"):
    info = list(db.execute(f"pragma table_info({t})"))
    pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0] or ["rowid"]
    for c in (r[1] for r in info if r[1] not in pk):
        rows = db.execute(f"select {', '.join(pk)} from {t} where typeof({c}) = 'blob' and length({c}) = 32").fetchall()
        if len(rows) >= 2:
            hit = (t, c, pk, rows)
            break
    if hit:
        break
assert hit, "no vector blobs in the cache"
t, c, pk, rows = hit
where = " and ".join(f"{k} = ?" for k in pk)
db.execute(f"update {t} set {c} = ? where {where}", (b"garbage!" * 4, *rows[0]))
db.execute(f"update {t} set {c} = ? where {where}", (b"junk", *rows[1]))
db.commit()
EOF
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m in.jsonl
	assert_success
	printf '%s\n' "$output" > two.jsonl
	cmp one.jsonl two.jsonl
	[ "$(log_inputs)" = "6 2" ]
	# and replaced: a third run asks nothing
	rag-embed -u "$SERVER_URL" -m m in.jsonl | cmp - one.jsonl
	[ "$(server_requests)" -eq 2 ]
}

# ---- the API key

KEY="sk-test-Zq9Xv4Lm2Pw7"

@test "key: from RAG_API_KEY (and OPENAI_API_KEY), sent to the server" {
	server_start --require-key "$KEY"
	records 3 > in.jsonl
	RAG_API_KEY=$KEY run --separate-stderr rag-embed -u "$SERVER_URL" -m m --no-cache in.jsonl
	assert_success
	[ "$(ids)" = "1 2 3" ]
	grep -q 'auth=ok' "$SERVER_LOG"
	OPENAI_API_KEY=$KEY run --separate-stderr rag-embed -u "$SERVER_URL" -m m --no-cache in.jsonl
	assert_success
	[ "$(server_requests)" -eq 2 ]
	[ "$(grep -c 'auth=ok' "$SERVER_LOG")" -eq "$(server_requests)" ] || fail "$(cat "$SERVER_LOG")"
}

@test "key: from --api-key-file, which wins over RAG_API_KEY" {
	server_start --require-key "$KEY"
	records 3 > in.jsonl
	printf '%s\n' "$KEY" > key.txt
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --no-cache --api-key-file key.txt in.jsonl
	assert_success
	[ "$(ids)" = "1 2 3" ]
	RAG_API_KEY=wrong-key run --separate-stderr rag-embed -u "$SERVER_URL" -m m --no-cache --api-key-file key.txt in.jsonl
	assert_success
	[ "$(server_requests)" -eq 2 ]
	[ "$(grep -c 'auth=ok' "$SERVER_LOG")" -eq "$(server_requests)" ] || fail "$(cat "$SERVER_LOG")"
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --api-key-file missing.txt in.jsonl
	assert_failure
	[ -z "$output" ]
}

@test "key: a wrong key: 401 is final, status 3, the server's message without the key" {
	server_start --require-key "$KEY"
	records 3 > in.jsonl
	RAG_API_KEY=wrong-Kx81Y run --separate-stderr rag-embed -v -u "$SERVER_URL" -m m --no-cache < in.jsonl
	assert_failure 3
	[ -z "$output" ]
	[ "$(server_requests)" -eq 1 ]
	grep -q 'auth=bad.*status=401' "$SERVER_LOG"
	[[ "$stderr" == *"Incorrect API key provided"* ]] || fail "stderr: $stderr"
	[[ "$stderr" != *wrong-Kx81Y* ]] || fail "the key is on stderr: $stderr"
	[[ "$stderr" != *"$KEY"* ]]
	[[ "$stderr" == *"rag-embed: batch 1 ("*" lines 1-3) failed: $SERVER_URL"*401* ]] || fail "stderr: $(printf '%q' "$stderr")"
	printf 'bad-file-key-Ww3\n' > bad.txt
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --no-cache --api-key-file bad.txt in.jsonl
	assert_failure 3
	[[ "$stderr" != *bad-file-key-Ww3* ]] || fail "the key is on stderr: $stderr"
}

@test "key: never in stdout, stderr (even with -v) or /proc/PID/cmdline" {
	server_start --require-key "$KEY" --latency 200
	records 4 > in.jsonl
	RAG_API_KEY=$KEY rag-embed -v -u "$SERVER_URL" -m m --batch 1 --parallel 1 in.jsonl > out.jsonl 2> err 3>&- &
	pid=$!
	sleep 0.3
	tr '\0' ' ' < "/proc/$pid/cmdline" > cmdline
	wait "$pid"
	grep -q rag-embed cmdline
	for f in cmdline out.jsonl err; do
		if grep -qF -- "$KEY" "$f"; then fail "the key is in $f: $(cat "$f")"; fi
	done
	[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "1 2 3 4 " ]
	grep -q 'auth=ok' "$SERVER_LOG"
	# nor in the cache
	if grep -qaF -- "$KEY" "$CACHE_DB"; then fail "the key is in the cache"; fi
}

@test "key: there is no option that takes the key itself" {
	server_start --require-key "$KEY"
	records 2 > in.jsonl
	run --separate-stderr rag-embed -u "$SERVER_URL" -m m --api-key "$KEY" in.jsonl
	assert_failure 2
	[ -z "$output" ]
	[[ "$stderr" != *"$KEY"* ]] || fail "the key is echoed: $stderr"
	[ "$(server_requests)" -eq 0 ]
}

# ---- the reader going away

@test "server: | head -1 on a long input ends quietly with status 0" {
	server_start
	records 3000 > long.jsonl
	run --separate-stderr bash -c 'rag-embed -u "$SERVER_URL" -m m --batch 16 < long.jsonl | head -1 > first; echo "${PIPESTATUS[0]}"'
	assert_success
	assert_stderr_empty
	assert_output 0
	[ "$(jq -r .id first)" = 1 ]
}

@test "a document or another stage's output stops at once with one line naming the right order; nothing is written" {
	run --separate-stderr rag-embed "$DATA/handbook.pdf"
	assert_failure 1
	assert_output ""
	assert_stderr_equal "rag-embed: $DATA/handbook.pdf: a PDF document, not chunk records: rag-embed reads what rag-split writes (rag-split FILE | rag-embed | rag-index -d DIR)"
	run --separate-stderr rag-embed <"$DATA/handbook.pdf"
	assert_failure 1
	assert_output ""
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ] || fail "stderr: $stderr"
	printf '\0\1\2 binary\n\377\376\n' >bin.dat
	run --separate-stderr rag-embed bin.dat
	assert_failure 1
	assert_stderr_equal "rag-embed: bin.dat: binary data, not chunk records: rag-embed reads what rag-split writes (rag-split FILE | rag-embed | rag-index -d DIR)"
	echo '{"question":"q","hits":[]}' >hits.jsonl
	run --separate-stderr rag-embed hits.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-embed: hits.jsonl: rag-query's hits, not chunk records:"* ]] || fail "stderr: $stderr"
	# the other files are still read
	rag-split "$DATA/plain.txt" >chunks.jsonl
	run --separate-stderr rag-embed hits.jsonl chunks.jsonl
	assert_failure 1
	[ "${#lines[@]}" = "$(wc -l <chunks.jsonl)" ] || fail "output: $output"
}

@test "SIGINT, SIGTERM, SIGHUP: it stops reading, every record written is whole, one line says so, exit 128+N" {
	local sig pid num
	rag-split "$DATA"/demo/* >chunks.jsonl
	for sig in INT TERM HUP; do
		rm -f in
		mkfifo in
		rag-embed <in >out.jsonl 2>err &
		pid=$!
		exec 5>in
		# more than the pipe holds, then silence: only the signal ends it
		for _ in 1 2 3 4 5 6 7 8; do cat chunks.jsonl; done >&5
		sleep "0.$((RANDOM % 5))"
		kill -"$sig" "$pid"
		wait "$pid" && status=0 || status=$?
		exec 5>&-
		num=$(kill -l "$sig")
		[ "$status" = $((128 + num)) ] || fail "SIG$sig: exit $status: $(cat err)"
		[ "$(wc -l <err)" = 1 ] || fail "SIG$sig: $(cat err)"
		[[ "$(cat err)" =~ ^rag-embed:\ interrupted:\ ([0-9]+)\ records\ written$ ]] || fail "SIG$sig: $(cat err)"
		[ "${BASH_REMATCH[1]}" = "$(wc -l <out.jsonl)" ] || fail "SIG$sig: $(cat err), $(wc -l <out.jsonl) lines"
		jq -e -s 'all(.embedding | length == 512)' out.jsonl >/dev/null || fail "SIG$sig: a record is not whole"
		[ -z "$(tail -c 1 out.jsonl)" ] || fail "SIG$sig: the output does not end with a newline"
	done
}
