#!/usr/bin/env bats
# common/http.c, the HTTP client of rag-embed and rag-answer, driven by
# tests/tools/http-driver against tests/server.py with injected faults.
# Output of the driver, one line per finished request:
#     TAG STATUS ATTEMPTS URL  |  TAG fail STATUS ATTEMPTS ERROR

load helpers
load server

DRIVER="$RAGPIPE_ROOT/$(cat "$RAGPIPE_ROOT/bin/.flavour" 2>/dev/null || echo build/rel)/tests/tools/http-driver"

setup() {
	ragpipe_setup
	[ -x "$DRIVER" ] || fail "$DRIVER is not built"
}

teardown() {
	server_stop_all
}

# requests N: N embedding requests, one input each, on stdin of the driver.
requests() {
	local i
	for i in $(seq "$1"); do
		printf '/embeddings\t{"model":"test","input":["text %d"]}\n' "$i"
	done > in.txt
}

now_ms() {
	date +%s%3N
}

# driver ARGS...: run the driver on in.txt, its time in $elapsed (ms).
driver() {
	local t0
	t0=$(now_ms)
	run --separate-stderr "$DRIVER" "$@" < in.txt
	elapsed=$(($(now_ms) - t0))
}

@test "plain success: every request answered once, bodies are the server's" {
	server_start --shuffle
	requests 5
	printf '/embeddings\t{"model":"m","input":["a","b","c"]}\n' >> in.txt
	driver -u "$SERVER_URL" -b
	assert_success
	assert_stderr_empty
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 6 ]
	[ "$(printf '%s\n' "$output" | cut -f1 | awk '$2 == 200 && $3 == 1 && $4 == ENVIRON["SERVER_URL"]' | wc -l)" -eq 6 ]
	[ "$(printf '%s\n' "$output" | cut -f1 | cut -d' ' -f1 | sort -n | tr '\n' ' ')" = "1 2 3 4 5 6 " ]
	# the batch of three: data reversed (--shuffle), indexes intact, 8 dimensions, unit length
	printf '%s\n' "$output" | awk -F'\t' '$1 ~ /^6 /{print $2}' | jq -e '
		[.data[].index] == [2,1,0] and .model == "m" and .usage.prompt_tokens > 0
		and all(.data[]; (.embedding | length) == 8 and ((.embedding | map(. * .) | add) - 1 | fabs) < 1e-9)'
	[ "$(server_requests)" -eq 6 ]
}

@test "the same text gets the same vector whatever its batch" {
	server_start
	printf '/embeddings\t{"model":"m","input":["x","same"]}\n/embeddings\t{"model":"m","input":"same"}\n' > in.txt
	driver -u "$SERVER_URL" -b -p 1
	assert_success
	a=$(printf '%s\n' "$output" | awk -F'\t' '$1 ~ /^1 /{print $2}' | jq -c '.data[] | select(.index == 1) | .embedding')
	b=$(printf '%s\n' "$output" | awk -F'\t' '$1 ~ /^2 /{print $2}' | jq -c '.data[0].embedding')
	[ -n "$a" ] && [ "$a" = "$b" ]
}

@test "429 is retried after Retry-After seconds" {
	server_start --fail 429:1
	requests 1
	driver -u "$SERVER_URL" -v
	assert_success
	assert_output "1 200 2 $SERVER_URL"
	[ "$elapsed" -ge 1000 ] || fail "retried after only $elapsed ms"
	[ "$(server_requests)" -eq 2 ]
	grep -q 'fault=429 status=429' "$SERVER_LOG"
	[[ $stderr == *"HTTP 429"*"retrying in 1."* ]] || fail "stderr: $stderr"
}

@test "429 is retried after a Retry-After HTTP-date" {
	server_start --fail 429:1 --retry-after date:2
	requests 1
	driver -u "$SERVER_URL"
	assert_success
	assert_output "1 200 2 $SERVER_URL"
	[ "$elapsed" -ge 1000 ] || fail "retried after only $elapsed ms"
	[ "$elapsed" -lt 5000 ] || fail "took $elapsed ms"
}

@test "500 is retried until it succeeds" {
	server_start --fail 500:1
	requests 1
	driver -u "$SERVER_URL" -r 3
	assert_success
	assert_output "1 200 2 $SERVER_URL"
	[ "$(server_requests)" -eq 2 ]
}

@test "500 for good: gives up after the retries with the server's message" {
	server_start --fail 500:10
	requests 1
	driver -u "$SERVER_URL" -r 1
	assert_failure 1
	assert_output "1 fail 500 2 $SERVER_URL/embeddings: HTTP 500: injected fault: HTTP 500 (gave up after 2 attempts)"
	[ "$(server_requests)" -eq 2 ]
}

@test "a dropped connection is retried" {
	server_start --fail drop:1
	requests 1
	driver -u "$SERVER_URL"
	assert_success
	assert_output "1 200 2 $SERVER_URL"
	[ "$(server_requests)" -eq 2 ]
}

@test "an answer cut short is retried" {
	server_start --fail truncate:1
	requests 1
	driver -u "$SERVER_URL" -j
	assert_success
	assert_output "1 200 2 $SERVER_URL"
}

@test "a server that never answers hits the timeout with a clear error" {
	server_start --fail hang:5
	requests 1
	driver -u "$SERVER_URL" -t 1 -r 0
	assert_failure 1
	assert_output --regexp "^1 fail 0 1 $SERVER_URL/embeddings: .*[Tt]imed out after 10[0-9][0-9] milli"
	[ "$elapsed" -ge 1000 ] && [ "$elapsed" -lt 4000 ] || fail "took $elapsed ms"
}

@test "a timeout is retried" {
	server_start --fail hang:1
	requests 1
	driver -u "$SERVER_URL" -t 1 -r 1
	assert_success
	assert_output "1 200 2 $SERVER_URL"
}

@test "an endless answer is cut off at the size limit, not retried" {
	server_start --fail huge:1
	requests 1
	driver -u "$SERVER_URL" -m 100000
	assert_failure 1
	assert_output "1 fail 200 1 $SERVER_URL/embeddings: answer longer than 100000 bytes, cut off there"
	[ "$(server_requests)" -eq 1 ]
}

@test "401 fails at once with the server's message, and the key never shows" {
	server_start --require-key sk-right-0123456789
	requests 2
	RAG_API_KEY=sk-wrong-SECRET-4242 driver -u "$SERVER_URL" -v -r 5
	assert_failure 1
	[[ $output != *SECRET* && $stderr != *SECRET* ]] || fail "the key leaked: $output $stderr"
	[[ $output != *sk-right* ]]
	assert_line --partial "fail 401 1 $SERVER_URL/embeddings: HTTP 401: Incorrect API key provided: [key]"
	[ "$(server_requests)" -eq 2 ]
	[ "$(grep -c ' auth=bad ' "$SERVER_LOG")" -eq 2 ]
}

@test "the right key is sent as a Bearer token, and still never shows" {
	server_start --require-key sk-right-SECRET-0123456789 --fail 500:1
	requests 2
	RAG_API_KEY=sk-right-SECRET-0123456789 driver -u "$SERVER_URL" -v
	assert_success
	[[ $output != *SECRET* && $stderr != *SECRET* ]] || fail "the key leaked: $output $stderr"
	[ "$(grep -c ' auth=ok ' "$SERVER_LOG")" -eq 3 ]
	! grep -q SECRET "$SERVER_LOG"
}

@test "no key: no Authorization header" {
	server_start --require-key sk-x
	requests 1
	driver -u "$SERVER_URL"
	assert_failure 1
	assert_output "1 fail 401 1 $SERVER_URL/embeddings: HTTP 401: You didn't provide an API key."
	grep -q ' auth=none ' "$SERVER_LOG"
}

@test "400 fails at once with the message of an {\"error\":\"...\"} body" {
	server_start --fail 400:1 --error-string
	requests 1
	driver -u "$SERVER_URL" -r 5
	assert_failure 1
	assert_output "1 fail 400 1 $SERVER_URL/embeddings: HTTP 400: injected fault: HTTP 400"
	[ "$(server_requests)" -eq 1 ]
}

@test "a 200 the caller rejects is an error, not retried" {
	server_start --fail malformed:1
	requests 2
	driver -u "$SERVER_URL" -j -p 1
	assert_failure 1
	assert_line "1 fail 200 1 $SERVER_URL: the answer is not a JSON object"
	assert_line "2 200 1 $SERVER_URL"
	[ "$(server_requests)" -eq 2 ]
}

@test "TLS: certificates are verified; --ca trusts a private one" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout key.pem -out cert.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	server_start --tls cert.pem:key.pem
	[[ $SERVER_URL == https://* ]]
	requests 2
	driver -u "$SERVER_URL" -r 3
	assert_failure 1
	assert_line --regexp "^1 fail 0 1 $SERVER_URL/embeddings: .*certificate"
	[ "$(server_requests)" -eq 0 ]
	driver -u "$SERVER_URL" --ca cert.pem
	assert_success
	assert_line "1 200 1 $SERVER_URL"
	assert_line "2 200 1 $SERVER_URL"
}

@test "two URLs share the load" {
	server_start --latency 50
	a=$SERVER_URL alog=$SERVER_LOG
	server_start --latency 50
	b=$SERVER_URL blog=$SERVER_LOG
	requests 20
	driver -u "$a" -u "$b" -p 2
	assert_success
	na=$(server_requests "$alog") nb=$(server_requests "$blog")
	[ $((na + nb)) -eq 20 ] && [ "$na" -ge 5 ] && [ "$nb" -ge 5 ] || fail "split $na/$nb"
	# two URLs at 2 each: about 5 rounds of 50 ms, not 10
	[ "$elapsed" -lt 1500 ] || fail "took $elapsed ms"
}

@test "a dead URL is set aside while the other carries on" {
	server_start --latency 20
	dead="http://127.0.0.1:$(free_port)/v1"
	requests 20
	driver -u "$dead" -u "$SERVER_URL" -p 2 -r 3
	assert_success
	[ "$(printf '%s\n' "$output" | awk -v u="$SERVER_URL" '$2 == 200 && $4 == u' | wc -l)" -eq 20 ]
	# a handful of attempts were lost on the dead URL, then it was left alone
	attempts=$(printf '%s\n' "$output" | awk '{n += $3} END {print n}')
	[ "$attempts" -le 26 ] || fail "$attempts attempts"
	[ "$(server_requests)" -eq 20 ]
	[[ $stderr == *"$dead: 3 failures in a row; setting it aside for 1 s"* ]] || fail "stderr: $stderr"
}

@test "when every URL is down, the queue fails instead of waiting out each cool-down" {
	requests 6
	driver -u "http://127.0.0.1:$(free_port)/v1" -p 2 -r 1 -q
	assert_failure 1
	[ "$(printf '%s\n' "$output" | grep -c ' fail ')" -eq 6 ]
	assert_line --regexp "^[0-9] fail 0 2 http://127.0.0.1:[0-9]+/v1/embeddings: .*connect.* \(gave up after 2 attempts\)$"
	assert_line --partial "not sent again: every server is failing"
	assert_line --partial "not sent: every server is failing"
	# one cool-down of 1 s, not one per request
	[ "$elapsed" -lt 4000 ] || fail "took $elapsed ms"
}

@test "no more than --parallel requests in flight per URL" {
	server_start --latency 200
	requests 12
	driver -u "$SERVER_URL" -p 3
	assert_success
	max=$(server_max_inflight)
	[ "$max" -le 3 ] && [ "$max" -ge 2 ] || fail "max in flight: $max"
}

@test "--rps paces the requests" {
	server_start
	requests 8
	driver -u "$SERVER_URL" -p 8 --rps 4
	assert_success
	# 4 at once (one second's worth), then one every 250 ms
	[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
}

# lines BODY N: N requests with the same body.
lines() {
	local i
	for i in $(seq "$2"); do printf '/embeddings\t%s\n' "$1"; done > in.txt
}

@test "--tpm paces the requests by their estimated tokens" {
	server_start
	# 40 ASCII characters: 10 tokens. At --tpm 600 the bucket holds 600 tokens
	# and refills 10 a second: 60 requests go at once, the 61st a second later.
	ascii='{"model":"m","input":["xxxxxxxxxxxxxx"]}'
	[ ${#ascii} -eq 40 ]
	lines "$ascii" 60
	driver -u "$SERVER_URL" -p 8 --tpm 600
	assert_success
	[ "$elapsed" -lt 800 ] || fail "60 requests took $elapsed ms"
	lines "$ascii" 61
	driver -u "$SERVER_URL" -p 8 --tpm 600
	assert_success
	[ "$elapsed" -ge 900 ] || fail "61 requests took only $elapsed ms"
	# 26 ASCII characters (7 tokens) and 3 CJK ones (1 each): 10 tokens too
	lines '{"model":"m","input":["字字字"]}' 61
	driver -u "$SERVER_URL" -p 8 --tpm 600
	assert_success
	[ "$elapsed" -ge 900 ] || fail "61 requests took only $elapsed ms"
}
