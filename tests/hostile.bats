#!/usr/bin/env bats
# Hostile input for rag-split (text and Markdown), rag-embed and rag-index:
# lines of 100 MB, JSON nested without end, NUL bytes, invalid UTF-8,
# numbers out of range, a million empty lines. Each is handled correctly or
# is a clear error (program, file or line, what is wrong) with the documented
# exit status; nothing crashes, and peak memory (/usr/bin/time -f %M) stays
# within a small multiple of the longest line. Inputs are generated here,
# streamed, never stored in the repository.
#
# Under sanitizers the long lines are 16 MB: that run is after memory
# errors, and ASan's own cost would make 100 MB slow; its memory bounds are
# looser by the size of its quarantine and shadow.

load helpers

setup() {
	ragpipe_setup
	if nm "$RAGPIPE_ROOT/bin/rag-split" 2>/dev/null | grep -q __asan_init; then
		MB=16 SLACK_KB=$((1024 * 1024))
	else
		MB=100 SLACK_KB=$((64 * 1024))
	fi
}

# measure CMD...: run it with stdout in out and stderr in err; $rc is its
# status (124: still running after 120 s, and stopped) and $rss its peak
# resident set in KB (timeout waits for CMD, so its maximum is CMD's).
measure() {
	rc=0
	/usr/bin/time -f %M -o rss.txt timeout 120 "$@" > out 2> err || rc=$?
	rss=$(tail -1 rss.txt)
}

# assert_rss FACTOR: peak memory at most FACTOR times the long line, plus slack.
assert_rss() {
	local limit=$(($1 * MB * 1024 + SLACK_KB))
	[ "$rss" -le "$limit" ] || fail "peak RSS ${rss} KB, more than $1 x $MB MB + slack ($limit KB)"
}

# words FILE PREFIX SUFFIX: PREFIX, then MB megabytes of "word ", then SUFFIX.
words() {
	python3 - "$1" "$MB" "$2" "$3" <<-'EOF'
	import sys
	path, mb, prefix, suffix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
	block = b"word " * (1048576 // 5) + b" " * (1048576 % 5)
	with open(path, "wb") as f:
	    f.write(prefix.encode())
	    for _ in range(mb):
	        f.write(block)
	    f.write(suffix.encode("utf-8").decode("unicode_escape").encode("latin-1"))
	EOF
}

# empty_lines N: N newlines on stdout.
empty_lines() {
	head -c "$1" /dev/zero | tr '\0' '\n'
}

# chunks_ok FILE SIZE: every line of FILE is a chunk record whose text has
# 1..SIZE code points and no NUL; prints how many there are.
chunks_ok() {
	python3 - "$1" "$2" <<-'EOF'
	import json, sys
	n = 0
	for line in open(sys.argv[1], encoding="utf-8"):
	    r = json.loads(line)
	    t = r["text"]
	    assert 0 < len(t) <= int(sys.argv[2]), (n, len(t))
	    assert "\0" not in t
	    n += 1
	print(n)
	EOF
}

# ---- rag-split

@test "rag-split: a text file that is one 100 MB line: chunks of at most --size, in bounded memory; a bad byte at its end named" {
	words long.txt "" '\xff end\n'
	measure rag-split -s 1000 -o 150 long.txt
	[ "$rc" -eq 0 ] || fail "status $rc: $(head -c 500 err)"
	[ "$(cat err)" = "rag-split: warning: long.txt: line 1: invalid UTF-8 replaced by U+FFFD" ] || fail "stderr: $(head -c 500 err)"
	n=$(chunks_ok out 1000)
	# each chunk moves on by about size - overlap characters
	expect=$((MB * 1048576 / 850))
	[ "$n" -gt $((expect * 9 / 10)) ] && [ "$n" -lt $((expect * 11 / 10)) ] || fail "$n chunks, about $expect expected"
	[ "$(tail -1 out | jq '.text | endswith("word word \ufffd end")')" = true ] || fail "last chunk: $(tail -c 200 out)"
	[ "$(head -1 out | jq -r '.text | split(" ") | unique | join(",")')" = word ] || fail "first chunk: $(head -c 200 out)"
	assert_rss 4
}

@test "rag-split: Markdown whose one line is 100 MB of Chinese without a space: cut by characters under its heading" {
	python3 - "$MB" <<-'EOF'
	import sys
	block = "深度学习的模型".encode() * (1048576 // 21)
	with open("long.md", "wb") as f:
	    f.write("# 标题\n\n".encode())
	    for _ in range(int(sys.argv[1])):
	        f.write(block)
	    f.write(b"\n")
	EOF
	measure rag-split -s 500 long.md
	[ "$rc" -eq 0 ] || fail "status $rc: $(head -c 500 err)"
	n=$(chunks_ok out 500)
	[ "$n" -gt $((MB * 1048576 / 3 / 500)) ] || fail "only $n chunks"
	[ "$(jq -r .title out | sort -u)" = "标题" ] || fail "titles: $(jq -r .title out | sort -u | head)"
	assert_rss 4
}

@test "rag-split: a million empty lines: no chunk, a warning, status 0; with one line of text among them, one chunk" {
	empty_lines 1000000 > empty.txt
	cp empty.txt empty.md
	run --separate-stderr rag-split empty.txt empty.md
	assert_success
	[ -z "$output" ]
	assert_stderr_equal "$(printf 'rag-split: warning: empty.txt: no text\nrag-split: warning: empty.md: no text')"
	{ empty_lines 1000000; echo "hello   world"; empty_lines 1000000; } > one.txt
	run --separate-stderr rag-split one.txt
	assert_success
	assert_stderr_empty
	[ "$(jl -c '[.seq, .text]')" = '[1,"hello world"]' ]
}

@test "rag-split: NUL bytes: a file that starts binary is refused by name, the others split; a NUL later in text is dropped" {
	printf 'hello\0world\n' > early.txt
	printf '# Notes\0\nbody\n' > early.md
	run --separate-stderr rag-split early.txt early.md "$DATA/plain.txt"
	assert_failure 1
	assert_stderr_equal "$(printf 'rag-split: early.txt: not a document (unrecognised format)\nrag-split: early.md: not a document (unrecognised format)')"
	[ "$(jl -r .source | sort -u)" = "$DATA/plain.txt" ]
	# past the first 4 KB the file is text: the NUL is a control character
	{ for i in $(seq 300); do echo "line $i of plain text."; done; printf 'a NUL\0here\n'; } > late.txt
	cp late.txt late.md
	run --separate-stderr rag-split -s 100 late.txt late.md
	assert_success
	assert_stderr_empty
	assert_jsonl
	[ "$(jl -r 'select(.text | contains("a NULhere")) | .source' | sort -u | tr '\n' ' ')" = "late.md late.txt " ]
	# JSON would write a NUL as \u0000
	[[ "$output" != *'\u0000'* ]] || fail "a NUL in the chunks"
}

@test "rag-split: invalid UTF-8 in Markdown: U+FFFD, one warning naming the line, status 0" {
	printf '# Title\n\nfine\nbad \xff\xfe byte\n' > bad.md
	run --separate-stderr rag-split bad.md
	assert_success
	assert_stderr_equal "rag-split: warning: bad.md: line 4: invalid UTF-8 replaced by U+FFFD"
	[ "$(jl -r .text)" = "$(printf 'Title\n\nfine bad \xef\xbf\xbd\xef\xbf\xbd byte')" ]
}

# ---- rag-embed

@test "rag-embed: a record with 100 MB of text is embedded and carried through byte for byte, in bounded memory" {
	words long.jsonl '{"id":"a#1","seq":1,"text":"' '","x":[1,{"y":null}]}\n{"id":"a#2","text":"short"}\n'
	measure rag-embed --dim 16 --no-cache long.jsonl
	[ "$rc" -eq 0 ] || fail "status $rc: $(head -c 500 err)"
	[ ! -s err ] || fail "stderr: $(head -c 500 err)"
	[ "$(wc -l < out)" -eq 2 ]
	# the output line is the input line, then the two new members
	python3 - <<-'EOF' || fail "the record changed"
	import json
	a = open("long.jsonl", "rb").readline().rstrip(b"\n")
	b = open("out", "rb").readline().rstrip(b"\n")
	assert b.startswith(a[:-1] + b',"embedding":['), b[:100]
	r = json.loads(b)
	assert r["embedder"] == "ragpipe-lex1-16" and len(r["embedding"]) == 16
	EOF
	[ "$(sed -n 2p out | jq -r .id)" = "a#2" ]
	assert_rss 7
}

@test "rag-embed: a 100 MB line that never closes its string: error naming the line, the next record embedded, status 1" {
	words open.jsonl '{"id":"a#1","text":"' '\n{"id":"a#2","text":"short"}\n'
	measure rag-embed --dim 8 --no-cache open.jsonl
	[ "$rc" -eq 1 ]
	[ "$(cat err)" = "rag-embed: open.jsonl: line 1: not valid JSON (at byte $((MB * 1048576 + 21)))" ]
	[ "$(jq -r .id out)" = "a#2" ]
	assert_rss 3
}

@test "rag-embed: JSON nested deeper than 64 levels is one clear error; 64 levels are fine" {
	python3 - <<-'EOF'
	def rec(i, depth):
	    # the record is depth 1, "meta" 2, ... the innermost 1 at `depth`
	    return '{"id":"n#%d","text":"x","meta":%s1%s}' % (i, "[" * (depth - 2), "]" * (depth - 2))
	with open("deep.jsonl", "w") as f:
	    f.write(rec(1, 64) + "\n" + rec(2, 65) + "\n" + rec(3, 100000) + "\n")
	    f.write('{"id":"n#4","text":"x"}\n')
	EOF
	run --separate-stderr rag-embed --dim 8 --no-cache deep.jsonl
	assert_failure 1
	assert_stderr_equal "$(printf '%s\n' \
		'rag-embed: deep.jsonl: line 2: JSON nested more than 64 levels deep (at byte 94)' \
		'rag-embed: deep.jsonl: line 3: JSON nested more than 64 levels deep (at byte 94)')"
	[ "$(jl -r .id | tr '\n' ' ')" = "n#1 n#4 " ]
	[ "$(jl -c 'select(.id == "n#1") | .meta' | tr -d '[]')" = 1 ]
}

@test "rag-embed: NUL bytes and invalid UTF-8: each line named with what is wrong; an escaped \\u0000 is text" {
	printf '%s\n' '{"id":"a#1","text":"a\u0000b"}' > in.jsonl
	printf '{"id":"a#2","text":"x\0y"}\n{"id":"a#3","text":"\xff\xfe"}\n\0\n' >> in.jsonl
	printf '%s\n' '{"id":"a#4","text":"ok"}' >> in.jsonl
	run --separate-stderr rag-embed --dim 8 --no-cache in.jsonl
	assert_failure 1
	assert_stderr_equal "$(printf '%s\n' \
		'rag-embed: in.jsonl: line 2: NUL byte in line' \
		'rag-embed: in.jsonl: line 3: invalid UTF-8 at byte 21' \
		'rag-embed: in.jsonl: line 4: NUL byte in line')"
	[ "$(jl -r .id | tr '\n' ' ')" = "a#1 a#4 " ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.id == "a#1") | .text')" = '"a\u0000b"' ]
}

@test "rag-embed: numbers out of any range in a record's fields are carried through as written" {
	printf '%s\n' '{"id":"a#1","text":"ok","seq":1e999,"page":-1e999,"n":123456789012345678901234567890,"m":-0,"t":1e-999}' > in.jsonl
	run --separate-stderr rag-embed --dim 8 --no-cache in.jsonl
	assert_success
	assert_stderr_empty
	[[ "$output" == '{"id":"a#1","text":"ok","seq":1e999,"page":-1e999,"n":123456789012345678901234567890,"m":-0,"t":1e-999,"embedding":['* ]] \
		|| fail "changed: $output"
}

@test "rag-embed: a million empty lines are skipped, and the line numbers still count them" {
	{ empty_lines 1000000; echo '{"id":"a#1","text":"one"}'; empty_lines 1000000; echo 'not json {'; echo '{"text":5}'; } > in.jsonl
	run --separate-stderr rag-embed --dim 8 --no-cache in.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-embed: in.jsonl: line 2000003: "* ]] || fail "stderr: $stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	# "not json {" is a question (a plain text line), the rest a chunk
	[ "$(jl -r '.id // .question' | tr '\n' ' ')" = "a#1 not json { " ]
	empty_lines 1000000 > empty.jsonl
	run --separate-stderr rag-embed --dim 8 empty.jsonl
	assert_success
	[ -z "$output" ]
	assert_stderr_empty
}

# ---- rag-index

@test "rag-index: a record with 100 MB of text is indexed whole, in bounded memory" {
	words long.jsonl '{"id":"a#1","source":"a","doc":"d1","text":"' '","embedding":[1,0],"embedder":"e2"}\n{"id":"a#2","source":"a","doc":"d1","text":"short","embedding":[0,1],"embedder":"e2"}\n'
	measure rag-index -d kb < long.jsonl
	[ "$rc" -eq 0 ] || fail "status $rc: $(head -c 500 err)"
	[ ! -s err ] || fail "stderr: $(head -c 500 err)"
	assert_rss 5
	run rag-index -d kb --stats
	assert_success
	[ "$(jl -c '[.documents, .chunks, .dimension]')" = "[1,2,2]" ]
	run python3 -c 'import sqlite3; print(sqlite3.connect("kb/index.sqlite").execute("select length(text) from chunks where id = ?", ("a#1",)).fetchone()[0])'
	assert_output "$((MB * 1048576))"
}

@test "rag-index: a 100 MB line that is not JSON stops the run naming the line; nothing of its batch is written" {
	words bad.jsonl '{"id":"a#1","source":"a","doc":"d1","text":"' '\n'
	measure rag-index -d kb < bad.jsonl
	[ "$rc" -eq 1 ]
	[ "$(cat err)" = "rag-index: stdin: line 1: not valid JSON (at byte $((MB * 1048576 + 45)))" ]
	assert_rss 3
	# nothing was written: no new index is left
	assert_not_exist kb
}

@test "rag-index: JSON nested deeper than 64 levels, NUL bytes, invalid UTF-8: the line is named, the batches before it kept" {
	rec() { printf '{"id":"%s#1","source":"%s","doc":"d","text":"t %s","embedding":[1,0],"embedder":"e2"%s}\n' "$1" "$1" "$1" "$2"; }
	rec a '' > good.jsonl
	run rag-index -d kb < good.jsonl
	assert_success
	deep64=$(python3 -c 'print(",\"m\":" + "[" * 62 + "1" + "]" * 62)')
	deep65=$(python3 -c 'print(",\"m\":" + "[" * 63 + "1" + "]" * 63)')
	rec b "$deep64" > ok.jsonl
	run rag-index -d kb < ok.jsonl
	assert_success
	for bad in "$(rec c "$deep65")" "$(printf '{"id":"c#1","text":"\xff"}')" "$(rec c $',"x":"\xc3"')"; do
		# d's batch ends when h begins; h's batch holds the bad line
		{ rec d ''; rec h ''; printf '%s\n' "$bad"; } > bad.jsonl
		run --separate-stderr rag-index -d kb --batch 1 < bad.jsonl
		assert_failure 1
		[[ "$stderr" == "rag-index: stdin: line 3: "* ]] || fail "stderr: $stderr"
	done
	assert_stderr_equal "rag-index: stdin: line 3: invalid UTF-8 at byte 88"
	{ rec e ''; printf '{"id":"e#2","source":"e","doc":"d","text":"a\0b","embedding":[1,0],"embedder":"e2"}\n'; } > nul.jsonl
	run --separate-stderr rag-index -d kb < nul.jsonl
	assert_failure 1
	assert_stderr_equal "rag-index: stdin: line 2: NUL byte in line"
	{ rec f ''; rec g "$deep65"; } > deep.jsonl
	run --separate-stderr rag-index -d kb < deep.jsonl
	assert_failure 1
	assert_stderr_equal "rag-index: stdin: line 2: JSON nested more than 64 levels deep (at byte 150)"
	run rag-index -d kb --stats
	# a and b, and d from the --batch 1 runs; not h, e or f: their batches held a bad line
	[ "$(jl -c '[.documents, .chunks]')" = "[3,3]" ]
}

@test "rag-index: embedding values out of float32's range are refused; tiny ones become 0" {
	for v in 3.5e38 -1e39 1e400; do
		printf '{"id":"a#1","source":"a","doc":"d","text":"t","embedding":[%s,1],"embedder":"e2"}\n' "$v" > in.jsonl
		run --separate-stderr rag-index -d kb < in.jsonl
		assert_failure 1
		assert_stderr_equal 'rag-index: stdin: line 1: "embedding" value 0 is not finite'
	done
	python3 -c 'print("{\"id\":\"a#1\",\"source\":\"a\",\"doc\":\"d\",\"text\":\"t\",\"embedding\":[" + ",".join(["0.5"] * 65537) + "],\"embedder\":\"big\"}")' > big.jsonl
	run --separate-stderr rag-index -d kb < big.jsonl
	assert_failure 1
	[[ "$stderr" == 'rag-index: stdin: line 1: "embedding" has '*65536* ]] || fail "stderr: $stderr"
	printf '{"id":"a#1","source":"a","doc":"d","text":"t","embedding":[1e-50,1,-1e-999],"embedder":"e3"}\n' > tiny.jsonl
	run --separate-stderr rag-index -d kb < tiny.jsonl
	assert_success
	run rag-index -d kb --stats
	[ "$(jl -c '[.chunks, .dimension]')" = "[1,3]" ]
}

@test "rag-index: a million empty lines are skipped, and the line numbers still count them" {
	rec='{"id":"a#1","source":"a","doc":"d","text":"t","embedding":[1,0],"embedder":"e2"}'
	{ empty_lines 1000000; echo "$rec"; empty_lines 1000000; } > in.jsonl
	run --separate-stderr rag-index -d kb < in.jsonl
	assert_success
	assert_stderr_empty
	run rag-index -d kb --stats
	[ "$(jl -c '[.documents, .chunks]')" = "[1,1]" ]
	{ empty_lines 1000000; echo '{"id":"b#1"'; } > bad.jsonl
	run --separate-stderr rag-index -d kb < bad.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-index: stdin: line 1000001: not valid JSON"* ]] || fail "stderr: $stderr"
}
