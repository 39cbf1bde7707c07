#!/bin/sh
# bench/books.sh - fetch the real-book set into $BENCH_OUT/books (default
# bench/out/books): real PDF manuals as Debian ships them, taken out of their
# packages with apt-get download and dpkg-deb -x (no installation, no root
# needed once the package lists are there). Nothing of them is committed;
# the questions about them are in bench/books/questions.jsonl.
#
#   sh bench/books.sh            fetch what is missing, print the directory
#
# Each line of BOOKS: the name the questions use, the Debian package, the
# path of the PDF inside it. Chosen for variety of the tools that made them:
# DocBook through dblatex (English, Traditional Chinese), LaTeX (pdfTeX,
# xdvipdfmx, MiKTeX), Texinfo.
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${BENCH_OUT:-bench/out}/books
mkdir -p "$OUT/debs" || exit 2

BOOKS='
debian-reference-en debian-reference-en usr/share/debian-reference/debian-reference.en.pdf
debian-reference-zh-tw debian-reference-zh-tw usr/share/debian-reference/debian-reference.zh-tw.pdf
gnuplot gnuplot-doc usr/share/doc/gnuplot/gnuplot.pdf
R-intro r-doc-pdf usr/share/R/doc/manual/R-intro.pdf
latex-notes-zh-cn texlive-lang-chinese usr/share/doc/texlive-doc/generic/latex-notes-zh-cn/latex-notes-zh-cn.pdf
install-latex-guide-zh-cn texlive-lang-chinese usr/share/doc/texlive-doc/latex/install-latex-guide-zh-cn/install-latex-guide-zh-cn.pdf
ctex-faq texlive-lang-chinese usr/share/doc/texlive-doc/latex/ctex-faq/ctex-faq.pdf
'

fetch() { # PACKAGE: the .deb in $OUT/debs, downloaded once
	ls "$OUT/debs/$1"_*.deb >/dev/null 2>&1 && return 0
	(cd "$OUT/debs" && apt-get download "$1" >/dev/null 2>&1) && return 0
	# the package lists may be missing on a new machine
	apt-get update -q >/dev/null 2>&1
	(cd "$OUT/debs" && apt-get download "$1") >&2
}

rc=0
echo "$BOOKS" | while read -r name pkg path; do
	[ -n "$name" ] || continue
	[ -s "$OUT/$name.pdf" ] && continue
	if ! fetch "$pkg"; then
		echo "bench/books.sh: cannot download $pkg" >&2
		exit 2
	fi
	tmp=$OUT/x.$$
	rm -rf "$tmp" && mkdir -p "$tmp" &&
	dpkg-deb -x "$OUT/debs/$pkg"_*.deb "$tmp" &&
	cp "$tmp/$path" "$OUT/$name.pdf.tmp" &&
	mv "$OUT/$name.pdf.tmp" "$OUT/$name.pdf" || { rm -rf "$tmp"; echo "bench/books.sh: $pkg has no $path" >&2; exit 2; }
	rm -rf "$tmp"
	echo "bench/books.sh: $name.pdf from $pkg" >&2
done || rc=$?
echo "$OUT"
exit $rc
