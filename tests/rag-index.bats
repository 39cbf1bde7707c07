#!/usr/bin/env bats
# rag-index: embedded chunk records -> an index directory (man/rag-index.1).
# Creating, re-running, replacing, deleting, pruning, merging, rebuilding,
# refusing bad records whole-batch, the lock, kill -9 at random instants and
# readers during a write.  Needs jq, python3 and the sqlite3 CLI (else
# python3's sqlite3 module).  FTS5 MATCH needs ragpipe's own tokenizer, which
# neither has, so setup_file builds a small SQL tool against
# build/*/libragpipe.a for those queries (tests that need it skip without).

load helpers

setup_file() {
	local lib cc=${CC:-cc}

	# sql tool that knows the 'ragpipe' FTS5 tokenizer (the sqlite3 CLI does not)
	lib="$RAGPIPE_ROOT/$(cat "$RAGPIPE_ROOT/bin/.flavour" 2>/dev/null || echo build/rel)/libragpipe.a"
	FTSQ="$BATS_FILE_TMPDIR/ftsq"
	cat >"$BATS_FILE_TMPDIR/ftsq.c" <<'EOF'
#include <sqlite3.h>
#include <stdio.h>
#include "fts.h"
static int row(void *u, int n, char **v, char **c)
{
	(void)u; (void)c;
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? "|" : "", v[i] ? v[i] : "");
	putchar('\n');
	return 0;
}
int main(int argc, char **argv)
{
	sqlite3 *db;
	char *err = NULL;
	if (argc != 3 || sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return 2;
	sqlite3_busy_timeout(db, 10000);
	if (fts_register(db, NULL) != SQLITE_OK || sqlite3_exec(db, argv[2], row, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "ftsq: %s\n", err ? err : sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_close(db);
	return 0;
}
EOF
	case "$lib" in
	*/build/san/*) sanflags="-fsanitize=address,undefined" ;;
	*) sanflags= ;;
	esac
	# shellcheck disable=SC2086
	$cc -std=c11 -D_GNU_SOURCE $sanflags -I"$RAGPIPE_ROOT/common" -o "$FTSQ" "$BATS_FILE_TMPDIR/ftsq.c" "$lib" \
		-lsqlite3 -ljson-c -lutf8proc -lm -lpthread 2>"$BATS_FILE_TMPDIR/ftsq.err" || rm -f "$FTSQ"
	export FTSQ

	# the demo documents and two small text files: 5 documents
	EMB="$BATS_FILE_TMPDIR/emb.jsonl"
	rag-split "$DATA"/demo/* "$DATA/notes.md" "$DATA/plain.txt" | rag-embed >"$EMB"
	export EMB

	# synthetic: 60 sources of 5 chunks each, version 1 and version 2 (other
	# doc hash and text); the first two characters of a chunk's text are
	# those of its document's hash
	SYN1="$BATS_FILE_TMPDIR/syn1.jsonl"
	SYN2="$BATS_FILE_TMPDIR/syn2.jsonl"
	for v in 1 2; do
		awk -v v="$v" 'BEGIN { for (s = 1; s <= 60; s++) for (c = 1; c <= 5; c++)
			printf "{\"id\":\"/syn/s%03d.txt#%d\",\"source\":\"/syn/s%03d.txt\",\"doc\":\"v%d-s%03d\",\"seq\":%d,\"text\":\"v%d chunk %d of document %d about topic%d and word%dx%d in version%d\"}\n",
				s, c, s, v, s, c, v, c, s, s, s, c, v }' | rag-embed >"$BATS_FILE_TMPDIR/syn$v.jsonl"
	done
	export SYN1 SYN2
}

teardown() {
	local p
	if [ -f "$TMP/pids" ]; then
		while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$TMP/pids"
	fi
}

# ---------------------------------------------------------------------------
# helpers

# sql DIR QUERY: run QUERY on DIR/index.sqlite; rows as a|b|c lines.
sql() {
	if command -v sqlite3 >/dev/null; then
		sqlite3 -batch "$1/index.sqlite" "$2"
	else
		python3 - "$1/index.sqlite" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for q in sys.argv[2].split(";"):
    if q.strip():
        for row in db.execute(q):
            print("|".join("" if x is None else str(x) for x in row))
EOF
	fi
}

# fts DIR QUERY: as sql, with ragpipe's tokenizer registered (MATCH).
fts() {
	[ -x "$FTSQ" ] || skip "cannot build the FTS5 query tool: $(head -3 "$BATS_FILE_TMPDIR/ftsq.err")"
	"$FTSQ" "$1/index.sqlite" "$2"
}

# match DIR WORDS: the chunk ids the full-text index finds, sorted.
match() {
	fts "$1" "SELECT c.id FROM fts JOIN chunks c ON c.rid = fts.rowid WHERE fts MATCH '$2' ORDER BY c.id"
}

# stats DIR: --stats without "bytes" (which a WAL file changes).
stats() {
	rag-index -d "$1" --stats | jq -c 'del(.bytes)'
}

# stat_of DIR KEY
stat_of() {
	rag-index -d "$1" --stats | jq -r ".$2"
}

# content DIR: everything a user can tell apart, row ids aside.
content() {
	sql "$1" "SELECT '== chunks';
		SELECT id, source, seq, page, page_end, title, text, fields, hex(vec) FROM chunks ORDER BY id;
		SELECT '== documents';
		SELECT source, doc, chunks FROM documents ORDER BY source;
		SELECT '== terms';
		SELECT hash, df FROM terms ORDER BY hash;
		SELECT '== meta';
		SELECT key, value FROM meta WHERE key IN ('chunks', 'total_dl', 'embedder', 'dim') ORDER BY key"
}

# consistent DIR: the invariants an index holds at every committed state
# (one query: this runs after every kill).
consistent() {
	local d=$1 r q
	q="SELECT 'integrity_check: ' || integrity_check FROM pragma_integrity_check WHERE integrity_check != 'ok'
	   UNION ALL
	   SELECT 'document ' || source || ' says ' || chunks || ' chunks but has ' || n FROM
		(SELECT source, chunks, (SELECT count(*) FROM chunks c WHERE c.source = d.source) AS n FROM documents d)
		WHERE chunks != n
	   UNION ALL
	   SELECT DISTINCT 'chunks without a document: ' || source FROM chunks WHERE source NOT IN (SELECT source FROM documents)
	   UNION ALL
	   SELECT 'meta says ' || value || ' chunks but there are ' || (SELECT count(*) FROM chunks) FROM meta
		WHERE key = 'chunks' AND CAST(value AS INTEGER) != (SELECT count(*) FROM chunks)"
	if [ -x "$FTSQ" ]; then
		# and the full-text index holds exactly the chunks' rows
		q="$q
		   UNION ALL
		   SELECT 'full-text rows of no chunk: ' || group_concat(doc) FROM
			(SELECT DISTINCT doc FROM temp.v WHERE doc NOT IN (SELECT rid FROM chunks)) HAVING count(*) > 0
		   UNION ALL
		   SELECT 'chunks not in the full-text index: ' || group_concat(rid) FROM chunks
			WHERE rid NOT IN (SELECT doc FROM temp.v) HAVING count(*) > 0"
		r=$("$FTSQ" "$d/index.sqlite" "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, fts, 'instance');
			$q; INSERT INTO fts(fts) VALUES('integrity-check')" 2>&1) || fail "$d: $r"
	else
		r=$(sql "$d" "$q" 2>&1) || fail "$d: cannot read it: $r"
	fi
	[ -z "$r" ] || fail "$d: $r"
}

# records_of SOURCE-SUFFIX < jsonl: the records of sources ending so.
records_of() {
	jq -c --arg s "$1" 'select(.source | endswith($s))'
}

# remember PID: a background process to kill at teardown.
remember() {
	echo "$1" >>"$TMP/pids"
}

# slowfeed FILE DELAY: FILE's lines, one every DELAY seconds.
slowfeed() {
	python3 -c '
import sys, time
for line in open(sys.argv[1]):
    try:
        sys.stdout.write(line); sys.stdout.flush()
    except BrokenPipeError:
        sys.exit(0)
    time.sleep(float(sys.argv[2]))
' "$1" "$2" 2>/dev/null
}

# ---------------------------------------------------------------------------
# creating

@test "create: the directory holds index.sqlite, lock and vectors-G.faiss; --stats counts; stdout is empty" {
	n=$(wc -l <"$EMB")
	docs=$(jq -r .source "$EMB" | sort -u | wc -l)
	[ "$docs" -ge 5 ] && [ "$n" -gt 15 ]
	run --separate-stderr rag-index -d kb <"$EMB"
	assert_success
	assert_output ""
	assert_stderr_empty
	assert_dir_exists kb
	assert_file_exists kb/index.sqlite
	assert_file_exists kb/lock
	run rag-index -d kb --stats
	assert_success
	assert_jsonl
	assert_jq ".[0] | .documents == $docs and .chunks == $n and .dimension == 512
		and .embedder == \"ragpipe-lex1-512\" and .index_type == \"Flat\" and .faiss_current == true
		and .generation >= 1 and .bytes > 0"
	g=$(jl .generation)
	assert_file_exists "kb/vectors-$g.faiss"
	[ "$(ls kb | grep -c '^vectors-')" = 1 ] || fail "other faiss files: $(ls kb)"
	# the database holds the records
	[ "$(sql kb "SELECT count(*), count(DISTINCT id) FROM chunks")" = "$n|$n" ]
	[ "$(sql kb "SELECT source || ' ' || doc || ' ' || chunks FROM documents ORDER BY source")" = \
	  "$(jq -r '[.source, .doc] | join(" ")' "$EMB" | sort | uniq -c | awk '{ print $2, $3, $1 }' | sort)" ]
	# each record's fields in their columns, its vector the float32 values
	python3 - kb/index.sqlite "$EMB" <<'EOF'
import json, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
rows = {r["id"]: r for r in db.execute("SELECT * FROM chunks")}
for line in open(sys.argv[2]):
    r = json.loads(line)
    c = rows[r["id"]]
    for k in ("source", "seq", "page", "page_end", "title", "text"):
        assert c[k] == r.get(k), (r["id"], k, c[k], r.get(k))
    e = r["embedding"]
    assert c["vec"] == struct.pack("<%df" % len(e), *e), r["id"]
EOF
	# and the full-text index finds what the text holds
	diff <(match kb residual) \
	     <(jq -r 'select((.title // "") + " " + .text | test("residual"; "i")) | .id' "$EMB" | sort)
	[ -n "$(match kb residual)" ]
	consistent kb
}

@test "create: --summary counts the documents and chunks added" {
	n=$(wc -l <"$EMB")
	docs=$(jq -r .source "$EMB" | sort -u | wc -l)
	run --separate-stderr rag-index -d kb --summary <"$EMB"
	assert_success
	assert_jsonl
	assert_jq ".[0] == {added: $docs, replaced: 0, unchanged: 0, deleted: 0, chunks_added: $n}"
	# the files named are read in turn, like standard input
	run --separate-stderr rag-index -d kb2 --summary "$EMB"
	assert_success
	assert_jq ".[0] == {added: $docs, replaced: 0, unchanged: 0, deleted: 0, chunks_added: $n}"
	[ "$(content kb)" = "$(content kb2)" ]
	# -v prints it too
	run --separate-stderr rag-index -d kb3 -v <"$EMB"
	assert_success
	assert_jq ".[0] == {added: $docs, replaced: 0, unchanged: 0, deleted: 0, chunks_added: $n}"
}

@test "re-run on the same input changes nothing: unchanged=N, same generation, byte-identical tables" {
	docs=$(jq -r .source "$EMB" | sort -u | wc -l)
	n=$(wc -l <"$EMB")
	rag-index -d kb <"$EMB"
	before=$(stats kb)
	q="SELECT rid, id, source, seq, page, page_end, title, text, fields, dl, hex(vec) FROM chunks ORDER BY rid;
	   SELECT source, doc, chunks, indexed_at FROM documents ORDER BY source;
	   SELECT hash, df FROM terms ORDER BY hash"
	dump=$(sql kb "$q")
	faiss=$(ls kb/vectors-*.faiss)
	cp "$faiss" saved.faiss
	run --separate-stderr rag-index -d kb --summary <"$EMB"
	assert_success
	assert_stderr_empty
	assert_jq ".[0] == {added: 0, replaced: 0, unchanged: $docs, deleted: 0, chunks_added: 0}"
	[ "$(stats kb)" = "$before" ] || fail "stats changed: $before -> $(stats kb)"
	[ "$(sql kb "SELECT count(*), count(DISTINCT id) FROM chunks")" = "$n|$n" ]
	[ "$(sql kb "$q")" = "$dump" ] || fail "the tables changed"
	assert_file_exists "$faiss"
	cmp "$faiss" saved.faiss
}

# ---------------------------------------------------------------------------
# replacing, deleting, pruning

@test "replace: a document whose hash changed has its old chunks replaced, the others are untouched" {
	rag-index -d kb <"$EMB"
	n=$(wc -l <"$EMB")
	docs=$(jq -r .source "$EMB" | sort -u | wc -l)
	old=$(records_of quillsort.md <"$EMB" | wc -l)
	[ "$old" -gt 2 ]
	[ -n "$(match kb quillsort)" ]
	g=$(stat_of kb generation)
	maxrid=$(sql kb "SELECT max(rid) FROM chunks")
	others=$(sql kb "SELECT rid, id, text, hex(vec) FROM chunks WHERE source NOT LIKE '%quillsort.md' ORDER BY rid")
	# quillsort.md, changed: two chunks of new text, another doc hash
	{
		jq -c 'select(.source | endswith("quillsort.md") | not)' "$EMB"
		records_of quillsort.md <"$EMB" | head -2 | jq -c 'del(.embedding, .embedder, .title)
			| .doc = "0000000000000000000000000000000000000000000000000000000000000001"
			| .text = "Xylophone orchestra rehearsal notes, part \(.seq)."' | rag-embed
	} >new.jsonl
	run --separate-stderr rag-index -d kb --summary <new.jsonl
	assert_success
	assert_jq ".[0] == {added: 0, replaced: 1, unchanged: $((docs - 1)), deleted: 0, chunks_added: 2}"
	run stats kb
	assert_jq ".[0] | .documents == $docs and .chunks == $((n - old + 2)) and .generation == $((g + 1))
		and .faiss_current == true"
	[ "$(sql kb "SELECT count(*) FROM chunks WHERE source LIKE '%quillsort.md'")" = 2 ]
	# row ids (the faiss ids) are never reused
	[ "$(sql kb "SELECT min(rid) FROM chunks WHERE source LIKE '%quillsort.md'")" -gt "$maxrid" ]
	[ "$(sql kb "SELECT count(*) FROM chunks WHERE source LIKE '%quillsort.md' AND text NOT LIKE 'Xylophone%'")" = 0 ]
	[ "$(sql kb "SELECT doc, chunks FROM documents WHERE source LIKE '%quillsort.md'")" = \
	  "0000000000000000000000000000000000000000000000000000000000000001|2" ]
	# the full-text index: old text gone, new text found
	assert_equal "$(match kb quillsort)" ""
	assert_equal "$(match kb xylophone)" "$(jq -r 'select(.text | startswith("Xylophone")) | .id' new.jsonl | sort)"
	# the other documents' rows are the very same rows
	[ "$(sql kb "SELECT rid, id, text, hex(vec) FROM chunks WHERE source NOT LIKE '%quillsort.md' ORDER BY rid")" = "$others" ]
	assert_file_exists "kb/vectors-$((g + 1)).faiss"
	[ "$(ls kb | grep -c '^vectors-')" = 1 ] || fail "old faiss files stay: $(ls kb)"
	consistent kb
}

@test "--delete removes a source's chunks, full-text rows and document" {
	rag-index -d kb <"$EMB"
	docs=$(jq -r .source "$EMB" | sort -u | wc -l)
	n=$(wc -l <"$EMB")
	q=$(records_of quillsort.md <"$EMB" | wc -l)
	src=$(records_of quillsort.md <"$EMB" | jq -r .source | head -1)
	[ -n "$(match kb quillsort)" ]
	run --separate-stderr rag-index -d kb --delete "$src" --summary
	assert_success
	assert_stderr_empty
	assert_jq ".[0] == {added: 0, replaced: 0, unchanged: 0, deleted: 1, chunks_added: 0}"
	run stats kb
	assert_jq ".[0] | .documents == $((docs - 1)) and .chunks == $((n - q)) and .faiss_current == true"
	[ "$(sql kb "SELECT count(*) FROM chunks WHERE source = '$src'")" = 0 ]
	[ "$(sql kb "SELECT count(*) FROM documents WHERE source = '$src'")" = 0 ]
	assert_equal "$(match kb quillsort)" ""
	[ -n "$(match kb residual)" ]
	consistent kb
}

@test "--delete of a source not in the index warns and exits 0; without sources it is a usage error" {
	rag-index -d kb <"$EMB"
	before=$(stats kb)
	run --separate-stderr rag-index -d kb --delete /no/such/source
	assert_success
	assert_output ""
	[[ "$stderr" == *"/no/such/source: not in the index"* ]] || fail "stderr: $stderr"
	[ "$(stats kb)" = "$before" ]
	# -q silences the warning
	run --separate-stderr rag-index -d kb -q --delete /no/such/source
	assert_success
	assert_stderr_empty
	# --delete alone
	run --separate-stderr rag-index -d kb --delete
	assert_failure 2
	assert_output ""
	[[ "$stderr" == *"--delete needs the sources to remove"* ]] || fail "stderr: $stderr"
	[ "$(stats kb)" = "$before" ]
	run --separate-stderr rag-index -d new --delete
	assert_failure 2
	assert_not_exist new
}

# three files on disk and chunk records whose source is their path
make_files() {
	mkdir -p files
	for f in alpha beta gamma; do
		echo "$f" >"files/$f.txt"
		printf '{"id":"%s#1","source":"%s","doc":"h-%s","seq":1,"text":"about %s one"}\n{"id":"%s#2","source":"%s","doc":"h-%s","seq":2,"text":"about %s two"}\n' \
			"$TMP/files/$f.txt" "$TMP/files/$f.txt" "$f" "$f" "$TMP/files/$f.txt" "$TMP/files/$f.txt" "$f" "$f"
	done | rag-embed >files.jsonl
}

@test "--prune removes the documents whose source no longer exists" {
	make_files
	rag-index -d kb <files.jsonl
	run --separate-stderr rag-index -d kb --prune --summary
	assert_success
	assert_jq '.[0].deleted == 0'
	rm files/beta.txt
	run --separate-stderr rag-index -d kb --prune --summary
	assert_success
	assert_jq '.[0] == {added: 0, replaced: 0, unchanged: 0, deleted: 1, chunks_added: 0}'
	assert_equal "$(sql kb "SELECT source FROM documents ORDER BY source")" "$TMP/files/alpha.txt
$TMP/files/gamma.txt"
	assert_equal "$(sql kb "SELECT DISTINCT source FROM chunks ORDER BY source")" "$TMP/files/alpha.txt
$TMP/files/gamma.txt"
	run stats kb
	assert_jq '.[0] | .documents == 2 and .chunks == 4 and .faiss_current == true'
	consistent kb
}

@test "--prune --keep-list FILE and --keep-list - keep only the sources listed" {
	make_files
	rag-index -d kb <files.jsonl
	printf '%s\n' "$TMP/files/alpha.txt" "$TMP/files/gamma.txt" /not/indexed >keep
	run --separate-stderr rag-index -d kb --prune --keep-list keep --summary
	assert_success
	assert_jq '.[0].deleted == 1'
	assert_equal "$(sql kb "SELECT source FROM documents ORDER BY source")" "$TMP/files/alpha.txt
$TMP/files/gamma.txt"
	# from standard input; the files all still exist, the list decides
	run --separate-stderr rag-index -d kb --prune --keep-list - --summary <<<"$TMP/files/gamma.txt"
	assert_success
	assert_jq '.[0].deleted == 1'
	assert_equal "$(sql kb "SELECT source FROM documents")" "$TMP/files/gamma.txt"
	assert_equal "$(sql kb "SELECT DISTINCT source FROM chunks")" "$TMP/files/gamma.txt"
	consistent kb
	# --keep-list without --prune is a usage error
	run --separate-stderr rag-index -d kb --keep-list keep
	assert_failure 2
	[[ "$stderr" == *"--keep-list goes with --prune"* ]] || fail "stderr: $stderr"
}

# ---------------------------------------------------------------------------
# merging

@test "--merge: two shards of halves of the input hold what one index of the whole input holds" {
	mapfile -t srcs < <(jq -r .source "$EMB" | awk '!seen[$0]++')
	half=$(( ${#srcs[@]} / 2 ))
	: >h1.jsonl
	: >h2.jsonl
	for i in "${!srcs[@]}"; do
		jq -c --arg s "${srcs[$i]}" 'select(.source == $s)' "$EMB" >>"$([ "$i" -lt "$half" ] && echo h1 || echo h2).jsonl"
	done
	[ -s h1.jsonl ] && [ -s h2.jsonl ]
	rag-index -d whole <"$EMB"
	rag-index -d s1 <h1.jsonl
	rag-index -d s2 <h2.jsonl
	run --separate-stderr rag-index -d merged --merge s1 s2 --summary
	assert_success
	assert_stderr_empty
	assert_jq ".[0] == {added: ${#srcs[@]}, replaced: 0, unchanged: 0, deleted: 0, chunks_added: $(wc -l <"$EMB")}"
	q="SELECT id, source, seq, page, title, text, fields, hex(vec) FROM chunks ORDER BY id"
	diff <(sql whole "$q") <(sql merged "$q")
	diff <(content whole) <(content merged)
	[ "$(stats merged | jq -c 'del(.generation)')" = "$(stats whole | jq -c 'del(.generation)')" ]
	[ "$(stat_of merged faiss_current)" = true ]
	assert_equal "$(match merged residual)" "$(match whole residual)"
	consistent merged
	# merging again changes nothing
	before=$(stats merged)
	run --separate-stderr rag-index -d merged --merge s2 s1 --summary
	assert_success
	assert_jq ".[0] == {added: 0, replaced: 0, unchanged: ${#srcs[@]}, deleted: 0, chunks_added: 0}"
	[ "$(stats merged)" = "$before" ]
}

@test "--merge: a source in both is taken from the one added last, unless its hash is the same" {
	records_of quillsort.md <"$EMB" >q1.jsonl
	records_of quillsort.md <"$EMB" | head -1 | jq -c 'del(.embedding, .embedder) | .doc = "other" | .text = "Xylophone"' \
		| rag-embed >q2.jsonl
	rag-index -d s1 <q1.jsonl
	rag-index -d s2 <q2.jsonl
	rag-index -d m --merge s1 s2
	assert_equal "$(sql m "SELECT doc, chunks FROM documents")" "other|1"
	assert_equal "$(sql m "SELECT text FROM chunks")" "Xylophone"
	consistent m
}

@test "--merge refuses an index of another embedder, naming both, exit 1, nothing written" {
	rag-index -d kb <"$EMB"
	rag-split "$DATA/plain.txt" | rag-embed --dim 64 >e64.jsonl
	rag-index -d small <e64.jsonl
	[ "$(stat_of small embedder)" = ragpipe-lex1-64 ]
	before=$(stats kb)
	dump=$(content kb)
	run --separate-stderr rag-index -d kb --merge small
	assert_failure 1
	[[ "$stderr" == *ragpipe-lex1-512* && "$stderr" == *ragpipe-lex1-64* ]] || fail "stderr: $stderr"
	[ "$(stats kb)" = "$before" ]
	[ "$(content kb)" = "$dump" ]
	# --merge without directories
	run --separate-stderr rag-index -d kb --merge
	assert_failure 2
}

# ---------------------------------------------------------------------------
# rebuilding

@test "--type IVF4,Flat rebuilds the faiss file without re-embedding; --rebuild alone works; the database is unchanged" {
	rag-index -d kb <"$EMB"
	dump=$(content kb)
	g=$(stat_of kb generation)
	cp "kb/vectors-$g.faiss" flat.faiss
	run --separate-stderr rag-index -d kb --type "IVF4,Flat" </dev/null
	assert_success
	run stats kb
	assert_jq ".[0] | .index_type == \"IVF4,Flat\" and .faiss_current == true and .generation == $g"
	assert_file_exists "kb/vectors-$g.faiss"
	! cmp -s "kb/vectors-$g.faiss" flat.faiss || fail "the faiss file was not rebuilt"
	[ "$(content kb)" = "$dump" ]
	# --rebuild alone
	rm "kb/vectors-$g.faiss"
	run --separate-stderr rag-index -d kb --rebuild </dev/null
	assert_success
	assert_file_exists "kb/vectors-$g.faiss"
	run stats kb
	assert_jq ".[0] | .index_type == \"IVF4,Flat\" and .faiss_current == true and .generation == $g"
	[ "$(content kb)" = "$dump" ]
	# the type stays from now on
	make_files
	rag-index -d kb <files.jsonl
	run stats kb
	assert_jq '.[0] | .index_type == "IVF4,Flat" and .faiss_current == true'
	# and back
	run --separate-stderr rag-index -d kb --type Flat </dev/null
	assert_success
	[ "$(stat_of kb index_type)" = Flat ]
	consistent kb
}

@test "--type at creation is used; a --type faiss cannot build fails (exit 1) and leaves the index as it was" {
	run --separate-stderr rag-index -d kb --type HNSW32 <"$EMB"
	assert_success
	run stats kb
	assert_jq '.[0] | .index_type == "HNSW32" and .faiss_current == true'
	before=$(stats kb)
	dump=$(content kb)
	cp kb/vectors-*.faiss saved.faiss
	run --separate-stderr rag-index -d kb --type 'No,Such,Type' </dev/null
	assert_failure 1
	[[ "$stderr" == *"No,Such,Type"* ]] || fail "stderr: $stderr"
	[ "$(stats kb)" = "$before" ]
	[ "$(content kb)" = "$dump" ]
	cmp kb/vectors-*.faiss saved.faiss
}

@test "a missing faiss file is rebuilt by the next run, even with nothing to add" {
	rag-index -d kb <"$EMB"
	g=$(stat_of kb generation)
	rm "kb/vectors-$g.faiss"
	run --separate-stderr rag-index -d kb <"$EMB"
	assert_success
	assert_file_exists "kb/vectors-$g.faiss"
	[ "$(stat_of kb faiss_current)" = true ]
}

@test "--stats: faiss_current is false while the faiss file is missing" {
	rag-index -d kb <"$EMB"
	[ "$(stat_of kb faiss_current)" = true ]
	rm kb/vectors-*.faiss
	run --separate-stderr rag-index -d kb --stats
	assert_success
	assert_jq '.[0].faiss_current == false'
}

# ---------------------------------------------------------------------------
# bad records: the run stops naming the line; nothing of that batch is written

# bad_run DESCRIPTION EXPECT LINE: the index kb holds the first half of the
# demo; feed the rest with LINE (a bad record) after it; the run must stop
# with exit 1 naming the line and EXPECT, and kb must be as before.
bad_run() {
	local what=$1 expect=$2 line=$3 lineno
	lineno=$(($(wc -l <rest.jsonl) + 1))
	{ cat rest.jsonl; printf '%s\n' "$line"; } >bad.jsonl
	run --separate-stderr rag-index -d kb <bad.jsonl
	[ "$status" = 1 ] || fail "$what: exit $status, stderr: $stderr"
	[[ "$stderr" == *"stdin: line $lineno"* ]] || fail "$what: the line is not named: $stderr"
	[[ "$stderr" == *"$expect"* ]] || fail "$what: stderr lacks '$expect': $stderr"
	[ "$(stats kb)" = "$before" ] || fail "$what: stats changed: $before -> $(stats kb)"
	[ "$(content kb)" = "$dump" ] || fail "$what: the database changed"
}

prepare_bad() {
	first=$(jq -r .source "$EMB" | head -1)
	jq -c --arg s "$first" 'select(.source == $s)' "$EMB" >first.jsonl
	jq -c --arg s "$first" 'select(.source != $s)' "$EMB" >rest.jsonl
	rag-index -d kb <first.jsonl
	before=$(stats kb)
	dump=$(content kb)
	# a good record of a new source, to be spoiled
	good=$(sed -n 1p "$EMB" | jq -c '.id = "/new.txt#1" | .source = "/new.txt" | .doc = "n"')
}

@test "bad record: another embedder name or dimension" {
	prepare_bad
	bad_run "embedder" "ragpipe-lex1-512" "$(jq -c '.embedder = "other-model"' <<<"$good")"
	[[ "$stderr" == *other-model* ]] || fail "the other embedder is not named: $stderr"
	bad_run "dimension" "makes 512 values, not 256" "$(jq -c '.embedding |= .[:256]' <<<"$good")"
}

@test "bad record: no embedding, no embedder" {
	prepare_bad
	bad_run "no embedding" '"embedding"' "$(jq -c 'del(.embedding)' <<<"$good")"
	bad_run "no embedder" '"embedder"' "$(jq -c 'del(.embedder)' <<<"$good")"
}

@test "bad record: non-finite values (1e999, NaN, -Infinity, base64 NaN, base64 Inf)" {
	prepare_bad
	bad_run "1e999" "not finite" "$(sed 's/"embedding":\[[^,]*/"embedding":[1e999/' <<<"$good")"
	bad_run "-1e999 later on" "value 7 is not finite" "$(sed -E 's/("embedding":\[([^,]*,){7})[^,]*/\1-1e999/' <<<"$good")"
	bad_run "7e38 (beyond float32)" "not finite" "$(sed 's/"embedding":\[[^,]*/"embedding":[7e38/' <<<"$good")"
	bad_run "NaN literal" "line" "$(sed 's/"embedding":\[[^,]*/"embedding":[NaN/' <<<"$good")"
	bad_run "-Infinity literal" "line" "$(sed 's/"embedding":\[[^,]*/"embedding":[-Infinity/' <<<"$good")"
	for bits in 0x7fc00000 0x7f800000 0xff800000; do
		line=$(python3 -c '
import base64, json, struct, sys
r = json.loads(sys.argv[1])
b = bytearray(struct.pack("<%df" % len(r["embedding"]), *r["embedding"]))
b[40:44] = struct.pack("<I", int(sys.argv[2], 16))
r["embedding"] = base64.b64encode(bytes(b)).decode()
print(json.dumps(r))' "$good" "$bits")
		bad_run "base64 $bits" "not finite" "$line"
	done
	bad_run "a string" "line" "$(jq -c '.embedding = "#not base64#"' <<<"$good")"
	bad_run "a string among the numbers" "line" "$(jq -c '.embedding[3] = "x"' <<<"$good")"
}

@test "bad record: not JSON, not an object, no id, no text" {
	prepare_bad
	bad_run "not JSON" "JSON" "this is not JSON"
	# read from a file, the file is named
	run --separate-stderr rag-index -d kb bad.jsonl
	assert_failure 1
	[[ "$stderr" == *"bad.jsonl: line $(wc -l <bad.jsonl)"* ]] || fail "the file's line is not named: $stderr"
	[ "$(stats kb)" = "$before" ]
	bad_run "truncated" "JSON" "${good:0:100}"
	bad_run "no id" '"id"' "$(jq -c 'del(.id)' <<<"$good")"
	bad_run "no text" '"text"' "$(jq -c 'del(.text)' <<<"$good")"
	bad_run "text not a string" '"text"' "$(jq -c '.text = 5' <<<"$good")"
	bad_run "an array" "line" "[1, 2, 3]"
}

@test "bad record in a later batch: the batches before it are kept, the one it is in is not" {
	# --batch 1: each document is a batch
	n1=$(records_of cnn-zh.md <"$EMB" | wc -l)
	{ records_of cnn-zh.md <"$EMB"; records_of quillsort.md <"$EMB" | head -2; echo 'not JSON'; } >in.jsonl
	run --separate-stderr rag-index -d kb --batch 1 <in.jsonl
	assert_failure 1
	[[ "$stderr" == *"stdin: line $((n1 + 3))"* ]] || fail "stderr: $stderr"
	run stats kb
	assert_jq ".[0] | .documents == 1 and .chunks == $n1 and .faiss_current == true"
	assert_equal "$(sql kb "SELECT count(*) FROM chunks WHERE source LIKE '%quillsort.md'")" 0
	consistent kb
}

@test "a bad first batch leaves no new index: no embedder is settled by a batch that was not written" {
	# the first records are of the 512-dimension embedder, then the run stops
	{ head -3 "$EMB"; echo 'not JSON'; } >bad.jsonl
	run --separate-stderr rag-index -d kb <bad.jsonl
	assert_failure 1
	[[ "$stderr" == *"stdin: line 4"* ]] || fail "stderr: $stderr"
	[ ! -e kb ] || fail "a new index was left: $(ls -a kb)"
	# into an index that exists, empty, the same
	rag-index -d kb </dev/null
	run --separate-stderr rag-index -d kb <bad.jsonl
	assert_failure 1
	run stats kb
	assert_jq '.[0] | .documents == 0 and .chunks == 0 and .generation == 0'
	assert_jq '.[0] | .embedder == "" and .dimension == 0'
	# nothing was written, so the index takes the records of another embedder
	rag-split "$DATA/plain.txt" | rag-embed --dim 64 >e64.jsonl
	run --separate-stderr rag-index -d kb <e64.jsonl
	[ "$status" = 0 ] || fail "exit $status: $stderr"
	run stats kb
	assert_jq '.[0] | .embedder == "ragpipe-lex1-64" and .dimension == 64 and .documents == 1'
}

# ---------------------------------------------------------------------------
# record forms

@test "base64 embeddings are accepted and equal the array form" {
	python3 - "$EMB" >b64.jsonl <<'EOF'
import base64, json, struct, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    e = r["embedding"]
    r["embedding"] = base64.b64encode(struct.pack("<%df" % len(e), *e)).decode()
    print(json.dumps(r, ensure_ascii=False))
EOF
	[ "$(jq -r '.embedding | type' b64.jsonl | sort -u)" = string ]
	run --separate-stderr rag-index -d kb64 <b64.jsonl
	assert_success
	assert_stderr_empty
	rag-index -d kb <"$EMB"
	diff <(content kb) <(content kb64)
	[ "$(stats kb64)" = "$(stats kb)" ]
	# both forms in one input
	{ head -3 b64.jsonl; tail -n +4 "$EMB"; } | rag-index -d mixed
	diff <(content kb) <(content mixed)
	# base64url without padding is base64 too
	jq -c '.embedding |= (gsub("\\+"; "-") | gsub("/"; "_") | rtrimstr("=") | rtrimstr("="))' b64.jsonl | rag-index -d url
	diff <(content kb) <(content url)
}

@test "a record's extra fields are kept as JSON; the known ones are not repeated there" {
	records_of quillsort.md <"$EMB" | jq -c '.lang = "en" | .tags = ["a", "b"] | .meta = {k: 1, s: "x/y"}' >f.jsonl
	records_of cnn-zh.md <"$EMB" >>f.jsonl
	rag-index -d kb <f.jsonl
	run sql kb "SELECT DISTINCT fields FROM chunks WHERE source LIKE '%quillsort.md'"
	assert_success
	[ "${#lines[@]}" = 1 ] || fail "fields: $output"
	[ "$(jq -cS . <<<"$output")" = '{"lang":"en","meta":{"k":1,"s":"x/y"},"tags":["a","b"]}' ] || fail "fields: $output"
	# a record without extra fields has none
	[ "$(sql kb "SELECT count(*) FROM chunks WHERE source LIKE '%cnn-zh.md' AND fields IS NOT NULL")" = 0 ]
	# page, title and the rest land in their columns
	[ "$(sql kb "SELECT count(*) FROM chunks WHERE fields LIKE '%embedding%' OR fields LIKE '%\"title\"%' OR fields LIKE '%\"doc\"%'")" = 0 ]
}

@test "the source defaults to the part of id before its last #" {
	printf '%s\n' '{"id":"a#b.txt#1","text":"first chunk about owls"}' '{"id":"a#b.txt#2","text":"second chunk about owls"}' \
		'{"id":"plain","text":"no hash mark"}' | rag-embed >s.jsonl
	run --separate-stderr rag-index -d kb --summary <s.jsonl
	assert_success
	assert_jq '.[0].added == 2 and .[0].chunks_added == 3'
	assert_equal "$(sql kb "SELECT source, chunks FROM documents ORDER BY source")" "a#b.txt|2
plain|1"
}

# ---------------------------------------------------------------------------
# the lock

@test "lock: a second writer with --no-wait fails at once; without it, it waits and succeeds" {
	first=$(jq -r .source "$EMB" | head -1)
	jq -c --arg s "$first" 'select(.source == $s)' "$EMB" >a.jsonl
	jq -c --arg s "$first" 'select(.source != $s)' "$EMB" >b.jsonl
	mkfifo fifo
	timeout 30 rag-index -d kb <fifo >out1 2>err1 3>&- &
	pid1=$!
	remember "$pid1"
	exec 5>fifo
	# wait until the first holds the lock
	if command -v flock >/dev/null; then
		for _ in $(seq 200); do
			[ -e kb/lock ] && ! flock -n kb/lock true && break
			sleep 0.02
		done
		! flock -n kb/lock true || fail "the first writer does not hold the lock"
	else
		sleep 1
	fi
	t0=$(date +%s%N)
	run --separate-stderr rag-index -d kb --no-wait <b.jsonl
	t1=$(date +%s%N)
	assert_failure 1
	[[ "$stderr" == *"kb: another rag-index is writing to it"* ]] || fail "stderr: $stderr"
	[ $(((t1 - t0) / 1000000)) -lt 2000 ] || fail "--no-wait took $(((t1 - t0) / 1000000)) ms"
	# readers do not wait
	run --separate-stderr timeout 5 rag-index -d kb --stats
	assert_success
	# without --no-wait: it waits
	# (not holding the FIFO open itself)
	timeout 30 rag-index -d kb --summary <b.jsonl >out2 2>err2 3>&- 5>&- &
	pid2=$!
	remember "$pid2"
	sleep 0.5
	kill -0 "$pid2" || fail "the second writer did not wait: $(cat err2)"
	cat a.jsonl >&5
	exec 5>&-
	wait "$pid1" || fail "first writer: $(cat err1)"
	wait "$pid2" || fail "second writer: $(cat err2)"
	[ -z "$(cat err1 err2)" ] || fail "stderr: $(cat err1 err2)"
	run stats kb
	assert_jq ".[0] | .documents == $(jq -r .source "$EMB" | sort -u | wc -l) and .chunks == $(wc -l <"$EMB")
		and .faiss_current == true"
	consistent kb
}

# ---------------------------------------------------------------------------
# crashes and readers

@test "kill -9 at random instants: the index opens, is consistent, and a re-run completes it" {
	rag-index -d ref --batch 1 <"$SYN2"
	want=$(content ref)
	# --batch 1: each of the 60 documents was a batch, and each counted
	run stats ref
	assert_jq '.[0] | .chunks == 300 and .documents == 60 and .generation == 60'
	rag-index -d v1 <"$SYN1"
	rag-index -d empty </dev/null
	midway=0
	for i in $(seq 20); do
		d=c$i
		# odd: version 1 there, the run replaces; even: an empty index
		cp -r "$([ $((i % 2)) = 1 ] && echo v1 || echo empty)" "$d"
		slowfeed "$SYN2" 0.0015 | rag-index -d "$d" --batch 1 2>/dev/null &
		pid=$!
		remember "$pid"
		printf -v t '0.%03d' $((RANDOM % 700))
		sleep "$t"
		kill -9 "$pid" 2>/dev/null || true
		{ wait "$pid"; } 2>/dev/null || true	# (no "Killed" notice)
		run --separate-stderr rag-index -d "$d" --stats
		[ "$status" = 0 ] || fail "kill $i: --stats fails: $stderr"
		jq -e '.chunks == .documents * 5' <<<"$output" >/dev/null || fail "kill $i: half a document: $output"
		consistent "$d"
		# every document is whole, of version 1 or version 2
		r=$(sql "$d" "SELECT c.id FROM chunks c JOIN documents d USING (source) WHERE substr(c.text, 1, 2) != substr(d.doc, 1, 2);
			      SELECT 'v2 ' || count(*) FROM documents WHERE doc LIKE 'v2-%'")
		[[ "$r" == "v2 "* ]] || fail "kill $i: chunks of another version than their document: $r"
		[ "${r#v2 }" -gt 0 ] && [ "${r#v2 }" -lt 60 ] && midway=$((midway + 1))
		run --separate-stderr rag-index -d "$d" <"$SYN2"
		[ "$status" = 0 ] || fail "kill $i: the re-run fails: $stderr"
		[ "$(content "$d")" = "$want" ] || fail "kill $i: the re-run does not give the same index: $(diff <(content "$d") <(echo "$want") | head -5)"
		files=("$d"/vectors-*)
		[ "${#files[@]}" = 1 ] && [ "$(stat_of "$d" faiss_current)" = true ] || fail "kill $i: faiss files: ${files[*]}"
		rm -rf "$d"
	done
	# most kills came in the middle of the run
	[ "$midway" -ge 5 ] || fail "only $midway of 20 kills came mid-way"
}

@test "readers during a write: --stats never fails and only ever sees whole committed documents" {
	rag-index -d kb </dev/null
	slowfeed "$SYN2" 0.001 | rag-index -d kb --batch 1 2>writer.err &
	pid=$!
	remember "$pid"
	: >seen
	while kill -0 "$pid" 2>/dev/null; do
		if ! out=$(rag-index -d kb --stats 2>&1); then
			fail "--stats failed during the write: $out"
		fi
		jq -e '.chunks == .documents * 5' <<<"$out" >/dev/null || fail "half a document: $out"
		jq -r .chunks <<<"$out" >>seen
	done
	wait "$pid" || fail "writer: $(cat writer.err)"
	# it really ran alongside: several states were seen, in order
	[ "$(sort -u seen | wc -l)" -ge 3 ] || fail "only saw: $(sort -u seen | tr '\n' ' ')"
	sort -n -c seen || fail "the counts went back"
	[ "$(stat_of kb chunks)" = 300 ]
}

# ---------------------------------------------------------------------------
# the command line

@test "-h prints the usage and exits 0; --version prints the version" {
	for h in -h --help; do
		run --separate-stderr rag-index $h
		assert_success
		[[ "$output" == *"usage: rag-index"* ]] || fail "$h: $output"
		assert_stderr_empty
	done
	run --separate-stderr rag-index --version
	assert_success
	[[ "$output" =~ ^rag-index.*[0-9]+\.[0-9]+ ]] || fail "$output"
}

@test "usage errors exit 2: no -d, an unknown option, a bad --batch, options that do not go together" {
	run --separate-stderr rag-index </dev/null
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "rag-index: "*"-d DIR"* ]] || fail "stderr: $stderr"
	run --separate-stderr rag-index -d kb --bogus </dev/null
	assert_failure 2
	run --separate-stderr rag-index -d kb --batch 0 </dev/null
	assert_failure 2
	run --separate-stderr rag-index -d kb --delete x --prune </dev/null
	assert_failure 2
	assert_not_exist kb
}

@test "--stats of a directory that is not an index fails with exit 1" {
	mkdir empty
	run --separate-stderr rag-index -d empty --stats
	assert_failure 1
	[[ "$stderr" == *"empty"* ]] || fail "stderr: $stderr"
	run --separate-stderr rag-index -d missing --stats
	assert_failure 1
	assert_not_exist missing
}

@test "a document whose records come in two groups, another's between them, is indexed whole" {
	jq -c 'select(.seq <= 2)' "$EMB" > first.jsonl
	jq -c 'select(.seq > 2)' "$EMB" > rest.jsonl
	cat first.jsonl rest.jsonl | rag-index -d kb
	rag-index -d whole < "$EMB"
	[ "$(stat_of kb chunks)" = "$(stat_of whole chunks)" ] || fail "$(stats kb) vs $(stats whole)"
	[ "$(sql kb 'SELECT source, chunks FROM documents ORDER BY source')" = \
	  "$(sql whole 'SELECT source, chunks FROM documents ORDER BY source')" ] || fail "document counts differ"
	run --separate-stderr rag-index -d kb --summary < <(cat first.jsonl rest.jsonl)
	assert_success
	assert_output --partial '"added":0'
	assert_output --partial '"replaced":0'
}

@test "--rebuild reads no input: it does not wait on a pipe nor eat a loop's list" {
	rag-index -d kb < "$EMB"
	# were it read, this input would be an error
	run --separate-stderr sh -c 'printf "not json\n" | rag-index -d kb --rebuild'
	assert_success
	assert_stderr_empty
}

@test "a full disk fails the batch with a clear error; the index keeps its previous state and a re-run completes it" {
	rag-index -d kb <"$SYN1"
	before=$(content kb)
	st=$(stats kb)
	# writes past 64 KiB into any file fail as on a full disk
	run --separate-stderr bash -c "trap '' XFSZ; ulimit -f 64; exec rag-index -d kb" <"$EMB"
	assert_failure 1
	[[ "$stderr" =~ ^rag-index:\ kb/index.sqlite:\ .*(disk\ I/O\ error|disk\ is\ full) ]]
	[ "$(content kb)" = "$before" ]
	[ "$(stats kb)" = "$st" ]
	consistent kb
	# no temporary file is left behind
	run ls kb
	refute_output --partial tmp
	rag-index -d kb <"$EMB"
	[ "$(stat_of kb documents)" -eq $(( $(jq -r .source "$SYN1" "$EMB" | sort -u | wc -l) )) ]
	consistent kb
}

@test "a type nobody asked for follows the size (Flat, then IVF above 50000 chunks, Flat again below); an asked type stays" {
	awk 'BEGIN { for (i = 1; i <= 50001; i++)
		printf "{\"id\":\"d%d#1\",\"source\":\"d%d\",\"doc\":\"h\",\"text\":\"t%d\",\"embedding\":[%d,1,%d.5,-1],\"embedder\":\"test-4\"}\n",
			i, i, i, i % 7, i % 11 }' >big.jsonl
	head -n 49999 big.jsonl | rag-index -d kb
	[ "$(stat_of kb index_type)" = Flat ]
	tail -n 2 big.jsonl | rag-index -d kb
	[ "$(stat_of kb index_type)" = "IVF256,Flat" ]
	[ "$(stat_of kb faiss_current)" = true ]
	rag-index -d kb --delete d1 d2
	[ "$(stat_of kb index_type)" = Flat ]
	# asked for, it is kept whatever the size
	rag-index -d kb --type "IVF16,Flat"
	head -n 2 big.jsonl | rag-index -d kb
	[ "$(stat_of kb chunks)" -eq 50001 ]
	[ "$(stat_of kb index_type)" = "IVF16,Flat" ]
}

@test "a reader that comes while the first writer is starting finds an empty index, never a half-made one" {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rm -rf kb
		sleep 2 | rag-index -d kb &
		for j in 1 2 3 4 5 6 7 8 9 10; do
			run --separate-stderr rag-index -d kb --stats
			# not there yet, or there whole
			if [ "$status" -ne 0 ]; then
				[[ "$stderr" == "rag-index: kb: not an index (no index.sqlite)" || "$stderr" == *"No such file"* ]] ||
					fail "reader $j of $i: $stderr"
			else
				[ "$(jq .documents <<<"$output")" -eq 0 ] || fail "$output"
			fi
			sleep 0.005
		done
		wait
	done
}

@test "a built-in embedder's name must match the dimension of its vectors" {
	printf '{"id":"a#1","source":"a","doc":"h","text":"ok","embedding":[0.5,0.5,0.1],"embedder":"ragpipe-lex1-8"}\n' >bad.jsonl
	run --separate-stderr rag-index -d kb <bad.jsonl
	assert_failure 1
	assert_stderr_equal "rag-index: stdin: line 1: the embedder ragpipe-lex1-8 makes 8 values, not 3; nothing of this batch was written"
	# nothing written: no new index is left
	assert_not_exist kb
}

@test "seq, page and page_end must be whole numbers in range: a clear error naming the field, nothing written" {
	rec='{"id":"a#1","source":"a","doc":"h","text":"ok","embedding":[0.5,0.5],"embedder":"e2"'
	for bad in '"seq":1e999' '"seq":"x"' '"seq":-1' '"seq":2147483648' '"page":1.5' '"page":-5' '"page":0' \
		   '"page":"3"' '"page":3,"page_end":2' '"page_end":true'; do
		rm -rf kb
		run --separate-stderr rag-index -d kb <<<"$rec,$bad}"
		assert_failure 1
		field=$(sed 's/^"\([a-z_]*\)".*/\1/' <<<"${bad##*,}")
		[[ "$stderr" == "rag-index: stdin: line 1: \"$field\" is not a whole number from "* ]] || fail "$bad: $stderr"
		assert_not_exist kb
	done
	# null is as absent; in range is kept as it is
	rag-index -d ok <<<"$rec,\"seq\":null,\"page\":2147483647,\"page_end\":2147483647}"
	[ "$(sql ok 'SELECT seq, page, page_end FROM chunks')" = "0|2147483647|2147483647" ]
}

@test "a document cut short upstream is completed by the next run, not kept as unchanged" {
	n=$(wc -l <"$EMB")
	# the first document's records, all but its last: as if rag-split was killed
	first=$(head -n 1 "$EMB" | jq -r .source)
	m=$(jq -r .source "$EMB" | grep -cxF "$first")
	[ "$m" -ge 2 ]
	head -n $((m - 1)) "$EMB" | rag-index -d kb
	run --separate-stderr rag-index -d kb --summary <"$EMB"
	assert_success
	assert_jq '.[0].replaced == 1 and .[0].unchanged == 0'
	[[ "$stderr" == "rag-index: warning: $first: the index held $((m - 1)) chunks of it, the input has $m: indexed again" ]] ||
		fail "stderr: $stderr"
	rag-index -d ref <"$EMB"
	[ "$(content kb)" = "$(content ref)" ]
	[ "$(stat_of kb chunks)" -eq "$n" ]
	consistent kb
	# and then it is unchanged
	run --separate-stderr rag-index -d kb --summary <"$EMB"
	assert_jq ".[0].replaced == 0 and .[0].unchanged == $(jq -r .source "$EMB" | sort -u | wc -l)"
	assert_stderr_empty
}

# ---------------------------------------------------------------------------
# the reading thread

@test "--threads 1 and --threads 2 write the same index, byte for byte: chunks, full-text segments, terms" {
	# titles, Chinese and English, several files, a replaced document
	head -100 "$SYN1" >in1.jsonl
	for t in 1 2; do
		rag-index -d "kb$t" --threads "$t" --batch 7 "$EMB" in1.jsonl
		rag-index -d "kb$t" --threads "$t" <"$SYN2"
		rag-index -d "kb$t" --threads "$t" <"$EMB"
	done
	q="SELECT rid, id, source, seq, page, page_end, title, text, fields, dl, hex(vec) FROM chunks ORDER BY rid;
	   SELECT id, hex(block) FROM fts_data ORDER BY id;
	   SELECT id, hex(sz) FROM fts_docsize ORDER BY id;
	   SELECT hash, df FROM terms ORDER BY hash;
	   SELECT source, doc, chunks FROM documents ORDER BY source;
	   SELECT key, value FROM meta WHERE key != 'created' ORDER BY key"
	[ "$(sql kb1 "$q" | md5sum)" = "$(sql kb2 "$q" | md5sum)" ] || fail "the indexes differ"
	[ "$(sql kb2 "SELECT count(*) FROM fts_data")" -gt 1 ]
	[ "$(sql kb2 "SELECT count(*) FROM documents")" -eq $(($(jq -r .source "$EMB" | sort -u | wc -l) + 60)) ]
	cmp kb1/vectors-*.faiss kb2/vectors-*.faiss
	consistent kb2
	[ "$(match kb1 'densenet')" = "$(match kb2 'densenet')" ]
	[ -n "$(match kb2 'densenet')" ]
}

@test "--threads must be 1 or 2 (exit 2)" {
	for t in 0 3 x ""; do
		run --separate-stderr rag-index -d kb --threads "$t" <"$EMB"
		assert_failure 2
		[[ "$stderr" == "rag-index: "*"--threads"* ]] || fail "--threads '$t': $stderr"
	done
	assert_not_exist kb
}

@test "an input file that cannot be opened stops the run naming it, exit 1; its batch is not written" {
	for t in 1 2; do
		run --separate-stderr rag-index -d "kb$t" --threads "$t" "$SYN1" nope.jsonl "$SYN2"
		assert_failure 1
		assert_output ""
		[ "$stderr" = "rag-index: nope.jsonl: No such file or directory" ] || fail "--threads $t: $stderr"
		assert_not_exist "kb$t"
	done
	run --separate-stderr rag-index -d kb1 --batch 5 "$SYN1" nope.jsonl
	assert_failure 1
	[ "$(stat_of kb1 chunks)" = 295 ] || fail "the batches before the missing file: $(stat_of kb1 chunks) chunks"
}

@test "a bad line stops the run at once though the input stays open and silent" {
	mkfifo in.fifo
	for t in 1 2; do
		{ head -3 "$SYN1"; echo 'not json'; exec sleep 60; } >in.fifo &
		pid=$!
		remember $pid
		run --separate-stderr timeout 20 rag-index -d "kb$t" --threads "$t" <in.fifo
		kill $pid
		wait $pid 2>/dev/null || true
		assert_failure 1
		[[ "$stderr" == "rag-index: stdin: line 4: "* ]] || fail "--threads $t: $stderr"
		assert_not_exist "kb$t"
	done
}

# ---------------------------------------------------------------------------
# safe by hand and from cron

# rel_docs N: N text files docs/dK.txt split, embedded and indexed into kb
# from $TMP, so that the sources are relative paths.
rel_docs() {
	mkdir -p docs
	for i in $(seq "$1"); do echo "Document $i is about subject$i." >"docs/d$i.txt"; done
	rag-split docs/*.txt | rag-embed | rag-index -d kb
}

@test "--prune from another working directory deletes nothing: each document's absolute path is recorded" {
	rel_docs 4
	assert_equal "$(sql kb "SELECT source || ' ' || path FROM documents ORDER BY source" | head -1)" \
		"docs/d1.txt $TMP/docs/d1.txt"
	run --separate-stderr sh -c "cd / && rag-index -d '$TMP/kb' --prune --summary"
	assert_success
	assert_jq '.[0].deleted == 0'
	assert_equal "$(stat_of kb documents)" 4
	# a file really gone is found gone from anywhere
	rm docs/d2.txt
	run --separate-stderr sh -c "cd / && rag-index -d '$TMP/kb' --prune --summary"
	assert_success
	assert_jq '.[0].deleted == 1'
	assert_equal "$(sql kb "SELECT source FROM documents ORDER BY source")" "docs/d1.txt
docs/d3.txt
docs/d4.txt"
	consistent kb
}

@test "--prune refuses to delete more than --max-delete (default 50%), naming how many and why; nothing is deleted" {
	rel_docs 4
	rm docs/d1.txt docs/d2.txt docs/d3.txt
	run --separate-stderr rag-index -d kb --prune --summary
	assert_failure 1
	[[ "$stderr" == *"--prune would delete 3 of 4 documents (75%), more than --max-delete 50% allows; nothing deleted"* ]] ||
		fail "stderr: $stderr"
	[[ "$stderr" == *"their files are missing, as seen from $TMP (first: docs/d1.txt)"* ]] || fail "stderr: $stderr"
	assert_equal "$(stat_of kb documents)" 4
	run --separate-stderr rag-index -d kb --prune --max-delete 2
	assert_failure 1
	[[ "$stderr" == *"more than --max-delete 2 allows"* ]] || fail "stderr: $stderr"
	assert_equal "$(stat_of kb documents)" 4
	# a keep list that lost its lines is refused the same way
	echo docs/d4.txt >keep
	run --separate-stderr rag-index -d kb --prune --keep-list keep
	assert_failure 1
	[[ "$stderr" == *"they are not in keep (first: docs/d1.txt)"* ]] || fail "stderr: $stderr"
	assert_equal "$(stat_of kb documents)" 4
	run --separate-stderr rag-index -d kb --prune --max-delete 3 --summary
	assert_success
	assert_jq '.[0].deleted == 3'
	assert_equal "$(sql kb "SELECT source FROM documents")" "docs/d4.txt"
	consistent kb
}

@test "--max-delete: 100% allows all, N a count; a bad value or one without --prune is a usage error" {
	rel_docs 2
	rm docs/d1.txt docs/d2.txt
	run --separate-stderr rag-index -d kb --prune --max-delete 100% --summary
	assert_success
	assert_jq '.[0].deleted == 2'
	for bad in x 101% -1 %; do
		run --separate-stderr rag-index -d kb --prune --max-delete "$bad"
		assert_failure 2
	done
	run --separate-stderr rag-index -d kb --max-delete 10
	assert_failure 2
	[[ "$stderr" == *"--max-delete goes with --prune"* ]] || fail "stderr: $stderr"
}

@test "an index made before paths were recorded: --prune looks for the sources as named, and the column is added" {
	command -v sqlite3 >/dev/null || skip "no sqlite3 CLI"
	rel_docs 3
	sqlite3 kb/index.sqlite "ALTER TABLE documents DROP COLUMN path"
	rm docs/d3.txt
	run --separate-stderr rag-index -d kb --prune --summary
	assert_success
	assert_jq '.[0].deleted == 1'
	assert_equal "$(sql kb "SELECT count(*) FROM pragma_table_info('documents') WHERE name = 'path'")" 1
	assert_equal "$(stat_of kb documents)" 2
	consistent kb
}

@test "a re-run says how many indexed documents are no longer on disk and that --prune removes them; -q silences it" {
	rel_docs 3
	rm docs/d1.txt docs/d3.txt
	run --separate-stderr sh -c 'rag-split docs/*.txt | rag-embed | rag-index -d kb'
	assert_success
	assert_stderr_equal "rag-index: warning: kb: 2 indexed documents are no longer on disk (first: docs/d1.txt); rag-index -d kb --prune removes them"
	run --separate-stderr sh -c 'rag-split docs/*.txt | rag-embed | rag-index -q -d kb'
	assert_success
	assert_stderr_empty
	# records of sources that never were files are no concern of it
	run --separate-stderr rag-index -d syn <"$SYN1"
	assert_success
	assert_stderr_empty
}

@test "refused input leaves no new index directory behind; an existing directory or index is kept as it was" {
	echo '{"id":"a#1","text":"x"}' >noemb.jsonl
	run --separate-stderr rag-index -d new <noemb.jsonl
	assert_failure 1
	[[ "$stderr" == *'no "embedding" (run rag-embed first)'* ]] || fail "stderr: $stderr"
	[ ! -e new ] || fail "new/ was left: $(ls -a new)"
	mkdir mine
	run --separate-stderr rag-index -d mine <noemb.jsonl
	assert_failure 1
	[ -d mine ] && [ -z "$(ls -A mine)" ] || fail "mine/ changed: $(ls -a mine)"
	rag-index -d kb <"$EMB"
	before=$(stats kb)
	run --separate-stderr rag-index -d kb <noemb.jsonl
	assert_failure 1
	assert_equal "$(stats kb)" "$before"
}

@test "on a terminal with no input it says it is reading records, and Ctrl-D at once makes no index" {
	command -v script >/dev/null || skip "no script(1)"
	run script -qefc "rag-index -d '$TMP/tty'" /dev/null </dev/null
	assert_success
	[[ "$output" == *"rag-index: reading embedded chunk records from the terminal (end with Ctrl-D)"* ]] ||
		fail "output: $output"
	[[ "$output" == *"rag-split FILE... | rag-embed | rag-index -d $TMP/tty"* ]] || fail "output: $output"
	[ ! -e tty ] || fail "an index was made"
	# from a pipe or a file it says nothing
	run --separate-stderr rag-index -d kb <"$EMB"
	assert_success
	assert_stderr_empty
}

@test "SIGINT, SIGTERM and SIGHUP at random instants: exit 128+N, one line naming what was committed, a current faiss file" {
	command -v flock >/dev/null || skip "no flock(1)"
	local sig num line n th=1
	for sig in INT TERM HUP INT TERM HUP; do
		# one reading thread, then two
		th=$((3 - th))
		rm -rf kb in
		head -1 "$EMB" | rag-index -d kb
		# the input never ends (this shell holds the fifo open): only the
		# signal stops the run
		mkfifo in
		rag-index -d kb --batch 25 --threads "$th" <in 2>err &
		pid=$!
		remember "$pid"
		exec 5>in
		cat "$SYN1" >&5 2>/dev/null &
		for _ in $(seq 500); do
			! flock -n kb/lock true 2>/dev/null && break
			sleep 0.01
		done
		sleep "0.$((RANDOM % 6))"
		kill -"$sig" "$pid" || fail "no rag-index to signal: $(cat err)"
		wait "$pid" && status=0 || status=$?
		exec 5>&-
		wait
		num=$(kill -l "$sig")
		[ "$status" = $((128 + num)) ] || fail "SIG$sig, --threads $th: exit $status: $(cat err)"
		assert_equal "$(wc -l <err)" 1
		line=$(cat err)
		[[ "$line" =~ ^rag-index:\ interrupted:\ ([0-9]+)\ documents\ \(([0-9]+)\ chunks\)\ committed\;\ re-run\ to\ continue$ ]] ||
			fail "SIG$sig: $line"
		n=${BASH_REMATCH[1]}
		assert_equal "${BASH_REMATCH[2]}" $((n * 5))
		run stats kb
		assert_jq ".[0] | .documents == $((n + 1)) and .faiss_current == true"
		consistent kb
	done
	# a re-run completes it
	rag-index -d kb <"$SYN1"
	assert_equal "$(stat_of kb documents)" 61
	consistent kb
}

@test "a document, plain text or another stage's output stops at once naming the right order; no index is made" {
	run --separate-stderr rag-index -d kb "$DATA/handbook.pdf"
	assert_failure 1
	assert_stderr_equal "rag-index: $DATA/handbook.pdf: line 1: a PDF document, not embedded chunk records: rag-index reads what rag-embed writes (rag-split FILE | rag-embed | rag-index -d kb)"
	assert_not_exist kb
	run --separate-stderr rag-index -d kb <<<"What is DenseNet?"
	assert_failure 1
	[[ "$stderr" == "rag-index: stdin: line 1: plain text, not embedded chunk records:"* ]] || fail "stderr: $stderr"
	run --separate-stderr rag-index -d kb <<<'{"question":"q","hits":[]}'
	assert_failure 1
	[[ "$stderr" == "rag-index: stdin: line 1: rag-query's hits, not embedded chunk records:"* ]] || fail "stderr: $stderr"
	assert_not_exist kb
}
