# Shared setup for the ragpipe bats tests.  Load it first in every .bats file:
#
#     load helpers
#
# It loads bats-support, bats-assert and bats-file, puts the repository's bin/
# first in PATH, and gives every test its own empty scratch directory $TMP
# (also the working directory).  A file that needs its own setup() should call
# ragpipe_setup from it.

bats_require_minimum_version 1.5.0     # run --separate-stderr, run -N

bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

RAGPIPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$RAGPIPE_ROOT/tests/data"
PATH="$RAGPIPE_ROOT/bin:$PATH"
export RAGPIPE_ROOT DATA PATH

# Programs must not depend on the caller's locale or configuration.
export LC_ALL=C.UTF-8
unset RAG_EMBED_URL RAG_EMBED_MODEL RAG_LLM_URL RAG_LLM_MODEL RAG_API_KEY OPENAI_BASE_URL OPENAI_API_KEY

ragpipe_setup() {
	TMP="$BATS_TEST_TMPDIR"
	export TMP
	cd "$TMP" || return 1
}

setup() {
	ragpipe_setup
}

# jl FILTER...: run jq -r over the JSON lines in $output (after `run`).
jl() {
	printf '%s\n' "$output" | jq -r "$@"
}

# assert_jsonl: $output is non-empty and every line is a JSON object.
assert_jsonl() {
	[ -n "$output" ] || fail "no output"
	printf '%s\n' "$output" | jq -e -s 'length > 0 and all(type == "object")' >/dev/null \
		|| fail "output is not JSON lines: $(printf '%s\n' "$output" | head -3)"
}

# assert_jq FILTER: the jq filter, run over all records slurped into an array,
# yields true; prints the records on failure.
assert_jq() {
	local r
	r=$(printf '%s\n' "$output" | jq -s "$1") || fail "jq failed on: $1"
	[ "$r" = true ] || {
		printf '%s\n' "$output" | jq -c '{seq,page,title,text}' 2>/dev/null | head -40 >&2
		fail "jq: $1 gave $r"
	}
}

# assert_stderr_equal TEXT / assert_stderr_empty (after run --separate-stderr)
assert_stderr_equal() {
	[ "$stderr" = "$1" ] || fail "$(printf 'stderr differs\nexpected: %s\nactual:   %s' "$1" "$stderr")"
}
assert_stderr_empty() {
	[ -z "$stderr" ] || fail "stderr is not empty: $stderr"
}
