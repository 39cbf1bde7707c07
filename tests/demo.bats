#!/usr/bin/env bats
# make demo: what a new user runs first (README). It installs only what the
# demo needs, keeps its index and says how to go on.

load helpers

@test "make demo installs only what the demo needs: no test tools" {
	run make -s -C "$RAGPIPE_ROOT" --no-print-directory -p -n demo-deps
	assert_success
	pkgs=$(printf '%s\n' "$output" | sed -n 's/^DEMO_PKGS = //p' | head -1)
	[ -n "$pkgs" ] || fail "no DEMO_PKGS in: $(printf '%s\n' "$output" | grep -m3 PKGS)"
	for tool in valgrind clang bats parallel libclang-rt-dev mupdf-tools; do
		[[ " $pkgs " != *" $tool "* ]] || fail "the demo installs $tool: $pkgs"
	done
	for need in libmupdf-dev libfaiss-dev jq; do
		[[ " $pkgs " == *" $need "* ]] || fail "the demo lacks $need: $pkgs"
	done
	# make check still installs everything
	deb=$(printf '%s\n' "$output" | sed -n 's/^DEB_PKGS = //p' | head -1)
	[[ "$deb" == *'$(DEMO_PKGS)'*'$(TEST_PKGS)'* ]] || fail "DEB_PKGS: $deb"
}

@test "the demo keeps its index, names it, and the commands it prints to try next work" {
	run --separate-stderr env RAGPIPE_DEMO_KB="$TMP/kb" sh "$RAGPIPE_ROOT/tests/demo.sh"
	assert_success
	[[ "$output" == *"The demo's index is kept in $TMP/kb."* ]] || fail "output: ${output: -600}"
	run rag-index -d "$TMP/kb" --stats
	assert_success
	assert_jq '.[0] | .documents > 0 and .faiss_current'
	# the three lines it prints, run as a user would paste them
	cmds=$(env RAGPIPE_DEMO_KB="$TMP/kb" sh "$RAGPIPE_ROOT/tests/demo.sh" 2>/dev/null | tail -3)
	[[ "$(sed -n 1p <<<"$cmds")" == *'export PATH="'"$RAGPIPE_ROOT"'/bin:$PATH" MANPATH="'"$RAGPIPE_ROOT"'/build/man:"'* ]] ||
		fail "$cmds"
	make -s -C "$RAGPIPE_ROOT" --no-print-directory manpath
	mkdir -p "$TMP/home/Documents"
	cp "$DATA/demo/cnn-architectures.pdf" "$TMP/home/Documents/"
	run --separate-stderr env -i HOME="$TMP/home" PATH=/usr/bin:/bin sh -c "$(sed 's/^ *//' <<<"$cmds") >/dev/null && man -w rag-query && echo 'What is a dense block?' | rag-query -d \$HOME/kb | rag-answer --text"
	assert_success
	[[ "$output" == *"$RAGPIPE_ROOT/"*"man/"*"rag-query.1"* ]] || fail "man -w: $output / $stderr"
	[[ "$output" == *"dense block"*"[1]"* ]] || fail "output: $output"
}
