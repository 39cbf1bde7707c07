#!/usr/bin/env bats
# The API key never shows: not on stdout, not on stderr (even with -v), not
# in what other users can see of a running process (/proc/PID/cmdline, comm,
# stat, status, its threads, its open files, `ps` of it and its children).
# (The test server has the key on its command line: it is not watched.)
# The process's own environment may of course hold it: that is
# where it was given, and it is also how these tests know the samples were
# taken while the key was in use.

load helpers
load server

teardown() {
	server_stop_all
}

setup() {
	ragpipe_setup
	# unique per run, so that nothing but this run can hold it
	KEY="sk-ragpipe-test-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	export KEY
}

# watch PID: while the process lives, append what /proc and ps show of it
# (all but its environment) to views, one sample every 20 ms; count the
# samples in samples, and copy its environment once to environ.
watch() {
	local pid=$1 d=/proc/$1
	: > views
	: > samples
	: > environ
	# the process may end between any two reads: no read may fail the test
	while kill -0 "$pid" 2>/dev/null; do
		{
			tr '\0' ' ' < "$d/cmdline"
			cat "$d/comm" "$d/stat" "$d/status"
			cat "$d"/task/*/comm "$d"/task/*/stat
			ls -l "$d/fd/"
			ps -o pid,args -p "$pid" --ppid "$pid"
		} >> views 2>/dev/null || true
		[ -s environ ] || { tr '\0' '\n' < "$d/environ" > environ; } 2>/dev/null || true
		echo >> samples
		sleep 0.02
	done
}

# no_key FILE...: none of the files holds the key.
no_key() {
	local f
	for f in "$@"; do
		if grep -qaF -- "$KEY" "$f"; then
			fail "the key is in $f: $(grep -aF -- "$KEY" "$f" | head -3)"
		fi
	done
}

# enough_samples N: the process was seen at least N times (N small: a busy
# machine samples less often), and with the key in its environment (so the
# samples were taken while it was in use).
enough_samples() {
	[ "$(wc -l < samples)" -ge "$1" ] || fail "only $(wc -l < samples) samples"
	grep -q "rag-" views || fail "the samples never saw the program"
	grep -qF -- "RAG_API_KEY=$KEY" environ || fail "the key was not in the environment the samples saw"
}

@test "rag-embed: the key is in no output and no view of the running process, with or without -v" {
	server_start --require-key "$KEY" --latency 100
	for i in 1 2 3 4 5 6; do printf '{"id":"d#%s","text":"text number %s"}\n' "$i" "$i"; done > in.jsonl
	for v in -v -q; do
		RAG_API_KEY=$KEY rag-embed $v -u "$SERVER_URL" -m m --batch 1 --parallel 1 --no-cache in.jsonl \
			> out.jsonl 2> err 3>&- &
		pid=$!
		watch "$pid"
		wait "$pid" || fail "rag-embed $v failed: $(cat err)"
		enough_samples 3
		no_key out.jsonl err views
		[ "$(jq -r .id out.jsonl | tr '\n' ' ')" = "d#1 d#2 d#3 d#4 d#5 d#6 " ]
	done
	# the key was sent (every request authenticated) and -v did say things
	[ "$(grep -c 'auth=ok' "$SERVER_LOG")" -eq 12 ]
	RAG_API_KEY=$KEY rag-embed -v -u "$SERVER_URL" -m m --no-cache in.jsonl > /dev/null 2> err
	[ -s err ]
	no_key err
}

@test "rag-embed: a key from --api-key-file is in no output and no view either" {
	server_start --require-key "$KEY" --latency 100
	printf '%s\n' "$KEY" > key.txt
	for i in 1 2 3 4 5; do printf '{"id":"d#%s","text":"text %s"}\n' "$i" "$i"; done > in.jsonl
	RAG_API_KEY=$KEY rag-embed -v -u "$SERVER_URL" -m m --batch 1 --parallel 1 --no-cache --api-key-file key.txt \
		in.jsonl > out.jsonl 2> err 3>&- &
	pid=$!
	watch "$pid"
	wait "$pid" || fail "rag-embed failed: $(cat err)"
	enough_samples 3
	no_key out.jsonl err views
	[ "$(grep -c 'auth=ok' "$SERVER_LOG")" -eq 5 ]
}

# ---- rag-answer against /chat/completions

hits() {
	local i
	for i in 1 2 3 4; do
		printf '{"question":"What is thing %s?","hits":[{"rank":1,"score":0.9,"id":"doc.md#%s","source":"doc.md","text":"Thing %s is a test passage."}]}\n' "$i" "$i" "$i"
	done
}

@test "rag-answer: the key is in no output and no view of the running process, whole or streamed, with or without -v" {
	[ -x "$RAGPIPE_ROOT/bin/rag-answer" ] || skip "bin/rag-answer is not built"
	server_start --require-key "$KEY" --latency 100 --chunk-delay 20
	hits > hits.jsonl
	for args in "-v --no-stream" "-q --no-stream" "-v --stream" "-v --text"; do
		RAG_API_KEY=$KEY rag-answer $args -u "$SERVER_URL" -m m hits.jsonl > out 2> err 3>&- &
		pid=$!
		watch "$pid"
		wait "$pid" || fail "rag-answer $args failed: $(cat err)"
		enough_samples 3
		no_key out err views
		grep -q "Thing 4\|thing 4\|\[1\]" out || fail "no answers with $args: $(head -5 out)"
	done
	[ "$(grep -c 'auth=ok' "$SERVER_LOG")" -eq 16 ]
}

@test "rag-answer: a wrong key is refused without being shown" {
	[ -x "$RAGPIPE_ROOT/bin/rag-answer" ] || skip "bin/rag-answer is not built"
	server_start --require-key "$KEY"
	hits > hits.jsonl
	WRONG="$KEY-wrong"
	RAG_API_KEY=$WRONG run --separate-stderr rag-answer -v -u "$SERVER_URL" -m m hits.jsonl
	assert_failure
	[[ "$stderr" == *401* ]] || fail "stderr: $stderr"
	[[ "$output$stderr" != *"$KEY"* ]] || fail "the key is shown: $stderr"
}
