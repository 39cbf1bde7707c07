#!/usr/bin/env bats
# rag-split --compat langchain must return the very chunk texts of LangChain's
# RecursiveCharacterTextSplitter (keep_separator=True, strip_whitespace=True,
# length = code points) on the file's text exactly as it is (decoded as
# UTF-8, line ends untouched, CR included).
#
# Expected chunks are in tests/langchain/, made by tests/langchain/oracle.py
# (see tests/langchain/regen.sh):
#   NAME.S-O.json      NAME.txt, --size S --overlap O, default separators
#   NAME.S-O.TAG.json  the same with --separators from separators/TAG.json

if [ -f "$BATS_TEST_DIRNAME/helpers.bash" ]; then
	load helpers
else
	bats_load_library bats-support
	bats_load_library bats-assert
fi
PATH="$BATS_TEST_DIRNAME/../bin:$PATH"

LC="$BATS_TEST_DIRNAME/langchain"

# The inputs given a test of their own below.
LC_INPUTS="prose longwords newlines crlf padded chinese mixed lines oneblank whitespace small tiny bom empty blank"
LC_TAGS="cjkpunct sentence nofallback absent emptylist midword"

# lc_check FILE.json: run rag-split on the case the file name describes and
# compare the .text fields with the expected array. Prints why on failure.
lc_check() {
	local json=$1 base name rest sizes tag size overlap
	local args out err exp act
	base=$(basename "$json" .json)
	name=${base%%.*}
	rest=${base#*.}
	sizes=${rest%%.*}
	tag=
	[ "$rest" != "$sizes" ] && tag=${rest#*.}
	size=${sizes%-*}
	overlap=${sizes#*-}
	args=(--compat langchain --size "$size" --overlap "$overlap")
	[ -n "$tag" ] && args+=(--separators "$(cat "$LC/separators/$tag.json")")
	out="$BATS_TEST_TMPDIR/$base.out"
	err="$BATS_TEST_TMPDIR/$base.err"
	local st=0
	rag-split "${args[@]}" "$LC/$name.txt" >"$out" 2>"$err" || st=$?
	if [ "$st" -ne 0 ]; then
		echo "FAIL $base: rag-split ${args[*]} $name.txt exited $st: $(head -c 500 "$err")"
		return 1
	fi
	if ! act=$(jq -s -c 'map(.text)' "$out" 2>&1); then
		echo "FAIL $base: output is not JSON lines: $act"
		return 1
	fi
	exp=$(jq -c . "$json")
	[ "$act" = "$exp" ] && return 0
	echo "FAIL $base: rag-split ${args[*]} $name.txt"
	jq -n -r --argjson e "$exp" --argjson a "$act" '
		([range(0; [($e|length), ($a|length)] | max)]
		 | map(select($e[.] != $a[.])) | .[0]) as $i
		| "  expected \($e|length) chunks, got \($a|length); first difference at chunk \($i):",
		  "  expected: \($e[$i] | tojson)",
		  "  actual:   \($a[$i] | tojson)"'
	return 1
}

# lc_check_all GLOB...: every expected file matching; all failures reported.
lc_check_all() {
	local f n=0 bad=0
	for f in "$@"; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		lc_check "$f" || bad=$((bad + 1))
	done
	if [ "$n" -eq 0 ]; then
		echo "no expected files match $*"
		return 1
	fi
	[ "$bad" -eq 0 ] || { echo "$bad of $n cases differ"; return 1; }
}

# Default separators: NAME.S-O.json (exactly one dot-field between name and .json).
lc_defaults() {
	local f b
	for f in "$LC/$1".*-*.json; do
		b=$(basename "$f" .json)
		b=${b#*.}
		[ "$b" = "${b%%.*}" ] && echo "$f"
	done
}

@test "langchain: expected files, inputs and separator lists are consistent" {
	local f base name tag rest t
	for f in "$LC"/*.json; do
		base=$(basename "$f" .json)
		name=${base%%.*}
		rest=${base#*.}
		[ -f "$LC/$name.txt" ] || { echo "$f: no $name.txt"; return 1; }
		if [ "$rest" != "${rest%%.*}" ]; then
			tag=${rest#*.}
			[ -f "$LC/separators/$tag.json" ] || { echo "$f: no separators/$tag.json"; return 1; }
			case " $LC_TAGS " in *" $tag "*) ;; *) echo "$tag: not in LC_TAGS"; return 1 ;; esac
		fi
		jq -e 'type == "array" and all(.[]; type == "string")' "$f" >/dev/null ||
			{ echo "$f: not an array of strings"; return 1; }
	done
	for f in "$LC"/*.txt; do
		t=$(basename "$f" .txt)
		case " $LC_INPUTS " in *" $t "*) ;; *) echo "$t.txt: not in LC_INPUTS"; return 1 ;; esac
		[ -n "$(lc_defaults "$t")" ] || { echo "$t.txt: no expected file"; return 1; }
	done
}

@test "langchain: oracle.py reproduces every expected file" {
	command -v python3 >/dev/null || skip "python3 not installed"
	local f base name rest sizes tag exp act bad=0
	for f in "$LC"/*.json; do
		base=$(basename "$f" .json)
		name=${base%%.*}
		rest=${base#*.}
		sizes=${rest%%.*}
		tag=
		[ "$rest" != "$sizes" ] && tag=${rest#*.}
		if [ -n "$tag" ]; then
			act=$(python3 "$LC/oracle.py" --size "${sizes%-*}" --overlap "${sizes#*-}" \
				--separators "$(cat "$LC/separators/$tag.json")" "$LC/$name.txt" | jq -c .)
		else
			act=$(python3 "$LC/oracle.py" --size "${sizes%-*}" --overlap "${sizes#*-}" "$LC/$name.txt" | jq -c .)
		fi
		exp=$(jq -c . "$f")
		[ "$act" = "$exp" ] || { echo "stale: $base (run tests/langchain/regen.sh)"; bad=1; }
	done
	[ "$bad" -eq 0 ]
}

@test "langchain: prose with paragraphs and lines" {
	lc_check_all $(lc_defaults prose)
}

@test "langchain: words longer than the chunk size" {
	lc_check_all $(lc_defaults longwords)
}

@test "langchain: runs of three or more newlines" {
	lc_check_all $(lc_defaults newlines)
}

@test "langchain: CRLF, lone CR and CR CR LF kept as the file has them" {
	lc_check_all $(lc_defaults crlf)
}

# Worked out by hand from RecursiveCharacterTextSplitter's rules, not by the
# oracle: "\r\n\r\n" holds no "\n\n", so the top level splits at "\n"
# into "ab cd\r", "\nef gh\r", "\n\r", "\nij\r", "\n"; at --size 6 the first
# fits exactly (6), the second (7) is split again at " ", the last three
# merge to "\n\r\nij\r" (6) and "\n", stripped to "ij" and nothing.
@test "langchain: CRLF text cut as the splitter cuts it (worked by hand)" {
	printf 'ab cd\r\nef gh\r\n\r\nij\r\n' > crlf.txt
	run --separate-stderr rag-split --compat langchain -s 6 -o 0 crlf.txt
	assert_success
	[ "$(jq -s -c 'map(.text)' <<< "$output")" = '["ab cd","ef","gh","ij"]' ]
	# at --size 20 it all fits: the CRs inside stay, those at the ends go
	run --separate-stderr rag-split --compat langchain -s 20 -o 0 crlf.txt
	assert_success
	[ "$(jq -s -c 'map(.text)' <<< "$output")" = '["ab cd\r\nef gh\r\n\r\nij"]' ]
	# a lone CR is no line end: "one\rtwo" (7) is cut into characters
	printf 'one\rtwo three' > cr.txt
	run --separate-stderr rag-split --compat langchain -s 5 -o 0 cr.txt
	assert_success
	[ "$(jq -s -c 'map(.text)' <<< "$output")" = '["one\rt","wo","thre","e"]' ]
}

@test "langchain: leading and trailing whitespace" {
	lc_check_all $(lc_defaults padded)
}

@test "langchain: Chinese without spaces falls to single characters" {
	lc_check_all $(lc_defaults chinese)
}

@test "langchain: mixed scripts, combining marks, characters beyond the BMP" {
	lc_check_all $(lc_defaults mixed)
}

@test "langchain: no blank line anywhere: top level splits at newlines" {
	lc_check_all $(lc_defaults lines)
}

@test "langchain: one blank line near the end decides the top level" {
	lc_check_all $(lc_defaults oneblank)
}

@test "langchain: Unicode whitespace stripped as Python's str.strip" {
	lc_check_all $(lc_defaults whitespace)
}

@test "langchain: short text, and sizes 1 and 2 (pieces emitted unstripped)" {
	lc_check_all $(lc_defaults small)
}

@test "langchain: a text file of fewer than 14 bytes is still read as text" {
	lc_check_all $(lc_defaults tiny)
}

@test "langchain: a leading byte order mark is kept (Python's utf-8 codec)" {
	lc_check_all $(lc_defaults bom)
}

@test "langchain: empty and whitespace-only files give no chunks" {
	lc_check_all $(lc_defaults empty) $(lc_defaults blank)
}

@test "langchain: --separators with Chinese punctuation kept at the start" {
	lc_check_all "$LC"/*.cjkpunct.json
}

@test "langchain: --separators sentence ends" {
	lc_check_all "$LC"/*.sentence.json
}

@test "langchain: --separators without \"\": long pieces emitted whole and unstripped" {
	lc_check_all "$LC"/*.nofallback.json
}

@test "langchain: --separators none of which occurs" {
	lc_check_all "$LC"/*.absent.json
}

@test "langchain: --separators '[]' means the default list" {
	lc_check_all "$LC"/*.emptylist.json
}

@test "langchain: --separators splitting inside words" {
	lc_check_all "$LC"/*.midword.json
}
