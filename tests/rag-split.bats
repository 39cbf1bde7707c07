#!/usr/bin/env bats
# rag-split: documents -> chunk records.  Fixtures: tests/data (made by
# tests/data/mkdocs.py).  Needs jq and python3.

load helpers

HB="$DATA/handbook.pdf"
ZH="$DATA/zh.pdf"

# ---------------------------------------------------------------------------
# records

@test "PDF chunk fields come in the fixed order id, source, doc, seq, page, page_end, title, text" {
	run --separate-stderr rag-split "$HB"
	assert_success
	assert_jsonl
	assert_jq 'all(if has("title") then (keys_unsorted == ["id","source","doc","seq","page","page_end","title","text"])
	               else (keys_unsorted == ["id","source","doc","seq","page","page_end","text"]) end)'
	# footnotes, when a chunk has them, come last
	run --separate-stderr rag-split "$DATA/layout-en.pdf"
	assert_success
	assert_jq 'any(has("footnotes")) and all((has("footnotes") | not) or (keys_unsorted | .[-1] == "footnotes"))'
	assert_jq 'all(.text | type == "string" and length > 0)'
}

@test "seq counts from 1 per document and id is source#seq" {
	run --separate-stderr rag-split -s 200 -o 20 "$DATA/plain.txt" "$HB"
	assert_success
	assert_jq '(map(select(.source == $ENV.DATA + "/plain.txt")) | [.[].seq] == [range(1; length + 1)])
	           and (map(select(.source == $ENV.DATA + "/handbook.pdf")) | [.[].seq] == [range(1; length + 1)])'
	assert_jq 'all(.id == .source + "#" + (.seq | tostring))'
	# argument order: all of plain.txt first
	assert_jq '[.[].source] | (index($ENV.DATA + "/handbook.pdf")) > (rindex($ENV.DATA + "/plain.txt"))'
}

@test "source is the path exactly as given" {
	cd "$DATA"
	run --separate-stderr rag-split ./plain.txt ../data/notes.md
	assert_success
	assert_jq '[.[].source] | unique == ["../data/notes.md", "./plain.txt"]'
}

@test "doc is the sha256 of the file bytes and changes when the bytes change" {
	run --separate-stderr rag-split "$HB"
	assert_success
	sum=$(sha256sum "$HB" | cut -d' ' -f1)
	assert_jq "all(.doc == \"$sum\")"
	cp "$DATA/plain.txt" a.txt
	run --separate-stderr rag-split a.txt
	d1=$(jl -s '.[0].doc')
	[[ "$d1" =~ ^[0-9a-f]{64}$ ]]
	echo "One more line." >> a.txt
	run --separate-stderr rag-split a.txt
	d2=$(jl -s '.[0].doc')
	[ "$d1" != "$d2" ]
	[ "$d2" = "$(sha256sum a.txt | cut -d' ' -f1)" ]
}

# ---------------------------------------------------------------------------
# PDF pages and titles

@test "PDF: page and page_end are 1-based page numbers of the chunk's text" {
	run --separate-stderr rag-split "$HB"
	assert_success
	assert_jq 'all(.page >= 1 and .page_end >= .page and .page_end <= 6)'
	assert_jq '[.[] | select(.text | contains("Marmalade"))] | length == 1 and .[0].page == 3'
	assert_jq '[.[] | select(.text | contains("Quartz"))] | length == 1 and .[0].page == 4'
	assert_jq '[.[] | select(.text | contains("Saffron"))] | length == 1 and .[0].page == 5'
	assert_jq '[.[] | select(.text | contains("Walnut"))] | length == 1 and .[0].page_end == 6'
	assert_jq '.[0].page == 1'
}

@test "PDF: title is the outline entry of the section the chunk starts in" {
	run --separate-stderr rag-split -s 300 -o 50 "$HB"
	assert_success
	assert_jq 'all(.[] | select(.text | contains("Marmalade")); .title == "1 Introduction")'
	assert_jq 'all(.[] | select(.text | contains("Quartz")); .title == "1.1 Purpose of the fixtures")'
	assert_jq 'all(.[] | select(.text | contains("Saffron")); .title == "2 Cleaning rules")'
	assert_jq 'all(.[] | select(.text | contains("Walnut")); .title == "3 Summary")'
	assert_jq 'all(.[] | select(.text | contains("retrieval pipeline")); .title == "1 Introduction" and .page == 3)'
	# the contents page is leaders and its heading: nothing of it is left
	assert_jq 'all(.title != "Contents")'
}

@test "PDF: chunks before the first outline entry have no title field" {
	run --separate-stderr rag-split "$HB"
	assert_success
	assert_jq '[.[] | select(.text | contains("exists only to exercise"))] | length >= 1 and all(has("title") | not)'
}

@test "PDF: no chunk crosses an outline section boundary" {
	for args in "" "-s 2000 -o 100" "-s 300 -o 50"; do
		run --separate-stderr rag-split $args "$HB"
		assert_success
		assert_jq 'all([.text | contains("Marmalade", "Quartz", "Saffron", "Walnut")] | map(select(.)) | length <= 1)'
		assert_jq 'all(.[] | select(.title == "1 Introduction"); .page == 3 and .page_end == 3)'
		assert_jq 'all(.[] | select(.title == "1.1 Purpose of the fixtures"); .page == 4 and .page_end == 4)'
	done
}

@test "XPS: chunks carry page numbers" {
	run --separate-stderr rag-split "$DATA/doc.xps"
	assert_success
	assert_jq '[.[] | select(.text | contains("sandpiper"))] | length == 1 and .[0].page == 1'
	assert_jq '[.[] | select(.text | contains("cormorant"))] | length == 1 and .[0].page_end == 2'
	assert_jq 'all(has("page") and has("page_end"))'
}

# ---------------------------------------------------------------------------
# reflowable and text formats

@test "EPUB: text is read, no page fields, title from the EPUB table of contents" {
	run --separate-stderr rag-split "$DATA/book.epub"
	assert_success
	assert_jsonl
	assert_jq 'all(has("page") or has("page_end") | not)'
	assert_jq '[.[] | select(.text | contains("Fishing boats come back at dawn"))] | length == 1
	           and .[0].title == "Chapter 1: Harbour"'
	assert_jq '[.[] | select(.text | contains("count the islands"))] | length == 1
	           and .[0].title == "Chapter 2: Lighthouse"'
}

@test "FB2: text is read and has no page fields" {
	run --separate-stderr rag-split "$DATA/story.fb2"
	assert_success
	assert_jq 'any(.text | contains("glowed all night long")) and any(.text | contains("heron landed"))'
	assert_jq 'all(has("page") or has("page_end") | not)'
}

@test "MOBI: text is read and has no page fields" {
	run --separate-stderr rag-split "$DATA/book.mobi"
	assert_success
	assert_jq 'any(.text | contains("kingfisher")) and any(.text | contains("woodpecker"))'
	assert_jq 'all(has("page") or has("page_end") | not)'
}

@test "HTML: text is read without markup and has no page fields" {
	run --separate-stderr rag-split "$DATA/page.html"
	assert_success
	assert_jq 'any(.text | contains("limescale")) and any(.text | contains("whistling kettle"))'
	assert_jq 'all(.text | contains("<") | not)'
	assert_jq 'all(has("page") or has("page_end") | not)'
}

@test "plain text: paragraphs read, wrapped lines joined with one space, no page and no title" {
	run --separate-stderr rag-split "$DATA/plain.txt"
	assert_success
	assert_jq 'any(.text | contains("A lighthouse keeper trims the wick, polishes the lens"))'
	assert_jq 'any(.text | contains("ends the file with a single sentence."))'
	assert_jq 'all(has("page") or has("page_end") or has("title") | not)'
}

@test "plain text: CRLF line ends give the same chunks as LF" {
	run --separate-stderr rag-split -s 120 -o 30 "$DATA/plain.txt"
	lf=$(jl '.text')
	run --separate-stderr rag-split -s 120 -o 30 "$DATA/crlf.txt"
	assert_success
	crlf=$(jl '.text')
	[ "$lf" = "$crlf" ]
	[[ "$crlf" != *$'\r'* ]]
}

@test "Markdown: title is the nearest preceding # heading, absent before the first" {
	run --separate-stderr rag-split "$DATA/notes.md"
	assert_success
	assert_jq 'all(has("page") or has("page_end") | not)'
	assert_jq '[.[] | select(.text | contains("Some words before the first heading"))] | length == 1 and (.[0] | has("title") | not)'
	assert_jq '[.[] | select(.text | contains("bees in spring"))] | length == 1 and .[0].title == "Alpha section"'
	assert_jq '[.[] | select(.text | contains("apricots"))] | length == 1 and .[0].title == "Alpha details"'
	assert_jq '[.[] | select(.text | contains("own weight of water"))] | length == 1 and .[0].title == "Beta section"'
}

@test "Markdown: no chunk crosses a heading" {
	run --separate-stderr rag-split -s 1000 -o 100 "$DATA/notes.md"
	assert_success
	assert_jq 'all([.text | contains("before the first heading", "apples", "apricots", "boats")] | map(select(.)) | length <= 1)'
}

# ---------------------------------------------------------------------------
# recognition by content

@test "a PDF without an extension is recognised by content" {
	run --separate-stderr rag-split "$DATA/pdf-without-extension"
	assert_success
	assert_stderr_empty
	assert_jq 'length >= 1 and all(.page == 1) and any(.text | contains("pumpernickel"))'
}

@test "a PDF named .txt is read as a PDF, not as text" {
	run --separate-stderr rag-split "$DATA/mini-pdf.txt"
	assert_success
	assert_stderr_empty
	assert_jq 'all(.page == 1) and any(.text | contains("pumpernickel")) and all(.text | contains("%PDF") | not)'
}

@test "an EPUB without an extension is recognised by content" {
	run --separate-stderr rag-split "$DATA/epub-without-extension"
	assert_success
	assert_jq 'any(.text | contains("count the islands")) and any(.title == "Chapter 2: Lighthouse")'
	assert_jq 'all(.text | contains("mimetype") | not)'
}

@test "HTML named .txt is recognised by content" {
	cp "$DATA/page.html" page.txt
	run --separate-stderr rag-split page.txt
	assert_success
	assert_jq 'any(.text | contains("limescale")) and all(.text | contains("<p>") | not)'
}

# ---------------------------------------------------------------------------
# cleaning

@test "cleaning: Kangxi radicals in a PDF text layer become unified ideographs (动⼿学 -> 动手学)" {
	run --separate-stderr rag-split "$ZH"
	assert_success
	assert_jq 'any(.text | contains("《动手学深度学习》"))'
	assert_jq 'any(.text | contains("开始动手写代码"))'
	# nothing left in CJK Radicals Supplement or Kangxi Radicals
	assert_jq 'all(.text | explode | all((. >= 11904 and . <= 12019) or (. >= 12032 and . <= 12245) | not))'
}

@test "cleaning: NFKC in text files, full-width punctuation kept, radicals mapped" {
	printf '\xef\xac\x81le \xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91\xef\xbc\x92 \xe2\xbc\xbf\xe6\x9c\xba\xef\xbc\x8c\xe5\xa5\xbd\xef\xbc\x81\xe5\x90\x97\xef\xbc\x9f\xef\xbc\x88\xe6\x98\xaf\xef\xbc\x89\n' > nfkc.txt
	# ﬁle ＡＢＣ１２ ⼿机，好！吗？（是）
	run --separate-stderr rag-split nfkc.txt
	assert_success
	assert_jq '.[0].text == "file ABC12 手机，好！吗？（是）"'
}

@test "cleaning: lines of a CJK paragraph join without a space" {
	run --separate-stderr rag-split "$ZH"
	assert_success
	# the PDF breaks these lines between 文本|层 and 句|子
	assert_jq 'any(.text | contains("在文本层中是康熙部首"))'
	assert_jq 'any(.text | contains("都是句子的结尾"))'
	# (headings such as "第一章 动手实践" keep their space)
	assert_jq 'all(.title as $t | .text | split("\n") | map(select(. as $l | $t | contains($l) | not))
	               | all(test("[\u4e00-\u9fff] [\u4e00-\u9fff]") | not))'
}

@test "cleaning: table-of-contents lines with dot leaders are dropped" {
	run --separate-stderr rag-split "$HB" "$ZH"
	assert_success
	assert_jq 'all(.text | test("\\. ?\\. ?\\.") | not)'
	assert_jq 'all(.text | contains("Something else") or contains("Intro ") or contains("DenseNet模型") or contains("前言") | not)'
	printf 'Contents\n\n1.2 Something . . . . . . 7\nIntro ........ 5\n7.7.4 DenseNet模型 . . . . . . 291\n\nThe body text stays.\n' > toc.txt
	run --separate-stderr rag-split toc.txt
	assert_success
	assert_jq 'all(.text | contains("Something") or contains("Intro") or contains("DenseNet") | not)'
	assert_jq 'any(.text | contains("The body text stays."))'
}

@test "cleaning: a word hyphenated across a line end is joined" {
	run --separate-stderr rag-split "$HB"
	assert_success
	assert_jq 'any(.text | contains("A word that is hyphenated in print must come out whole"))'
	assert_jq 'any(.text | contains("a word like documents, because"))'
	assert_jq 'all(.text | contains("hyphen-") or contains("hyphen ated") or contains("docu-") | not)'
	printf 'A line that ends in hyphen-\nated text.\n' > hy.txt
	run --separate-stderr rag-split hy.txt
	assert_success
	assert_jq '.[0].text == "A line that ends in hyphenated text."'
}

@test "cleaning: running headers, footers and bare page numbers are removed" {
	run --separate-stderr rag-split -s 200 -o 40 "$HB" "$ZH"
	assert_success
	assert_jq 'all(.text | contains("Fixture Handbook - page") | not)'
	assert_jq 'all(.text | contains("测试文档：中文切分") or test("第 ?[0-9]+ ?页 ?共") | not)'
	# no line (or chunk) that is only a number
	assert_jq 'all(.text | split("\n") | all(test("^\\s*[0-9]+\\s*$") | not))'
	assert_jq 'all(.text | test("\\s[0-9]$") | not)'
	# the body is still there
	assert_jq 'any(.text | contains("Marmalade")) and any(.text | contains("最后一句话：测试到此结束！"))'
}

@test "cleaning: whitespace runs collapse, wrapped lines join with one space" {
	run --separate-stderr rag-split "$HB"
	assert_success
	assert_jq 'any(.text | contains("When a book is cut into chunks, each chunk should read like ordinary prose"))'
	assert_jq 'all(.text | test("[ \t][ \t]|\t") | not)'
	printf 'many    spaces\there\n   and  more\n' > ws.txt
	run --separate-stderr rag-split ws.txt
	assert_success
	assert_jq '.[0].text == "many spaces here and more"'
}

TEXPDF="$DATA/tex/cleaning.pdf"

@test "cleaning: accents TeX sets apart from their letters are put back (Sch¨opf -> Schöpf)" {
	run --separate-stderr rag-split "$TEXPDF"
	assert_success
	assert_jq 'any(.text | contains("written by Reinhard Schöpf and Noël Brandt, with help from François Dupré, Jérôme Lefèvre and Petr Mikulík in Lübeck; they met at the Café Čapek in Århus over crème brûlée and a naïve Éclair."))'
	# no spacing accent and no combining mark is left
	assert_jq 'all(.text | test("[\u00a8\u00b4\u00b8\u02c6\u02c7\u02da`\u0300-\u036f]") | not)'
	# NFKC's spelling of the same in a text file; accents that stand alone stay
	printf 'Sch \xcc\x88opf and No \xcc\x88el\nThe \xcb\x86 and ~ signs, and don\xc2\xb4t.\n' > acc.txt
	run --separate-stderr rag-split acc.txt
	assert_success
	assert_jq '.[0].text == "Schöpf and Noël The \u02c6 and ~ signs, and don \u0301t."'
}

@test "cleaning: URLs and e-mail addresses cut at line ends or spaced out are joined whole" {
	run --separate-stderr rag-split "$TEXPDF"
	assert_success
	assert_jq 'any(.text | contains("kept at https://quillmere.example.org/archive/reports/2024/summer-meeting/minutes-and-notes/index.html and the mirror"))'
	assert_jq 'any(.text | contains("mirror at https://mirror.example.net/pub/quillmere/reports/2024-summer-meeting/minutes.pdf while"))'
	assert_jq 'any(.text | contains("go to quillmere-reports-questions@lists.example.org by mail"))'
	assert_jq 'any(.text | contains("Older notes are at https://notes.example.org/quillmere."))'
	assert_jq 'all(.text | test("https?: |:// |[./-] (org|html|reports)") | not)'
	# a sentence after a URL, a table cell after a path, stay apart
	printf 'See https://tug.example.org/\nfor details, or www.example.org.\nThe next sentence.\n' > url.txt
	run --separate-stderr rag-split url.txt
	assert_success
	assert_jq '.[0].text == "See https://tug.example.org/ for details, or www.example.org. The next sentence."'
}

@test "cleaning: private-use characters and U+FFFD go, a page left blank gives no chunk" {
	run --separate-stderr rag-split -s 40 -o 0 "$TEXPDF"
	assert_success
	assert_jq 'all(.text | test("[\ue000-\uf8ff\ufffd]") | not)'
	# page 2 holds nothing but two such glyphs
	assert_jq 'all(.page != 2 and .page_end != 2)'
	assert_jq 'any(.page == 3 and (.text | contains("marker word")))'
	printf 'a\xee\x80\x80b \xf3\xb0\x80\x80c\n' > pua.txt
	run --separate-stderr rag-split pua.txt
	assert_success
	assert_jq '.[0].text == "ab c"'
}

@test "cleaning: TeX logos are spelled as users type them, a heading in capitals is left alone" {
	run --separate-stderr rag-split "$TEXPDF" "$DATA/tex/xelogos.pdf"
	assert_success
	assert_jq 'any(.text | contains("typeset with LaTeX on top of TeX, in LaTeX2e syntax; the bibliography came from BibTeX and the slides from ConTeXt."))'
	assert_jq 'any(.text | contains("compile with XeLaTeX or with plain XeTeX; LuaLaTeX works too."))'
	assert_jq 'any(.text | contains("A HEADING SET IN CAPITALS: USING LATEX AND TEX"))'
	assert_jq 'all(.text | test("Ǝ|LATEX2|LATEX 2|BibTEX|ConTEXt") | not)'
	# code and variables keep their capitals
	printf 'Set TEXMFHOME and run $TEX, or TEX = pdftex in the file.\n' > logo.txt
	run --separate-stderr rag-split logo.txt
	assert_success
	assert_jq '.[0].text == "Set TEXMFHOME and run $TEX, or TEX = pdftex in the file."'
}

@test "cleaning: list items keep their own lines" {
	run --separate-stderr rag-split "$TEXPDF"
	assert_success
	assert_jq 'any(.text | contains("\n• a pencil\n• the minutes\n"))'
	assert_jq 'any(.text | contains("\n1. read them\n2. sign them"))'
	printf 'Shopping:\n- bread\n- milk\n(a) first\n(b) second\nand a line that goes\non with the sentence.\n' > list.txt
	run --separate-stderr rag-split list.txt
	assert_success
	assert_jq '.[0].text == "Shopping:\n- bread\n- milk\n(a) first\n(b) second and a line that goes on with the sentence."'
}

@test "HTML: Texinfo, Sphinx and Javadoc navigation is left out, the page's text kept" {
	run --separate-stderr rag-split -v "$DATA/html/texinfo.html" "$DATA/html/sphinx.html" "$DATA/html/javadoc.html"
	assert_success
	assert_jq 'any(.text | contains("the marker word of this page is marzipan."))'
	assert_jq 'any(.text | contains("the marker word of this page is nougat."))'
	assert_jq 'any(.text | contains("The marker word of this page is praline."))'
	assert_jq 'any(.text | contains("With -k N the Nth field is compared as a number."))'
	assert_jq 'any(.text | startswith("2.3 Quill Patterns\n")) and any(.text | startswith("Numeric Keys\n"))'
	assert_jq 'all(.text | test("Next:|Previous:|Up:|\\[Contents\\]|\\[Index\\]|Navigation|modules|Table of Contents|Appendix|History of the quill|topic|Show Source|Quick search|Sphinx|Skip navigation|JavaScript|Overview|Deprecated|Constr|Summary:|All Classes|¶") | not)'
	[[ "$stderr" == *"texinfo.html: removed 2 navigation lines"* ]] || fail "$stderr"
	# the same lines in a text file are text
	printf 'Next: Sorting Keys, Previous: Invoking, Up: Basics [Contents][Index]\n\nNavigation\n\nQuick search\n' > nav.txt
	run --separate-stderr rag-split nav.txt
	assert_success
	assert_jq 'length == 1 and (.[0].text | contains("Up: Basics [Contents][Index]") and contains("Navigation") and contains("Quick search"))'
}

@test "-v reports pages, chunks, toc lines, header/footer lines, footnote lines and hyphenations" {
	run --separate-stderr rag-split -v "$HB"
	assert_success
	n=$(printf '%s\n' "$output" | wc -l)
	line=$(printf '%s\n' "$stderr" | grep -F "rag-split: $HB: ")
	[ "$line" = "rag-split: $HB: 6 pages, $n chunks, removed 7 toc lines, 12 header/footer lines, 0 footnote lines, 2 hyphenations" ] \
		|| fail "got: $line"
}

# ---------------------------------------------------------------------------
# CJK sentences

@test "CJK: no chunk starts with 。，！？；、 or a closing quote, at any size" {
	for args in "" "-s 60 -o 10" "-s 30 -o 8" "-s 20 -o 5" "-s 12 -o 0"; do
		run --separate-stderr rag-split $args "$ZH"
		assert_success
		assert_jq 'all(.text | test("^[。，！？；、：”’」』）》,.;]") | not)'
	done
}

@test "CJK: a closing ” stays with its sentence" {
	for args in "" "-s 40 -o 10" "-s 20 -o 0"; do
		run --separate-stderr rag-split $args "$ZH"
		assert_success
		assert_jq 'any(.text | contains("老师说：“先读懂问题。”"))'
		assert_jq 'all(.text | startswith("”") | not)'
	done
}

@test "CJK: chunks end at sentence ends when sentences fit" {
	run --separate-stderr rag-split -s 40 -o 0 "$ZH"
	assert_success
	# without overlap every cut is visible: each chunk ends at a sentence or clause end
	# (the longest sentence here is 45 characters), or is a heading on its own
	assert_jq 'all((.text | test("[。！？；”，、：]$")) or .text == .title)'
}

# ---------------------------------------------------------------------------
# size and overlap

@test "no chunk is longer than --size code points" {
	for s in 10 37 100 500; do
		o=$((s / 5))
		run --separate-stderr rag-split -s $s -o $o "$HB" "$ZH" "$DATA/plain.txt" "$DATA/notes.md" "$DATA/book.epub"
		assert_success
		assert_jq "all(.text | length <= $s)"
	done
}

@test "no chunk is longer than the default size of 1000, even without separators" {
	python3 -c 'print("x" * 3500); print(); print("字" * 2500); print(); print(("word " * 800).strip())' > long.txt
	run --separate-stderr rag-split long.txt
	assert_success
	assert_jq 'all(.text | length <= 1000)'
	assert_jq '([.[].text | length] | add) >= 3500 + 2500 + 3999'
	run --separate-stderr rag-split -s 7 -o 2 long.txt
	assert_success
	assert_jq 'all(.text | length <= 7)'
}

@test "consecutive chunks of a section overlap" {
	run --separate-stderr rag-split -s 150 -o 50 "$DATA/plain.txt"
	assert_success
	assert_jq 'length >= 4'
	# the start of every chunk after the first is found in the chunk before it
	assert_jq '[range(1; length) as $i | .[$i].text[0:10] as $head | .[$i - 1].text | contains($head)] | all'
	# in CJK text too (a pair may lack overlap when overlap and the next piece do not fit
	# in --size together; most must have it)
	run --separate-stderr rag-split -s 60 -o 20 "$ZH"
	assert_success
	assert_jq '[range(1; length) as $i | select(.[$i].title == .[$i - 1].title)
	            | .[$i].text[0:4] as $head | .[$i - 1].text | contains($head)]
	           | (map(select(.)) | length) * 3 >= length * 2'
}

@test "--overlap 0: chunks do not overlap and together hold the whole text" {
	run --separate-stderr rag-split -s 1000000 -o 0 "$DATA/plain.txt"
	assert_success
	whole=$(jl -j '.text' | tr -d ' \n')
	run --separate-stderr rag-split -s 50 -o 0 "$DATA/plain.txt"
	assert_success
	joined=$(jl -j '.text' | tr -d ' \n')
	[ "$whole" = "$joined" ]
}

@test "--size and --overlap are validated (exit 2)" {
	for args in "-s 100 -o 100" "-s 100 -o 150" "-s 0" "-s 10000001" "-s -5" "-s abc" "-o -1 -s 100" "-o x" "--size=" "-s 1e3"; do
		run --separate-stderr rag-split $args "$DATA/plain.txt"
		[ "$status" -eq 2 ] || fail "rag-split $args: status $status"
		[ -z "$output" ] || fail "rag-split $args: wrote to stdout"
		[[ "$stderr" == "rag-split: "* ]] || fail "rag-split $args: stderr: $stderr"
	done
	run --separate-stderr rag-split -s 10000000 -o 150 "$DATA/plain.txt"
	assert_success
	run --separate-stderr rag-split -s 1 -o 0 "$DATA/plain.txt"
	assert_success
	assert_jq 'all(.text | length == 1)'
	run --separate-stderr rag-split --size 200 --overlap 199 "$DATA/plain.txt"
	assert_success
}

@test "--separators takes a JSON array of strings and is validated" {
	run --separate-stderr rag-split --separators '["\n\n","\n"," ",""]' -s 50 -o 0 "$DATA/plain.txt"
	assert_success
	assert_jq 'all(.text | length <= 50)'
	for bad in '["\n\n",' '"\n"' '[1,2]' '{"a":1}' ''; do
		run --separate-stderr rag-split --separators "$bad" "$DATA/plain.txt"
		[ "$status" -eq 2 ] || fail "--separators '$bad': status $status"
		[[ "$stderr" == "rag-split: "* ]] || fail "--separators '$bad': stderr: $stderr"
	done
}

# LangChain's RecursiveCharacterTextSplitter (langchain_text_splitters,
# keep_separator=True, strip_whitespace=True) re-stated in plain Python, as
# the reference for --compat langchain.  Reads rag-split's output on stdin.
write_langchain_ref() {
	cat > lc.py <<'EOF'
import json, re, sys

def split_with_regex(text, sep):
    if sep:
        parts = re.split("(" + sep + ")", text)
        splits = [parts[i] + parts[i + 1] for i in range(1, len(parts), 2)]
        if len(parts) % 2 == 0:
            splits += parts[-1:]
        splits = [parts[0]] + splits
    else:
        splits = list(text)
    return [s for s in splits if s != ""]

class Splitter:
    def __init__(self, size, overlap, separators):
        self.size, self.overlap, self.separators = size, overlap, separators

    def join(self, docs, sep):
        t = sep.join(docs).strip()
        return t if t != "" else None

    def merge(self, splits, sep):
        docs, cur, total = [], [], 0
        for d in splits:
            n = len(d)
            if total + n + (len(sep) if cur else 0) > self.size:
                if cur:
                    doc = self.join(cur, sep)
                    if doc is not None:
                        docs.append(doc)
                    while total > self.overlap or (total + n + (len(sep) if cur else 0) > self.size and total > 0):
                        total -= len(cur[0]) + (len(sep) if len(cur) > 1 else 0)
                        cur = cur[1:]
            cur.append(d)
            total += n + (len(sep) if len(cur) > 1 else 0)
        doc = self.join(cur, sep)
        if doc is not None:
            docs.append(doc)
        return docs

    def split(self, text, separators):
        final = []
        sep = separators[-1]
        new = []
        for i, s in enumerate(separators):
            if s == "":
                sep = s
                break
            if re.search(re.escape(s), text):
                sep = s
                new = separators[i + 1:]
                break
        splits = split_with_regex(text, re.escape(sep))
        good = []
        for s in splits:
            if len(s) < self.size:
                good.append(s)
            else:
                if good:
                    final.extend(self.merge(good, ""))
                    good = []
                if not new:
                    final.append(s)
                else:
                    final.extend(self.split(s, new))
        if good:
            final.extend(self.merge(good, ""))
        return final

# each line of stdin: PATH SIZE OVERLAP OUTPUT [SEPARATORS-JSON]
bad = 0
for case in sys.stdin:
    path, size, overlap, output, *rest = case.rstrip("\n").split("\t")
    size, overlap = int(size), int(overlap)
    seps = json.loads(rest[0]) if rest else ["\n\n", "\n", " ", ""]
    with open(path, encoding="utf-8", errors="replace", newline="") as f:   # the text as it is, CR and all
        text = f.read()
    want = Splitter(size, overlap, seps).split(text, seps)
    with open(output, encoding="utf-8") as f:
        got = [json.loads(l)["text"] for l in f if l.strip()]
    if got != want:
        bad = 1
        print("%s -s %d -o %d %s:" % (path, size, overlap, rest))
        for i in range(max(len(got), len(want))):
            g = got[i] if i < len(got) else None
            w = want[i] if i < len(want) else None
            if g != w:
                print("  chunk %d differs:\n    langchain: %r\n    rag-split: %r" % (i + 1, w, g))
                break
        print("  %d chunks from rag-split, %d from langchain" % (len(got), len(want)))
sys.exit(bad)
EOF
}

@test "--compat langchain: text and Markdown chunks equal RecursiveCharacterTextSplitter's" {
	write_langchain_ref
	python3 -c '
import random
r = random.Random(7)
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "动手学", "深度学习", "卷积", "⼿", "extraordinarilylongwordwithoutanybreaks", "  ", "ﬁle"]
paras = []
for p in range(30):
    lines = []
    for l in range(r.randint(1, 6)):
        lines.append(" ".join(r.choice(words) for _ in range(r.randint(1, 14))))
    paras.append("\n".join(lines))
open("rand.txt", "w").write("\n\n".join(paras) + "\n")
'
	n=0
	: > cases
	for f in "$DATA/plain.txt" "$DATA/notes.md" "$DATA/crlf.txt" rand.txt; do
		for so in "1000 150" "100 20" "50 0" "37 12" "10 3"; do
			set -- $so
			n=$((n + 1))
			rag-split --compat langchain -s "$1" -o "$2" "$f" > out$n.jsonl
			printf '%s\t%s\t%s\t%s\n' "$f" "$1" "$2" out$n.jsonl >> cases
		done
	done
	seps='["\n", "a", ""]'
	rag-split --compat langchain --separators "$seps" -s 30 -o 5 rand.txt > outs.jsonl
	printf '%s\t%s\t%s\t%s\t%s\n' rand.txt 30 5 outs.jsonl "$seps" >> cases
	run python3 lc.py < cases
	[ "$status" -eq 0 ] || fail "$output"
}

# ---------------------------------------------------------------------------
# determinism

@test "same input gives byte-identical output, run after run" {
	rag-split "$HB" "$ZH" "$DATA/book.epub" "$DATA/notes.md" "$DATA/doc.xps" > a.jsonl
	rag-split "$HB" "$ZH" "$DATA/book.epub" "$DATA/notes.md" "$DATA/doc.xps" > b.jsonl
	cmp a.jsonl b.jsonl
	[ -s a.jsonl ]
}

@test "-j 2 and -j 4 give the same output as -j 1" {
	files=("$HB" "$ZH" "$DATA/book.epub" "$DATA/plain.txt" "$DATA/notes.md" "$DATA/doc.xps"
	       "$DATA/story.fb2" "$DATA/book.mobi" "$DATA/page.html" "$DATA/noise.bin" "$DATA/mini.pdf"
	       "$DATA/empty.txt" "$DATA/demo/cnn-architectures.pdf")
	run -1 --separate-stderr rag-split -j 1 -s 200 -o 30 "${files[@]}"
	one=$output
	for j in 2 4; do
		run -1 --separate-stderr rag-split -j $j -s 200 -o 30 "${files[@]}"
		[ "$output" = "$one" ] || fail "-j $j output differs from -j 1"
	done
}

# ---------------------------------------------------------------------------
# input lists and directories

@test "-T FILE reads the paths to split from FILE, one per line" {
	printf '%s\n' "$DATA/notes.md" "$DATA/plain.txt" > list
	run --separate-stderr rag-split -T list
	assert_success
	assert_jq '[.[].source] | unique == [$ENV.DATA + "/notes.md", $ENV.DATA + "/plain.txt"]'
	assert_jq '.[0].source == $ENV.DATA + "/notes.md"'
}

@test "-T - reads the paths from standard input" {
	run --separate-stderr bash -c 'printf "%s\n" "$DATA/plain.txt" "$DATA/mini.pdf" | rag-split -T -'
	assert_success
	assert_jq '([.[].source] | unique == [$ENV.DATA + "/mini.pdf", $ENV.DATA + "/plain.txt"]) and .[0].source == $ENV.DATA + "/plain.txt"'
}

@test "-0 -T -: NUL-separated paths, a newline in a name is fine" {
	cp "$DATA/plain.txt" $'odd\nname.txt'
	run --separate-stderr bash -c 'printf "%s\0" "odd
name.txt" "$DATA/notes.md" | rag-split -0 -T -'
	assert_success
	assert_jq '.[0].source == "odd\nname.txt" and .[-1].source == $ENV.DATA + "/notes.md"'
}

@test "no FILE and no -T is a usage error (exit 2)" {
	run --separate-stderr rag-split
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "rag-split: "* ]]
	[[ "$stderr" == *usage:* ]]
}

@test "-r walks a directory in bytewise order, skipping hidden and unrecognised files" {
	mkdir -p d/sub d/.git d/Zeta
	cp "$DATA/plain.txt" d/b.txt
	cp "$DATA/notes.md" d/B.md
	cp "$DATA/plain.txt" d/sub/a.txt
	cp "$DATA/plain.txt" d/Zeta/c.txt
	cp "$DATA/plain.txt" d/.hidden.txt
	cp "$DATA/plain.txt" d/.git/config.txt
	cp "$DATA/noise.bin" d/z.bin
	run --separate-stderr rag-split -r d
	assert_success
	assert_stderr_empty
	assert_jq '[.[].source] | unique == ["d/B.md", "d/Zeta/c.txt", "d/b.txt", "d/sub/a.txt"]'
	# bytewise: "B.md" < "Zeta" < "b.txt" < "sub"
	assert_jq '[.[].source] | . as $s | [$s[0]] + [range(1; length) as $i | select($s[$i] != $s[$i - 1]) | $s[$i]]
	           == ["d/B.md", "d/Zeta/c.txt", "d/b.txt", "d/sub/a.txt"]'
	run --separate-stderr rag-split -r -v d
	assert_success
	[[ "$stderr" == *"d/z.bin"* ]] || fail "-v does not report the skipped d/z.bin: $stderr"
}

@test "a directory without -r is an error (exit 1), the other files are still split" {
	mkdir d
	cp "$DATA/plain.txt" d/
	run --separate-stderr rag-split d "$DATA/notes.md"
	assert_failure 1
	assert_stderr_equal "rag-split: d: is a directory (use -r to walk it)"
	assert_jq 'length > 0 and all(.source == $ENV.DATA + "/notes.md")'
}

# ---------------------------------------------------------------------------
# errors and warnings

@test "a missing file: 'No such file or directory', exit 1, the other files are still split" {
	run --separate-stderr rag-split "$DATA/plain.txt" nonexistent.pdf "$DATA/notes.md"
	assert_failure 1
	assert_stderr_equal "rag-split: nonexistent.pdf: No such file or directory"
	assert_jq '[.[].source] | unique == [$ENV.DATA + "/notes.md", $ENV.DATA + "/plain.txt"]'
}

@test "an unreadable file: 'Permission denied', exit 1, the other files are still split" {
	cp "$DATA/plain.txt" secret.txt
	chmod 000 secret.txt
	chmod 755 "$TMP"
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null || skip "root, and no setpriv to drop privileges"
		run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$RAGPIPE_ROOT/bin/rag-split" "$TMP/secret.txt" "$DATA/plain.txt"
	else
		run --separate-stderr rag-split "$TMP/secret.txt" "$DATA/plain.txt"
	fi
	assert_failure 1
	assert_stderr_equal "rag-split: $TMP/secret.txt: Permission denied"
	assert_jq 'length > 0 and all(.source == $ENV.DATA + "/plain.txt")'
}

@test "an encrypted PDF: 'encrypted (password required)', exit 1, the other files are still split" {
	run --separate-stderr rag-split "$DATA/encrypted.pdf" "$DATA/plain.txt"
	assert_failure 1
	assert_stderr_equal "rag-split: $DATA/encrypted.pdf: encrypted (password required)"
	assert_jq 'length > 0 and all(.source == $ENV.DATA + "/plain.txt")'
}

@test "a truncated PDF: 'truncated or damaged: ...', exit 1, the other files are still split" {
	run --separate-stderr rag-split "$DATA/truncated.pdf" "$DATA/plain.txt"
	assert_failure 1
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "more than one line: $stderr"
	[[ "$stderr" == "rag-split: $DATA/truncated.pdf: truncated or damaged: "?* ]] || fail "stderr: $stderr"
	[[ "$stderr" != *%%* ]] || fail "printf escape left in the message: $stderr"
	assert_jq 'length > 0 and all(.source == $ENV.DATA + "/plain.txt")'
}

@test "random bytes: 'not a document (unrecognised format)', exit 1, the other files are still split" {
	run --separate-stderr rag-split "$DATA/noise.bin" "$DATA/plain.txt"
	assert_failure 1
	assert_stderr_equal "rag-split: $DATA/noise.bin: not a document (unrecognised format)"
	assert_jq 'length > 0 and all(.source == $ENV.DATA + "/plain.txt")'
}

@test "several failures in one run: one line each, in order, exit 1, good files all split" {
	mkdir d
	run --separate-stderr rag-split "$DATA/plain.txt" missing "$DATA/encrypted.pdf" "$DATA/mini.pdf" \
		"$DATA/noise.bin" d "$DATA/truncated.pdf" "$DATA/notes.md"
	assert_failure 1
	[ "$(printf '%s\n' "$stderr" | sed -n 1p)" = "rag-split: missing: No such file or directory" ]
	[ "$(printf '%s\n' "$stderr" | sed -n 2p)" = "rag-split: $DATA/encrypted.pdf: encrypted (password required)" ]
	[ "$(printf '%s\n' "$stderr" | sed -n 3p)" = "rag-split: $DATA/noise.bin: not a document (unrecognised format)" ]
	[ "$(printf '%s\n' "$stderr" | sed -n 4p)" = "rag-split: d: is a directory (use -r to walk it)" ]
	[[ "$(printf '%s\n' "$stderr" | sed -n 5p)" == "rag-split: $DATA/truncated.pdf: truncated or damaged: "* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 5 ]
	assert_jq '[.[].source] | unique == [$ENV.DATA + "/mini.pdf", $ENV.DATA + "/notes.md", $ENV.DATA + "/plain.txt"]'
}

@test "invalid UTF-8: warning with the line number, U+FFFD in the text, valid JSON, exit 0" {
	run --separate-stderr rag-split "$DATA/bad-utf8.txt"
	assert_success
	assert_stderr_equal "rag-split: warning: $DATA/bad-utf8.txt: line 3: invalid UTF-8 replaced by U+FFFD"
	assert_jsonl
	assert_jq 'any(.text | contains("bad bytes: \ufffd"))'
	assert_jq 'any(.text | contains("Fourth line is fine again."))'
	# the raw output is valid UTF-8
	printf '%s\n' "$output" | iconv -f UTF-8 -t UTF-8 >/dev/null
}

@test "an empty file: warning 'no text', no chunks, exit 0; -q silences it" {
	run --separate-stderr rag-split "$DATA/empty.txt"
	assert_success
	assert_output ""
	assert_stderr_equal "rag-split: warning: $DATA/empty.txt: no text"
	run --separate-stderr rag-split -q "$DATA/empty.txt" "$DATA/bad-utf8.txt"
	assert_success
	assert_stderr_empty
}

@test "a PDF without a text layer: a warning that it may be scanned and what to do, no chunks, exit 0" {
	run --separate-stderr rag-split "$DATA/blank.pdf"
	assert_success
	assert_output ""
	assert_stderr_equal "rag-split: warning: $DATA/blank.pdf: no text layer (scanned?): pages that are images are not read yet; give it a text layer first (ocrmypdf FILE OUT.pdf, Debian package ocrmypdf)"
}

@test "Office documents (.docx, .odt, .doc) are named as such with the hint to convert them; never taken for pictures" {
	python3 - <<'PY'
import zipfile
z = zipfile.ZipFile("letter.docx", "w")
z.writestr("[Content_Types].xml", "<Types/>")
z.writestr("word/document.xml", "<w:document/>")
z.writestr("word/media/image1.png", "png")
z.close()
z = zipfile.ZipFile("letter.odt", "w")
z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
z.writestr("content.xml", "<office:document-content/>")
z.writestr("Pictures/1.png", "png")
z.close()
PY
	printf '\320\317\021\340\241\261\032\341rest' >old.doc
	run --separate-stderr rag-split letter.docx letter.odt old.doc "$DATA/plain.txt"
	assert_failure 1
	assert_stderr_equal "$(printf '%s\n' \
		"rag-split: letter.docx: an Office document, not read yet: convert it first (libreoffice --headless --convert-to pdf FILE)" \
		"rag-split: letter.odt: an Office document, not read yet: convert it first (libreoffice --headless --convert-to pdf FILE)" \
		"rag-split: old.doc: an Office document, not read yet: convert it first (libreoffice --headless --convert-to pdf FILE)")"
	# the other files are split
	assert_jq 'length > 0 and all(.source | endswith("plain.txt"))'
}

@test "'rag-split big | head -1' prints one line and exits quietly" {
	awk 'BEGIN { for (i = 0; i < 40000; i++) printf "Paragraph %d has a handful of words and then it ends.\n\n", i }' > big.txt
	run --separate-stderr bash -c 'timeout 20 rag-split big.txt 2>err | head -1; cat err >&2'
	assert_success
	assert_stderr_empty
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	printf '%s\n' "$output" | jq -e '.seq == 1' >/dev/null
	# and the same on a PDF, many times over
	for i in $(seq 150); do echo "$HB"; done > list
	run --separate-stderr bash -c 'timeout 20 rag-split -T list 2>err | head -1; cat err >&2'
	assert_stderr_empty
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
}

# ---------------------------------------------------------------------------
# command line

@test "-h and --help print usage on stdout and exit 0" {
	for h in -h --help; do
		run --separate-stderr rag-split $h
		assert_success
		[[ "$output" == *"usage: rag-split"* ]] || fail "$h: $output"
		assert_stderr_empty
	done
}

@test "--version prints the version and exits 0" {
	run --separate-stderr rag-split --version
	assert_success
	[[ "$output" =~ rag-split.*[0-9]+\.[0-9]+ ]]
}

@test "an unknown option is a usage error (exit 2) named after the program" {
	for opt in --bogus -x; do
		run --separate-stderr rag-split $opt "$DATA/plain.txt"
		assert_failure 2
		assert_output ""
		[[ "$stderr" == "rag-split: "* ]] || fail "$opt: $stderr"
		[[ "$stderr" == *usage:* ]] || fail "$opt: no usage line: $stderr"
	done
	# also when called by a path
	run --separate-stderr "$RAGPIPE_ROOT/bin/rag-split" --bogus
	assert_failure 2
	[[ "$stderr" == "rag-split: "* ]] || fail "called by path: $stderr"
}

# ---------------------------------------------------------------------------
# the bundled demo set

@test "demo set: every document splits cleanly and DenseNet is defined in the DenseNet section" {
	run --separate-stderr rag-split -r "$DATA/demo"
	assert_success
	assert_stderr_empty
	assert_jq '[.[].source | split("/")[-1]] | unique == ["cnn-architectures.pdf", "cnn-zh.md", "quillsort.md"]'
	assert_jq 'any(.title == "3 DenseNet" and .page == 3
	               and (.text | contains("DenseNet, short for densely connected convolutional network, is")))'
	assert_jq 'any(.title == "稠密连接网络（DenseNet）" and (.text | contains("增长率")))'
	# "4 Choosing between them" starts half way down page 3: its chunks hold nothing of section 3
	assert_jq 'any(.title == "4 Choosing between them")
	           and all(.[] | select(.title == "4 Choosing between them"); .text | contains("growth rate") | not)
	           and all(.[] | select(.title == "3 DenseNet"); .text | contains("usual default") | not)'
}

@test "a LaTeX book: contents leaders (. . .) left out, footnote markers off their words and notes in footnotes, no heading alone" {
	run --separate-stderr rag-split "$DATA/layout-en.pdf"
	assert_success
	# the contents page: its leader lines are gone
	assert_jq 'all(.text | test("\\. \\. \\.") | not)'
	assert_jq 'all(.text | test("A Bit of History \\.") | not)'
	# the marker is not glued to its word, and the note is not in the text
	assert_jq 'any(.text | contains("working group that kept"))'
	assert_jq 'all(.text | contains("group1") | not)'
	assert_jq 'all(.text | contains("met twice a year") | not)'
	assert_jq 'any(.footnotes // [] | any(. == "1 The group met twice a year."))'
	assert_jq 'any(.footnotes // [] | any(. == "1 Sizes are given in points."))'
	# a heading goes with the text it heads
	assert_jq 'all(.text | length > 100)'
	assert_jq 'any(.text | contains("1.1 A Bit of History\n\nThe history section"))'
}
