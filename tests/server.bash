# Start and stop tests/server.py (the OpenAI-compatible test server) from bats.
#
#     load server
#     teardown() { server_stop_all; }
#
#     server_start --latency 50 --fail 429:1
#     run http-driver -u "$SERVER_URL" ...
#     server_requests          # how many requests it has logged
#
# server_start runs one more server on a free port and sets SERVER_URL (base
# URL, ending in /v1; https:// with --tls CERT:KEY), SERVER_PORT, SERVER_LOG (its request log, see
# tests/server.py) and SERVER_PID; save them before starting another.

SERVER_PIDS=()

server_start() {
	local n=${#SERVER_PIDS[@]} out port i
	out="$BATS_TEST_TMPDIR/server-$n.out"
	SERVER_LOG="$BATS_TEST_TMPDIR/server-$n.log"
	: > "$SERVER_LOG"
	# made here, not by the child's redirection: on a busy machine the loop
	# below may look before the child has run
	: > "$out"
	# 3>&-: bats waits for every process holding its fd 3 open.
	python3 "$RAGPIPE_ROOT/tests/server.py" --port 0 --log "$SERVER_LOG" "$@" \
		> "$out" 2> "$out.err" 3>&- &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	for i in $(seq 100); do
		port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$out")
		[ -n "$port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		echo "server.py did not start: $(cat "$out.err")" >&2
		return 1
	fi
	SERVER_PORT=$port
	SERVER_URL="http://127.0.0.1:$port/v1"
	[[ " $* " != *" --tls "* ]] || SERVER_URL="https://127.0.0.1:$port/v1"
	export SERVER_URL SERVER_PORT SERVER_LOG SERVER_PID
}

server_stop_all() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	SERVER_PIDS=()
}

# server_requests [LOG]: number of requests a server has logged.
server_requests() {
	wc -l < "${1:-$SERVER_LOG}" | tr -d ' '
}

# server_max_inflight [LOG]: the most requests it was handling at once.
server_max_inflight() {
	sed -n 's/.* inflight=\([0-9]*\) .*/\1/p' "${1:-$SERVER_LOG}" | sort -n | tail -1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on (just now).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
