#!/bin/sh
# make demo: the pipeline on the bundled documents in tests/data/demo.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
cd "$top/tests/data"
out=${TMPDIR:-/tmp}/ragpipe-demo.$$
trap 'rm -f "$out"' EXIT INT TERM

echo "\$ rag-split demo/* > chunks.jsonl"
"$bin/rag-split" demo/* > "$out"
echo "$(wc -l < "$out") chunks from $(ls demo | wc -l) documents:"
echo
jq -r '[.id, (if .page then "p.\(.page)" + (if .page_end != .page then "-\(.page_end)" else "" end) else "-" end),
	(.title // "-" | .[0:24]), (.text | gsub("\\s+"; " ") | .[0:50])] | @tsv' "$out" |
	awk -F '\t' '{ printf "%-32s %-6s %-26s %s...\n", $1, $2, $3, $4 }'
echo
echo "\$ jq -r 'select(.title == \"3 DenseNet\") | .text' chunks.jsonl"
jq -r 'select(.title == "3 DenseNet") | .text' "$out" | fold -s -w 100

echo
echo "\$ rag-embed < chunks.jsonl > embedded.jsonl"
"$bin/rag-embed" < "$out" > "$out.emb"
trap 'rm -f "$out" "$out.emb"' EXIT INT TERM
jq -r '"\(.id): \(.embedding | length) floats from \(.embedder)"' "$out.emb" | head -n 3
echo "..."
echo
# the index stays, for the commands to try next
kb=${RAGPIPE_DEMO_KB:-$top/demo-kb}
rm -rf "$kb"
echo "\$ rag-index -d kb --summary < embedded.jsonl; rag-index -d kb --stats"
"$bin/rag-index" -d "$kb" --summary < "$out.emb"
"$bin/rag-index" -d "$kb" --stats
echo "\$ rag-index -d kb --summary < embedded.jsonl   # again: nothing changes"
"$bin/rag-index" -d "$kb" --summary < "$out.emb"
echo
echo "\$ echo 'What is DenseNet?' | rag-embed | cut -c 1-120"
echo 'What is DenseNet?' | "$bin/rag-embed" | cut -c 1-120
echo
echo "\$ echo 'What is DenseNet?' | rag-query -d kb --format text -k 3"
echo 'What is DenseNet?' | "$bin/rag-query" -d "$kb" --format text -k 3
echo "\$ echo '稠密连接网络是什么？' | rag-query -d kb --hybrid --format text -k 2"
echo '稠密连接网络是什么？' | "$bin/rag-query" -d "$kb" --hybrid --format text -k 2
echo "\$ echo '{\"id\":\"q1\",\"question\":\"How does quillsort order lines?\"}' | rag-query -d kb -k 1 | jq -c ..."
echo '{"id":"q1","question":"How does quillsort order lines?"}' | "$bin/rag-query" -d "$kb" -k 1 |
	jq -c '{id, question, hits: [.hits[] | {rank, score, id, title}]}'
echo
echo "\$ echo 'What is DenseNet?' | rag-query -d kb | rag-answer"
echo 'What is DenseNet?' | "$bin/rag-query" -d "$kb" | "$bin/rag-answer" | jq .
echo "\$ echo '稠密连接网络的增长率是什么？' | rag-query -d kb | rag-answer --text"
echo '稠密连接网络的增长率是什么？' | "$bin/rag-query" -d "$kb" | "$bin/rag-answer" --text
echo "\$ echo 'How tall is the Eiffel Tower?' | rag-query -d kb | rag-answer --text"
echo 'How tall is the Eiffel Tower?' | "$bin/rag-query" -d "$kb" | "$bin/rag-answer" --text

cat <<EOF

The demo's index is kept in $kb. To try it yourself (no make install needed):

    export PATH="$bin:\$PATH" MANPATH="$top/build/man:"
    echo 'What is a dense block?' | rag-query -d $kb | rag-answer --text
    rag-split ~/Documents/*.pdf | rag-embed | rag-index -d ~/kb && man rag-query
EOF
