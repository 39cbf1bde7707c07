#!/usr/bin/env bats
# What a user sees on a terminal: messages and progress lines of the stages
# of one pipeline do not run into each other (tested under a pseudo-terminal
# made by script(1)).

load helpers

setup() {
	ragpipe_setup
	command -v script >/dev/null || skip "no script(1)"
}

@test "on a terminal a message starts on a fresh line: it clears a progress line left there first" {
	# a progress line of another stage, drawn without a newline, then a warning
	run script -qefc "printf 'rag-index: 40495 chunks (1525.1/s)' >&2; rag-embed missing.jsonl" /dev/null
	assert_failure
	esc=$(printf '\r\033[K')
	[[ "$output" == *"(1525.1/s)${esc}rag-embed: missing.jsonl: No such file or directory"* ]] ||
		fail "output: $(printf '%s' "$output" | od -c | head)"
	# not on a pipe or a file: the message is as it was
	run --separate-stderr rag-embed missing.jsonl
	assert_stderr_equal "rag-embed: missing.jsonl: No such file or directory"
}

@test "--progress: each stage ends with one summary line, also into a log; -q says nothing" {
	run --separate-stderr sh -c 'rag-split --progress "$DATA"/demo/* | rag-embed --progress | rag-index -d kb --progress'
	assert_success
	n=$(rag-index -d kb --stats | jq .chunks)
	[[ "$stderr" == *"rag-split: 3 files, $n chunks in "*" s"* ]] || fail "stderr: $stderr"
	[[ "$stderr" == *"rag-embed: $n records embedded (ragpipe-lex1-512) in "*" s"* ]] || fail "stderr: $stderr"
	[[ "$stderr" == *"rag-index: 3 documents added, 0 replaced, 0 unchanged; $n chunks added in "*" s"* ]] ||
		fail "stderr: $stderr"
	run --separate-stderr sh -c 'rag-split "$DATA"/demo/* | rag-embed -q --progress | rag-index -q -d kb2 --progress'
	assert_success
	assert_stderr_empty
}

@test "on a terminal the stages of a pipeline draw one shared status line, in pipeline order, none over another" {
	rag-split "$DATA"/demo/* "$DATA"/notes.md "$DATA"/plain.txt >chunks.jsonl
	for i in $(seq 8); do
		jq -c --arg i "$i" '.source = .source + "." + $i | .id = .source + "#" + (.seq | tostring)' chunks.jsonl
	done >many.jsonl
	# records that come over two seconds: the stages have time to report
	cat >feed.py <<'PY'
import sys, time
for line in open(sys.argv[1]):
    sys.stdout.write(line); sys.stdout.flush(); time.sleep(2.0 / 200)
PY
	run script -qefc "python3 feed.py many.jsonl | rag-embed | rag-index -d kb" /dev/null
	assert_success
	drawn=$(printf '%s' "$output" | tr '\r' '\n' | sed 's/\x1b\[K//g' | grep -c '^rag-embed: [0-9]* records .* | rag-index: [0-9]* chunks' || true)
	[ "$drawn" -gt 0 ] || fail "no shared line: $(printf '%s' "$output" | tr '\r' '\n' | tail -5)"
	# no line of one stage alone while both run, and nothing runs into anything
	printf '%s' "$output" | tr '\r' '\n' | sed 's/\x1b\[K//g' | grep -v '^$' >lines
	! grep -q 'rag-embed.*rag-embed\|rag-index.*rag-index' lines || fail "a stage twice on a line: $(cat lines)"
	! grep -q 'rag-index: [0-9]* chunks.*rag-embed' lines || fail "out of pipeline order: $(cat lines)"
}
