#!/usr/bin/env bats
# rag-answer: hits records -> answer records with verified citations.
# The built-in extractive answerer (English and Chinese), and chat servers
# through tests/server.py: prompts, budgets, citations, streaming, history,
# faults. Needs jq and python3.

load helpers
load server

setup() {
	ragpipe_setup
	fixtures
}

teardown() {
	server_stop_all
}

# ---------------------------------------------------------------------------
# fixtures: hits records as rag-query writes them (texts written for ragpipe)

P_DENSE='DenseNet connects every layer to every later layer inside a dense block. Each layer receives the feature maps of all preceding layers as its input. Instead of adding its input to its output, as ResNet does, it concatenates them along the channel axis. Every layer adds only a few new feature maps; their number is called the growth rate.'
P_RES='ResNet is built from residual blocks. A residual block adds a small correction to its own input through a shortcut connection. Networks with a hundred or more layers can be trained this way.'
P_QUILL='quillsort sorts the lines of text files by a key. It reads standard input when no file is given.'
P_ZH_DENSE='在稠密连接网络中，稠密块里的每一层都以前面所有层的特征图作为输入。它不是把输入和输出相加，而是沿通道维把它们拼接起来。每层只新增少量特征图，这个数量叫作增长率。'
P_ZH_RES='残差网络由残差块组成。每个残差块先计算一个修正量，再通过捷径连接把它加到输入上。这样，一百多层的网络也能训练。'

# hits QUESTION [EXTRA-JQ]: one hits record over the English passages; EXTRA
# adds fields to the record (jq object syntax).
hits() {
	jq -nc --arg q "$1" --arg a "$P_DENSE" --arg b "$P_RES" --arg c "$P_QUILL" "{question: \$q, qid: 7, hits: [
		{rank: 1, score: 0.83, id: \"docs/cnn.pdf#4\", source: \"docs/cnn.pdf\", doc: \"ab12\", seq: 4, page: 3, page_end: 4, title: \"3 DenseNet\", text: \$a},
		{rank: 2, score: 0.51, id: \"docs/cnn.pdf#3\", source: \"docs/cnn.pdf\", page: 2, page_end: 2, title: \"2 ResNet\", text: \$b},
		{rank: 3, score: 0.12, id: \"docs/quillsort.md#3\", source: \"docs/quillsort.md\", title: \"Description\", text: \$c}
	]} ${2:+ + $2}"
}

zh_hits() {
	jq -nc --arg q "$1" --arg a "$P_ZH_DENSE" --arg b "$P_ZH_RES" '{question: $q, hits: [
		{rank: 1, score: 0.9, id: "docs/cnn-zh.md#3", source: "docs/cnn-zh.md", title: "稠密连接网络（DenseNet）", text: $a},
		{rank: 2, score: 0.4, id: "docs/cnn-zh.md#2", source: "docs/cnn-zh.md", title: "残差网络（ResNet）", text: $b}
	]}'
}

# manual QUESTION TEXT...: a hits record whose passages are the TEXTs, as a
# manual's chunks are (headings, code, lead-ins), pages 1, 2, ... of
# docs/quill.pdf.
manual() {
	local q=$1
	shift
	jq -nc --arg q "$q" '{question: $q, hits: [$ARGS.positional | to_entries[] | {rank: (.key + 1),
		id: "docs/quill.pdf#\(.key + 1)", source: "docs/quill.pdf", page: (.key + 1), title: "Manual",
		text: .value}]}' --args "$@"
}

# ask [ARGS...]: rag-answer's answers to the records of in.jsonl, one a line
ask() {
	rag-answer "$@" in.jsonl | jq -r .answer
}

fixtures() {
	hits "What does DenseNet concatenate?" > en.jsonl
	zh_hits "稠密连接网络的增长率是什么？" > zh.jsonl
	printf '{"question":"What is DenseNet?","hits":[]}\n' > empty.jsonl
}

# answer [ARGS...]: the "answer" of the single record in $output
answer() {
	jl -r .answer
}

# server_chat [ARGS...]: the test server with its chat request bodies in req.jsonl
server_chat() {
	server_start --requests "$TMP/req.jsonl" "$@"
	URL=$SERVER_URL
}

# req FILTER: jq over the last chat request the server got
req() {
	tail -n 1 "$TMP/req.jsonl" | jq -r "$@"
}

# ---------------------------------------------------------------------------
# the built-in extractive answerer

@test "extractive: the best sentences with [n], citations with id, source, page and title; answerer ragpipe-extract1" {
	run --separate-stderr rag-answer en.jsonl
	assert_success
	assert_stderr_empty
	assert_jsonl
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[[ $(answer) == *"it concatenates them along the channel axis [1]."* ]] || fail "answer: $(answer)"
	assert_jq '.[0].answerer == "ragpipe-extract1"'
	assert_jq '.[0].citations == [{"n":1,"id":"docs/cnn.pdf#4","source":"docs/cnn.pdf","page":3,"page_end":4,"title":"3 DenseNet"}]'
	# no server: no unverified_citations member
	assert_jq '.[0] | has("unverified_citations") | not'
}

@test "extractive: every other field of the question record is carried through, the hits are not" {
	hits "What does DenseNet concatenate?" '{user: "ana", tags: ["a", "b"], answer: "old", citations: 1}' > in.jsonl
	run --separate-stderr rag-answer in.jsonl
	assert_success
	assert_jq '.[0] | (keys | sort) == (["question","qid","user","tags","answer","citations","answerer"] | sort)'
	assert_jq '.[0].qid == 7 and .[0].user == "ana" and .[0].tags == ["a","b"] and .[0].answer != "old"'
	# the carried members keep their bytes and order, before the answer
	[[ $output == '{"question":"What does DenseNet concatenate?","qid":7,'* ]] || fail "$output"
	[[ $output == *'"user":"ana","tags":["a","b"],"answer":'* ]] || fail "$output"
}

@test "extractive: a Chinese question gets Chinese sentences with [n] after the full stop" {
	run --separate-stderr rag-answer zh.jsonl
	assert_success
	[[ $(answer) == *"每层只新增少量特征图，这个数量叫作增长率。[1]"* ]] || fail "answer: $(answer)"
	assert_jq '.[0].citations == [{"n":1,"id":"docs/cnn-zh.md#3","source":"docs/cnn-zh.md","title":"稠密连接网络（DenseNet）"}]'
}

@test "extractive: sentences of one passage keep their order; --sentences 1 gives the best one alone" {
	hits "Which layers does every layer connect to in a dense block, and what is concatenated along the channel axis?" > in.jsonl
	run --separate-stderr rag-answer in.jsonl
	assert_success
	a=$(answer)
	[[ $a == *"connects every layer"*"concatenates them"* ]] || fail "not in text order: $a"
	run --separate-stderr rag-answer --sentences 1 in.jsonl
	assert_success
	[ "$(answer | grep -o '\[1\]' | wc -l)" -eq 1 ] || fail "$(answer)"
}

@test "extractive: a sentence repeated by overlapping chunks is said once" {
	jq -c '.hits += [.hits[0] | .id = "docs/cnn.pdf#5" | .text = ("Each layer adds feature maps. " + .text)]' en.jsonl > in.jsonl
	run --separate-stderr rag-answer in.jsonl
	assert_success
	[ "$(answer | grep -o 'concatenates them along the channel axis' | wc -l)" -eq 1 ] || fail "$(answer)"
}

@test "extractive: a heading is no answer, nor an entry of a table of contents" {
	{
		manual "How does quillsort sort by a field?" $'4.2.1 Sorting by a field\n\nquillsort cuts each line at blanks and compares the chosen field as text.'
		manual "quillsort 怎样按字段排序？" $'4.2.1 按字段排序\n\nquillsort 在空白处切开每一行，把选中的字段当作文字比较。'
		# the only match is in the contents: not found, rather than a line of it
		manual "How do I install quillsort on Windows?" $'Contents\n\nInstalling quillsort on Windows . . . . . . . . 12\n\nUninstalling . . . . . . . . 13\n\nquillsort reads standard input when no file is given.'
		manual "怎样在 Windows 上安装 quillsort？" $'目录\n\n在 Windows 上安装 quillsort . . . . . . . . 12\n\n卸载 . . . . . . . . 13\n\nquillsort 在没有给出文件时读标准输入。'
	} > in.jsonl
	run ask
	assert_success
	assert_line --index 0 "quillsort cuts each line at blanks and compares the chosen field as text [1]."
	assert_line --index 1 "quillsort 在空白处切开每一行，把选中的字段当作文字比较。[1]"
	assert_line --index 2 "The documents do not contain an answer to this question."
	assert_line --index 3 "文档中没有这个问题的答案。"
}

@test "extractive: the question said back is no answer" {
	{
		manual "How many keys can one command have?" $'How many keys can one command have?\n\nOne command takes up to nine keys.'
		manual "一条命令可以有几个键？" $'一条命令可以有几个键？\n\n每条命令最多九个键。'
	} > in.jsonl
	run ask
	assert_success
	assert_line --index 0 "One command takes up to nine keys [1]."
	assert_line --index 1 "每条命令最多九个键。[1]"
}

@test "extractive: a lead-in comes with what it leads in: after ':' or '：', or code after an unfinished sentence" {
	{
		manual "How do I sort by the third field?" $'To sort by the third field, use the option:\n\n--key 3\n\nFields are separated by blanks.'
		manual "如何按第三个字段排序？" $'按第三个字段排序时，使用选项：\n\n--key 3\n\n字段默认以空白分隔。'
		manual "How do I sort by the third field?" $'To sort by the third field use\n\nquillsort --key 3 file\n\nThe key counts from one.'
		manual "如何按第三个字段排序？" $'在命令行执行\n\n1 quillsort --key 3 file\n\n即可按第三个字段排序.'
		# a lead-in with nothing after it in the passage is no answer
		manual "How do I sort by the third field?" $'Fields count from one. To sort by the third field, use the option:'
	} > in.jsonl
	run ask
	assert_success
	assert_line --index 0 "To sort by the third field, use the option: --key 3 [1]"
	assert_line --index 1 --regexp '^按第三个字段排序时，使用选项： --key 3'
	assert_line --index 2 "To sort by the third field use quillsort --key 3 file [1]"
	assert_line --index 3 "在命令行执行 1 quillsort --key 3 file 即可按第三个字段排序 [1]."
	assert_line --index 4 "The documents do not contain an answer to this question."
}

@test "extractive: a sentence that a line of code breaks in the layout is given whole" {
	{
		manual "Which command keeps lines with equal keys in their input order?" $'The command\n\nsort --stable\n\nkeeps lines with equal keys in their input order. Other lines are sorted as usual.'
		manual "用什么命令进入稳定模式？" $'两种模式可以互相转换，使用\n\n\\stablemode\n\n则进入稳定模式，用\n\n\\fastmode\n\n则进入快速模式。'
	} > in.jsonl
	run ask
	assert_success
	assert_line --index 0 "The command sort --stable keeps lines with equal keys in their input order [1]."
	assert_line --index 1 '两种模式可以互相转换，使用 \stablemode 则进入稳定模式，用 \fastmode 则进入快速模式。[1]'
}

@test "extractive: a bare line of code is no answer, unless a command is asked for: then it comes with its sentence" {
	{
		manual "What does quillsort -k 3 data.txt do?" $'quillsort -k 3 data.txt\n\nThis sorts the lines of data.txt by their third field.'
		manual "quillsort -k 3 data.txt 做什么？" $'quillsort -k 3 data.txt\n\n这会按第三个字段给 data.txt 的各行排序。'
		manual "How do I sort data.txt by the third field?" $'quillsort -k 3 data.txt\n\nThis sorts the lines of data.txt by their third field.'
		manual "如何按第三个字段给 data.txt 排序？" $'quillsort -k 3 data.txt\n\n这会按第三个字段给 data.txt 的各行排序。'
	} > in.jsonl
	run ask
	assert_success
	assert_line --index 0 "This sorts the lines of data.txt by their third field [1]."
	assert_line --index 1 "这会按第三个字段给 data.txt 的各行排序。[1]"
	assert_line --index 2 "quillsort -k 3 data.txt This sorts the lines of data.txt by their third field [1]."
	assert_line --index 3 "quillsort -k 3 data.txt 这会按第三个字段给 data.txt 的各行排序。[1]"
}

@test "extractive: how many, 几: the sentence with the number" {
	{
		manual "How many keys can one command take?" 'It reads text line by line. One command can take many keys. The limit is 9 keys for one command. The sorted lines are written out.'
		manual "一条命令最多可以有几个键？" '它逐行读入文本。一条命令可以有多个键。每条命令最多 9 个键。比较完以后按顺序输出。'
	} > in.jsonl
	run ask --sentences 1
	assert_success
	assert_line --index 0 "The limit is 9 keys for one command [1]."
	assert_line --index 1 "每条命令最多 9 个键。[1]"
}

@test "extractive: how do I, 如何: the sentence with the command or option" {
	{
		manual "How do I sort numerically?" 'Lines can be sorted numerically. Give the -n option to sort numerically.'
		manual "如何按数值排序？" '可以按数值排序。加上 -n 选项即可按数值排序。'
	} > in.jsonl
	run ask --sentences 1
	assert_success
	assert_line --index 0 "Give the -n option to sort numerically [1]."
	assert_line --index 1 "加上 -n 选项即可按数值排序。[1]"
}

@test "extractive: who, 谁: the sentence with a name" {
	{
		manual "Who wrote quillsort?" 'It reads text line by line. People wrote many scripts for quillsort. Ada Lovelace wrote quillsort in 1843.'
		manual "quillsort 是谁写的？" '它逐行读入文本。quillsort 是写给管理员的。quillsort 最早的版本是由 Ada Lovelace 写成的。'
	} > in.jsonl
	run ask --sentences 1
	assert_success
	assert_line --index 0 "Ada Lovelace wrote quillsort in 1843 [1]."
	assert_line --index 1 "quillsort 最早的版本是由 Ada Lovelace 写成的。[1]"
}

@test "extractive: where, 哪里: the sentence with a path" {
	{
		manual "Where does quillsort store its settings?" 'Keys are compared in order. quillsort stores its settings for later runs. Settings are stored in ~/.config/quillsort/rc by default.'
		manual "quillsort 的设置保存在哪里？" '它逐行读入文本。quillsort 的设置会保存。这些设置保存在 /etc/quillsort.conf 文件里，每次运行都会读取。'
	} > in.jsonl
	run ask --sentences 1
	assert_success
	assert_line --index 0 "Settings are stored in ~/.config/quillsort/rc by default [1]."
	assert_line --index 1 "这些设置保存在 /etc/quillsort.conf 文件里，每次运行都会读取。[1]"
}

@test "extractive: what is, 什么是: the sentence that says what it is" {
	{
		manual "What is a key?" 'quillsort reads text line by line. Several keys can be given, and the first key is compared first. A key is the part of each line that the lines are compared by, a field or a range of characters. The sorted lines are written out.'
		manual "什么是键？" 'quillsort 逐行读入文本。可以给出多个键，比较时从左到右依次进行。键是每行中用来比较的一个字段。比较完以后按顺序输出。'
	} > in.jsonl
	run ask --sentences 1
	assert_success
	assert_line --index 0 "A key is the part of each line that the lines are compared by, a field or a range of characters [1]."
	assert_line --index 1 "键是每行中用来比较的一个字段。[1]"
}

@test "extractive: hits that do not hold the answer say so plainly, in the question's language" {
	hits "How tall is the Eiffel Tower in Paris?" > in.jsonl
	zh_hits "埃菲尔铁塔有多高？" >> in.jsonl
	run --separate-stderr rag-answer in.jsonl
	assert_success
	assert_jq '[.[].answer] == ["The documents do not contain an answer to this question.", "文档中没有这个问题的答案。"]'
	assert_jq 'all(.[]; .citations == [])'
}

@test "empty hits: an answer saying nothing was found (English and Chinese)" {
	printf '{"question":"什么是稠密连接网络？","hits":[]}\n' >> empty.jsonl
	run --separate-stderr rag-answer empty.jsonl
	assert_success
	assert_jq '[.[].answer] == ["Nothing was found for this question.", "没有找到与这个问题相关的内容。"]'
	assert_jq 'all(.[]; .citations == [] and .answerer == "ragpipe-extract1")'
}

@test "--text: the answer for people, then the numbered sources as source:page" {
	cat en.jsonl zh.jsonl empty.jsonl > in.jsonl
	run --separate-stderr rag-answer --text in.jsonl
	assert_success
	assert_line --partial "concatenates them along the channel axis [1]."
	assert_line "Sources:"
	assert_line "[1] docs/cnn.pdf:3-4 (3 DenseNet)"
	assert_line "来源："
	assert_line "[1] docs/cnn-zh.md (稠密连接网络（DenseNet）)"
	assert_line "Nothing was found for this question."
	[[ $output != *'"answer"'* ]]
}

@test "--text: a source's title is shown on its line; a passage without one shows none" {
	jq -nc '{question: "How are keys compared, and what does the -n option do?", hits: [
		{id: "q.pdf#1", source: "q.pdf", page: 7, title: "4.2 Keys\nand fields", text: "Keys are compared as text."},
		{id: "q.md#2", source: "q.md", text: "The -n option compares numbers."}]}' > in.jsonl
	run --separate-stderr rag-answer --text in.jsonl
	assert_success
	assert_line "[1] q.pdf:7 (4.2 Keys and fields)"
	assert_line "[2] q.md"
	run --separate-stderr rag-answer in.jsonl
	assert_jq '.[0].citations == [{"n":1,"id":"q.pdf#1","source":"q.pdf","page":7,"title":"4.2 Keys\nand fields"},{"n":2,"id":"q.md#2","source":"q.md"}]'
}

@test "bad input: each bad line named with its line number, the others answered, status 1" {
	{
		cat en.jsonl
		echo 'not json'
		echo '{"hits":[]}'
		echo '{"question":"q"}'
		echo '{"question":"q","hits":{}}'
		echo '{"question":"q","hits":[{"id":"x"}]}'
		echo '{"question":5,"hits":[]}'
		echo
		cat zh.jsonl
	} > in.jsonl
	run --separate-stderr rag-answer in.jsonl
	assert_failure 1
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	assert_jsonl
	[[ $stderr == *"rag-answer: in.jsonl: line 2: not valid JSON"* ]] || fail "$stderr"
	[[ $stderr == *'rag-answer: in.jsonl: line 3: no "question" string'* ]] || fail "$stderr"
	[[ $stderr == *'rag-answer: in.jsonl: line 4: no "hits" array'* ]] || fail "$stderr"
	[[ $stderr == *'rag-answer: in.jsonl: line 5: no "hits" array'* ]] || fail "$stderr"
	[[ $stderr == *'rag-answer: in.jsonl: line 6: hit 1 has no "text" string'* ]] || fail "$stderr"
	[[ $stderr == *'rag-answer: in.jsonl: line 7: no "question" string'* ]] || fail "$stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 6 ]
}

@test "files in order, - for standard input, a missing file named" {
	run --separate-stderr sh -c 'rag-answer en.jsonl - missing.jsonl < zh.jsonl'
	assert_failure 1
	assert_jq '[.[].question] == ["What does DenseNet concatenate?", "稠密连接网络的增长率是什么？"]'
	[[ $stderr == *"rag-answer: missing.jsonl: No such file or directory"* ]] || fail "$stderr"
}

@test "| head -1 ends quietly with status 0" {
	for i in $(seq 3000); do cat en.jsonl; done > many.jsonl
	run --separate-stderr bash -c 'set -o pipefail; rag-answer many.jsonl | head -1 > /dev/null'
	assert_success
	assert_stderr_empty
}

@test "usage: -h, --version, unknown options and bad values are usage errors (status 2)" {
	run rag-answer -h
	assert_success
	assert_line --index 0 --partial "usage: rag-answer"
	run rag-answer --version
	assert_success
	assert_output --partial "rag-answer (ragpipe)"
	for args in "--bogus" "--sentences 0" "--max-context lots" "--max-context 5x" "--temperature hot" \
		    "--temperature -1" "--max-tokens 0" "--turns -1" "--param top_p" "--param top_p=high" \
		    "--param messages=[]" "--stop ''" "--parallel 0" "--timeout soon"; do
		eval "run --separate-stderr rag-answer $args en.jsonl"
		[ "$status" -eq 2 ] || fail "rag-answer $args: status $status"
		[[ $stderr == *"rag-answer: "* ]] || fail "rag-answer $args: $stderr"
		[ -z "$output" ] || fail "rag-answer $args wrote $output"
	done
}

@test "usage: --template must exist and hold {context} and {question}" {
	run --separate-stderr rag-answer -u http://127.0.0.1:9/v1 -m m --template nope.txt en.jsonl
	assert_failure 2
	[[ $stderr == *"--template nope.txt: No such file or directory"* ]] || fail "$stderr"
	echo 'Answer {question} please' > t.txt
	run --separate-stderr rag-answer -u http://127.0.0.1:9/v1 -m m --template t.txt en.jsonl
	assert_failure 2
	[[ $stderr == *"--template t.txt: it has no {context}"* ]] || fail "$stderr"
	echo 'Read {context}' > t.txt
	run --separate-stderr rag-answer -u http://127.0.0.1:9/v1 -m m --template t.txt en.jsonl
	assert_failure 2
	[[ $stderr == *"--template t.txt: it has no {question}"* ]] || fail "$stderr"
}

# ---------------------------------------------------------------------------
# chat servers

@test "server: the prompt has the instruction, the numbered passages with source and page, and the question" {
	server_chat
	run --separate-stderr rag-answer -u "$URL" -m chat-1 en.jsonl
	assert_success
	assert_stderr_empty
	[ "$(req '.model')" = chat-1 ]
	[ "$(req '.stream')" = false ]
	[ "$(req '.messages | map(.role) | join(",")')" = "system,user" ]
	[[ $(req '.messages[0].content') == *"only the numbered passages"*"[1]"*"The documents do not contain an answer to this question."* ]]
	user=$(req '.messages[1].content')
	[[ $user == "Passages:"* ]] || fail "$user"
	[[ $user == *"[1] docs/cnn.pdf, pp. 3-4 — 3 DenseNet"$'\n'"DenseNet connects every layer"* ]] || fail "$user"
	[[ $user == *"[2] docs/cnn.pdf, p. 2 — 2 ResNet"$'\n'"ResNet is built"* ]] || fail "$user"
	[[ $user == *"[3] docs/quillsort.md — Description"$'\n'"quillsort sorts"* ]] || fail "$user"
	[[ $user == *$'\n\n'"Question: What does DenseNet concatenate?" ]] || fail "$user"
	# the record: the server's answer, its citations, answerer api:MODEL
	[ "$(answer)" = "Passage 1 is from docs/cnn.pdf [1]. Passage 2 is from docs/cnn.pdf [2]. Passage 3 is from docs/quillsort.md — Description [3]." ]
	assert_jq '.[0].answerer == "api:chat-1" and .[0].unverified_citations == 0 and .[0].qid == 7'
	assert_jq '[.[0].citations[].n] == [1,2,3] and .[0].citations[2] == {"n":3,"id":"docs/quillsort.md#3","source":"docs/quillsort.md","title":"Description"}'
}

@test "server: a Chinese question gets the Chinese instruction and template" {
	server_chat
	run --separate-stderr rag-answer -u "$URL" -m m zh.jsonl
	assert_success
	[[ $(req '.messages[0].content') == *"你只根据给出的编号段落回答问题"*"文档中没有这个问题的答案。"* ]]
	user=$(req '.messages[1].content')
	[[ $user == "段落："* && $user == *"问题：稠密连接网络的增长率是什么？" ]] || fail "$user"
	[[ $user == *"[1] docs/cnn-zh.md — 稠密连接网络（DenseNet）"* ]] || fail "$user"
	# an English question with a Chinese word stays English, and the other way round
	hits "What does 残差 mean in ResNet?" > in.jsonl
	zh_hits "DenseNet的增长率是什么？" >> in.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m in.jsonl
	assert_success
	[[ $(sed -n 2p req.jsonl | jq -r '.messages[1].content') == "Passages:"* ]]
	[[ $(sed -n 3p req.jsonl | jq -r '.messages[1].content') == "段落："* ]]
}

@test "server: --template FILE fills {question} and {context}; --system TEXT, or '' for none" {
	server_chat
	printf 'Context follows.\n{context}\n---\nQ={question} ({question})\n' > t.txt
	hits 'Is {context} expanded in DenseNet?' > in.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --template t.txt --system "Be terse." in.jsonl
	assert_success
	[ "$(req '.messages[0].content')" = "Be terse." ]
	user=$(req '.messages[1].content')
	[[ $user == "Context follows."$'\n'"[1] docs/cnn.pdf, pp. 3-4"* ]] || fail "$user"
	# what is put in is not searched again
	[[ $user == *$'\n---\n'"Q=Is {context} expanded in DenseNet? (Is {context} expanded in DenseNet?)" ]] || fail "$user"
	run --separate-stderr rag-answer -u "$URL" -m m --system '' en.jsonl
	assert_success
	[ "$(req '.messages | map(.role) | join(",")')" = user ]
}

@test "server: --max-context drops the lowest-ranked passages first, and cuts the first only at a sentence end" {
	server_chat
	# everything fits: 3 passages
	run --separate-stderr rag-answer -u "$URL" -m m --max-context 2000 en.jsonl
	assert_success
	[ "$(req '.messages[1].content' | grep -c '^\[[0-9]\] ')" -eq 3 ]
	# room for the first two only (the third would go past 620 characters)
	run --separate-stderr rag-answer -u "$URL" -m m --max-context 620 -v en.jsonl
	assert_success
	[ "$(req '.messages[1].content' | grep -c '^\[[0-9]\] ')" -eq 2 ]
	[[ $stderr == *"line 1: 2 of 3 passages within --max-context"* ]] || fail "$stderr"
	assert_jq '[.[0].citations[].n] == [1,2]'
	# not even the first: it is cut after its last whole sentence that fits
	run --separate-stderr rag-answer -u "$URL" -m m --max-context 200 en.jsonl
	assert_success
	ctx=$(req '.messages[1].content' | sed -n '/^\[1\]/,/^Question/p')
	[[ $ctx == *"dense block. Each layer receives the feature maps of all preceding layers as its input."$'\n\n'"Question:"* ]] || fail "$ctx"
	[[ $ctx != *"Instead of"* && $ctx != *"[2]"* ]] || fail "$ctx"
	# in estimated tokens: a Chinese character is one token
	run --separate-stderr rag-answer -u "$URL" -m m --max-context 90t zh.jsonl
	assert_success
	ctx=$(req '.messages[1].content')
	[[ $ctx == *"作为输入。它不是把输入和输出相加，而是沿通道维把它们拼接起来。"$'\n\n'"问题："* ]] || fail "$ctx"
	[[ $ctx != *"增长率"*"问题"* ]] || fail "$ctx"
}

@test "server: an [n] naming no passage given is removed and counted; the citations shown are all real" {
	server_chat --reply "Dense blocks concatenate [1]. Shortcuts add [7]. Both train deep nets [2, 9]. See 【3】and［12］。"
	run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_success
	[ "$(answer)" = "Dense blocks concatenate [1]. Shortcuts add. Both train deep nets [2]. See [3]and。" ]
	assert_jq '.[0].unverified_citations == 3 and [.[0].citations[].n] == [1,2,3]'
	# a passage left out by --max-context cannot be cited either
	run --separate-stderr rag-answer -u "$URL" -m m --max-context 400 en.jsonl
	assert_success
	assert_jq '.[0].unverified_citations == 5 and [.[0].citations[].n] == [1]'
}

@test "server: --stream gives the same record, written once and whole" {
	server_chat --reply "DenseNet concatenates feature maps [1], ResNet adds them [2]."
	run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_success
	whole=$output
	run --separate-stderr rag-answer -u "$URL" -m m --stream en.jsonl
	assert_success
	[ "$(req '.stream')" = true ]
	[ "$output" = "$whole" ]
}

@test "server: a server that ignores \"stream\":true and answers whole is read as a whole answer" {
	server_chat --reply "DenseNet concatenates feature maps [1], ResNet adds them [2]."
	run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_success
	whole=$output
	server_chat --ignore-stream --reply "DenseNet concatenates feature maps [1], ResNet adds them [2]."
	run --separate-stderr rag-answer -u "$URL" -m m --stream en.jsonl
	assert_success
	assert_stderr_empty
	[ "$(req '.stream')" = true ]
	[ "$output" = "$whole" ]
	run --separate-stderr rag-answer -u "$URL" -m m --text en.jsonl
	assert_success
	assert_line --index 0 "DenseNet concatenates feature maps [1], ResNet adds them [2]."
}

@test "server: a reasoning model's leading <think> block is not part of the answer, whole, streamed or shown" {
	reply=$'<think>\nThe user asks about [7]; passage 1 says so.\n</think>\n\nDenseNet concatenates feature maps [1].'
	server_chat --reply "$reply"
	for how in "" --stream; do
		run --separate-stderr rag-answer -u "$URL" -m m $how en.jsonl
		assert_success
		[ "$(answer)" = "DenseNet concatenates feature maps [1]." ] || fail "$how: $(answer)"
		assert_jq '.[0].unverified_citations == 0 and [.[0].citations[].n] == [1]'
	done
	run --separate-stderr rag-answer -u "$URL" -m m --text en.jsonl
	assert_success
	assert_line --index 0 "DenseNet concatenates feature maps [1]."
	assert_line --index 1 "Sources:"
	# an empty block (reasoning turned off), and the tag anywhere but the start: text
	server_chat --reply $'<think>\n\n</think>\n\nDenseNet [1].' --reply "Write <think> tags [1]. <think>x</think>"
	run --separate-stderr rag-answer -u "$URL" -m m --stream en.jsonl en.jsonl
	assert_success
	[ "$(jl -r .answer | head -1)" = "DenseNet [1]." ]
	[ "$(jl -r .answer | tail -1)" = "Write <think> tags [1]. <think>x</think>" ]
	# reasoning cut off at the token limit leaves no answer: an error
	server_chat --finish length --reply "<think>still weighing [1] against [2]"
	run --separate-stderr rag-answer -u "$URL" -m m --stream en.jsonl
	assert_failure 3
	[[ $stderr == *"the answer is empty"* ]] || fail "$stderr"
}

@test "server: --text streams the answer token by token, then the numbered sources" {
	server_chat --reply "ResNet adds its input back [2]; DenseNet concatenates [1]. Not [5]." --chunk-delay 20
	run --separate-stderr rag-answer -u "$URL" -m m --text en.jsonl
	assert_success
	[ "$(req '.stream')" = true ]
	assert_line --index 0 "ResNet adds its input back [2]; DenseNet concatenates [1]. Not."
	assert_line --index 1 "Sources:"
	assert_line --index 2 "[1] docs/cnn.pdf:3-4 (3 DenseNet)"
	assert_line --index 3 "[2] docs/cnn.pdf:2 (2 ResNet)"
	[ "${#lines[@]}" -eq 4 ]
	# shown as it comes: the first words are out before the server has finished
	rag-answer -u "$URL" -m m --text en.jsonl > out.txt &
	pid=$!
	sleep 0.5
	[[ $(cat out.txt) == "ResNet"* ]] || fail "nothing shown yet: $(cat out.txt)"
	kill -0 "$pid" || fail "already finished: the stream was not slow enough to tell"
	wait "$pid"
}

@test "server: temperature, max tokens, stop sequences and --param KEY=JSON go into the request" {
	server_chat
	run --separate-stderr rag-answer -u "$URL" -m m --temperature 0.2 --max-tokens 300 --stop END --stop $'\n\n' \
		--param top_p=0.9 --param 'options={"num_ctx":8192}' --param seed=7 en.jsonl
	assert_success
	[ "$(req -c '{temperature, max_tokens, stop, top_p, options, seed}')" = '{"temperature":0.2,"max_tokens":300,"stop":["END","\n\n"],"top_p":0.9,"options":{"num_ctx":8192},"seed":7}' ]
	# --param wins over the flag it repeats
	run --separate-stderr rag-answer -u "$URL" -m m --temperature 0.2 --param temperature=1 en.jsonl
	assert_success
	[ "$(req .temperature)" = 1 ]
	run --separate-stderr rag-answer -u "$URL" -m m --param 'stream=true' en.jsonl
	assert_failure 2
}

@test "server: finish_reason length is a warning; the answer is kept" {
	server_chat --finish length --reply "Cut sho [1]"
	run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_success
	[ "$(answer)" = "Cut sho [1]" ]
	[[ $stderr == *'line 1: question "What does DenseNet concatenate?": the answer was cut short at the token limit'* ]] || fail "$stderr"
}

@test "server: hits without hits: nothing-found answer and no server call" {
	server_chat
	run --separate-stderr rag-answer -u "$URL" -m m empty.jsonl
	assert_success
	[ "$(answer)" = "Nothing was found for this question." ]
	assert_jq '.[0].answerer == "api:m" and .[0].citations == []'
	[ "$(server_requests)" -eq 0 ]
}

@test "server: RAG_LLM_URL and RAG_LLM_MODEL configure it; OPENAI_BASE_URL too; -x forces the built-in answerer" {
	server_chat
	RAG_LLM_URL=$URL RAG_LLM_MODEL=env-model run --separate-stderr rag-answer en.jsonl
	assert_success
	assert_jq '.[0].answerer == "api:env-model"'
	OPENAI_BASE_URL=$URL run --separate-stderr rag-answer -m m2 en.jsonl
	assert_success
	assert_jq '.[0].answerer == "api:m2"'
	RAG_LLM_URL=$URL RAG_LLM_MODEL=env-model run --separate-stderr rag-answer -x en.jsonl
	assert_success
	assert_jq '.[0].answerer == "ragpipe-extract1"'
	[ "$(server_requests)" -eq 2 ]
	RAG_LLM_URL=$URL run --separate-stderr rag-answer en.jsonl
	assert_failure 2
	[[ $stderr == *"a server needs --model (or RAG_LLM_MODEL)"* ]] || fail "$stderr"
}

@test "server: --parallel keeps input order with several questions in flight" {
	server_chat --latency 300
	for i in 1 2 3 4 5 6; do hits "Question $i about DenseNet?"; done > in.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --parallel 3 in.jsonl
	assert_success
	assert_jq '[.[].question] == ["Question 1 about DenseNet?","Question 2 about DenseNet?","Question 3 about DenseNet?","Question 4 about DenseNet?","Question 5 about DenseNet?","Question 6 about DenseNet?"]'
	[ "$(server_max_inflight)" -ge 2 ] || fail "max in flight $(server_max_inflight)"
}

# ---------------------------------------------------------------------------
# history

@test "history: the pair is appended after success; the last --turns are sent, without their citations" {
	server_chat --reply "First answer [1]." --reply "Second answer [2]." --reply "Third [1]."
	hits "What is DenseNet?" > q1.jsonl
	hits "And ResNet?" > q2.jsonl
	hits "Which is smaller?" > q3.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --history h.jsonl q1.jsonl
	assert_success
	[ "$(cat h.jsonl)" = '{"question":"What is DenseNet?","answer":"First answer [1]."}' ]
	[ "$(req '.messages | map(.role) | join(",")')" = "system,user" ]
	run --separate-stderr rag-answer -u "$URL" -m m --history h.jsonl q2.jsonl
	assert_success
	[ "$(req -c '[.messages[1:3][] | [.role, .content]]')" = '[["user","What is DenseNet?"],["assistant","First answer."]]' ]
	[[ $(req '.messages[3].content') == *"Question: And ResNet?" ]]
	# one run, two questions: the second sees the first; --turns 1 sends only the last
	run --separate-stderr rag-answer -u "$URL" -m m --history h.jsonl --turns 1 q3.jsonl q1.jsonl
	assert_success
	[ "$(sed -n 3p req.jsonl | jq -c '[.messages[1:3][] | .content]')" = '["And ResNet?","Second answer."]' ]
	[ "$(sed -n 4p req.jsonl | jq -c '[.messages[1:3][] | .content]')" = '["Which is smaller?","Third."]' ]
	[ "$(jq -r .question h.jsonl | tr '\n' '|')" = "What is DenseNet?|And ResNet?|Which is smaller?|What is DenseNet?|" ]
	# --turns 0 sends none
	run --separate-stderr rag-answer -u "$URL" -m m --history h.jsonl --turns 0 q1.jsonl
	assert_success
	[ "$(req '.messages | length')" -eq 2 ]
}

@test "history: an answer record file serves as history; a bad line is an error naming the file and line" {
	server_chat
	rag-answer en.jsonl > h.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --history h.jsonl zh.jsonl
	assert_success
	[ "$(req '.messages[1].content')" = "What does DenseNet concatenate?" ]
	printf '{"question":"a","answer":"b"}\n{"question":"c"}\n' > bad.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --history bad.jsonl en.jsonl
	assert_failure 2
	[[ $stderr == *'--history bad.jsonl: line 2: not a turn (no "question" and "answer" strings)'* ]] || fail "$stderr"
	[ -z "$output" ]
}

@test "history: unchanged when the server fails; a file without a final newline gets one" {
	server_chat --fail 500:100
	printf '{"question":"a","answer":"b"}' > h.jsonl
	cp h.jsonl before.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --retries 0 --history h.jsonl en.jsonl
	assert_failure 3
	cmp h.jsonl before.jsonl
	server_stop_all || true
	server_chat --reply "ok [1]"
	run --separate-stderr rag-answer -u "$URL" -m m --history h.jsonl en.jsonl
	assert_success
	[ "$(jq -r .answer h.jsonl | tr '\n' '|')" = "b|ok [1]|" ]
	ls -A | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls -A)"
	true
}

@test "history: Ctrl-C during a streamed answer leaves the history file as it was" {
	server_chat --reply "$(printf 'word%.0s ' $(seq 60))[1]" --chunk-delay 50
	printf '{"question":"earlier","answer":"kept"}\n' > h.jsonl
	cp h.jsonl before.jsonl
	# a shell script's background job ignores SIGINT: restore the default first
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		rag-answer -u "$URL" -m m --text --history h.jsonl en.jsonl > out.txt 2> err.txt &
	pid=$!
	for i in $(seq 50); do [ -s out.txt ] && break; sleep 0.1; done
	[ -s out.txt ] || fail "no output: $(cat err.txt)"
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ] || fail "status $rc"
	cmp h.jsonl before.jsonl
	[ "$(ls -A | grep -c '\.tmp\.')" -eq 0 ] || fail "$(ls -A)"
}

# ---------------------------------------------------------------------------
# server faults

@test "faults: 429 with Retry-After and a 500 are retried, and the answer comes" {
	server_chat --fail 429@1 --fail 500@2
	run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_success
	[ "$(server_requests)" -eq 3 ]
	assert_jq '.[0].unverified_citations == 0'
}

@test "faults: a streamed request that failed before its first byte is retried; the text is shown once" {
	server_chat --fail 503@1 --fail drop@2 --reply "Shown once [1]."
	run --separate-stderr rag-answer -u "$URL" -m m --text en.jsonl
	assert_success
	[ "$(server_requests)" -eq 3 ]
	assert_line --index 0 "Shown once [1]."
	[ "$(printf '%s\n' "$output" | grep -c 'Shown once')" -eq 1 ]
}

@test "faults: server errors after the retries: the question named, the others answered, status 3" {
	server_chat --fail 500@1,2
	hits "First question about DenseNet?" > in.jsonl
	hits "Second question about ResNet?" >> in.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --retries 1 in.jsonl
	assert_failure 3
	assert_jq 'length == 1 and .[0].question == "Second question about ResNet?"'
	[[ $stderr == *'rag-answer: in.jsonl: line 1: question "First question about DenseNet?": no answer: '"$URL"'/chat/completions: HTTP 500: injected fault: HTTP 500 (gave up after 2 attempts)'* ]] || fail "$stderr"
}

@test "faults: a malformed JSON answer is an error, not retried, and no record is written" {
	server_chat --fail malformed@1
	cat en.jsonl zh.jsonl > in.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m in.jsonl
	assert_failure 3
	assert_jq 'length == 1 and .[0].question == "稠密连接网络的增长率是什么？"'
	[[ $stderr == *"line 1: question \"What does DenseNet concatenate?\": no answer: $URL: the answer is not a JSON object"* ]] || fail "$stderr"
	[ "$(server_requests)" -eq 2 ]
}

@test "faults: streamed answers: malformed SSE, malformed JSON event, cut in the middle, ended early" {
	for kind in sse malformed cut early; do
		server_chat --fail "$kind@1" --reply "A long enough answer for several events [1]."
		cat en.jsonl zh.jsonl > in.jsonl
		run --separate-stderr rag-answer -u "$URL" -m m --stream in.jsonl
		[ "$status" -eq 3 ] || fail "$kind: status $status: $stderr"
		assert_jq 'length == 1 and .[0].question == "稠密连接网络的增长率是什么？" and .[0].answer == "A long enough answer for several events [1]."'
		case $kind in
		sse) want='malformed event stream, line [0-9]+: not an event-stream field: "this is not an event-stream line"' ;;
		malformed) want='event [0-9]+ is not a JSON object' ;;
		cut) want='the answer broke off after [0-9]+ bytes: ' ;;
		early) want='the stream ended before the answer was complete \(no "data: \[DONE\]" after [0-9]+ events\)' ;;
		esac
		[[ $stderr =~ "line 1: question \"What does DenseNet concatenate?\": no answer: $URL"(/chat/completions)?": "$want ]] || fail "$kind: $stderr"
		[ "$(server_requests)" -eq 2 ] || fail "$kind: $(server_requests) requests"
		server_stop_all || true
	done
}

@test "faults: a cut stream with --text: what came is shown, then the error; the next question still answered" {
	server_chat --fail cut@1 --reply "Partial answer that will be cut somewhere [1]."
	cat en.jsonl zh.jsonl > in.jsonl
	run --separate-stderr rag-answer -u "$URL" -m m --text in.jsonl
	assert_failure 3
	assert_line --index 0 --regexp '^Partial '
	assert_line "Partial answer that will be cut somewhere [1]."
	[[ $stderr == *"the answer broke off after"* ]] || fail "$stderr"
}

@test "faults: a server that never answers times out with a clear error" {
	server_chat --fail hang:5
	run --separate-stderr rag-answer -u "$URL" -m m --timeout 1 --retries 0 en.jsonl
	assert_failure 3
	[[ $stderr == *"no answer: $URL/chat/completions: "*"imed out"* ]] || fail "$stderr"
	[ -z "$output" ]
}

@test "faults: an empty answer is an error" {
	server_chat --reply ""
	run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_failure 3
	[[ $stderr == *"no answer: $URL: the answer is empty"* ]] || fail "$stderr"
}

# ---------------------------------------------------------------------------
# the key

@test "key: from RAG_API_KEY or --api-key-file, sent as a bearer token, never shown; --api-key refused" {
	server_chat --require-key sk-SECRET-123
	RAG_API_KEY=sk-SECRET-123 run --separate-stderr rag-answer -u "$URL" -m m -v en.jsonl
	assert_success
	[[ $output$stderr != *SECRET* ]] || fail "the key leaked"
	echo sk-SECRET-123 > key.txt
	run --separate-stderr rag-answer -u "$URL" -m m --api-key-file key.txt en.jsonl
	assert_success
	RAG_API_KEY=sk-SECRET-wrong run --separate-stderr rag-answer -u "$URL" -m m en.jsonl
	assert_failure 3
	[[ $stderr == *"HTTP 401: Incorrect API key provided: [key]"* ]] || fail "$stderr"
	[[ $stderr != *SECRET* ]] || fail "the key leaked: $stderr"
	run --separate-stderr rag-answer -u "$URL" -m m --api-key sk-SECRET-123 en.jsonl
	assert_failure 2
	[[ $stderr != *SECRET* ]] || fail "the key leaked: $stderr"
	run --separate-stderr rag-answer -u "$URL" -m m --api-key-file missing.txt en.jsonl
	assert_failure 2
	[[ $stderr == *"--api-key-file missing.txt: No such file or directory"* ]] || fail "$stderr"
	: > empty.txt
	run --separate-stderr rag-answer -u "$URL" -m m --api-key-file empty.txt en.jsonl
	assert_failure 2
	[[ $stderr == *"empty.txt: no key in the file"* ]] || fail "$stderr"
}

@test "TLS: the server's certificate is verified; --cacert trusts a private one" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout key.pem -out cert.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	server_chat --tls cert.pem:key.pem
	run --separate-stderr rag-answer -u "$URL" -m m --retries 0 en.jsonl
	assert_failure 3
	[[ $stderr == *"no answer: $URL/chat/completions: "*certificate* ]] || fail "$stderr"
	run --separate-stderr rag-answer -u "$URL" -m m --cacert cert.pem en.jsonl
	assert_success
	assert_jq '.[0].answerer == "api:m"'
}

@test "fail-over: RAG_LLM_URL lists several servers; a dead one is passed over" {
	server_chat
	RAG_LLM_URL="http://127.0.0.1:$(free_port)/v1,$URL" run --separate-stderr rag-answer -m m -q en.jsonl
	assert_success
	assert_jq '.[0].answerer == "api:m" and (.[0].citations | length) == 3'
}

@test "plain text, chunks, a document or answers stop at once with one line naming the right order" {
	run --separate-stderr rag-answer <<<"What is DenseNet?"
	assert_failure 1
	assert_output ""
	assert_stderr_equal "rag-answer: stdin: plain text, not hits records: rag-answer reads what rag-query writes (echo QUESTION | rag-query -d DIR | rag-answer)"
	rag-split "$DATA/plain.txt" >chunks.jsonl
	run --separate-stderr rag-answer chunks.jsonl
	assert_failure 1
	assert_stderr_equal "rag-answer: chunks.jsonl: rag-split's chunks, not hits records: rag-answer reads what rag-query writes (echo QUESTION | rag-query -d DIR | rag-answer)"
	run --separate-stderr rag-answer "$DATA/handbook.pdf"
	assert_failure 1
	[[ "$stderr" == "rag-answer: $DATA/handbook.pdf: a PDF document, not hits records:"* ]] || fail "stderr: $stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ] || fail "stderr: $stderr"
	echo '{"question":"q","hits":[]}' | rag-answer >answers.jsonl
	run --separate-stderr rag-answer answers.jsonl
	assert_failure 1
	[[ "$stderr" == "rag-answer: answers.jsonl: rag-answer's answers, not hits records:"* ]] || fail "stderr: $stderr"
}
