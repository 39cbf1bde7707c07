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
