#!/usr/bin/env python3
"""Count what text cleaning should leave none of, in rag-split's chunks.

    python3 bench/cleaning.py CHUNKS.jsonl...

For each file (and all together), over the .text of every chunk:
  accents  an accent set apart from a letter it could go on: a letter, an
           optional space, a spacing accent or a combining mark, and a
           letter that composes with it (Sch¨opf, Sch ̈opf)
  urls     a URL cut by a space: "https: //" or "://" followed by a space
  urls2    a URL ending in / . - _ = followed by a space and a word with
           URL characters (a line break joined with a space)
  pua      private-use characters and U+FFFD
  rev      the reversed E of XeTeX's logo (U+018E)
  logos    TeX logos as the text layer spells them: LATEX, TEX, BibTEX,
           ConTEXt, LATEX2ε ... (the capital words also count in headings)
"""
import json
import re
import sys
import unicodedata

SPACING = {"\u00a8": "\u0308", "\u00b4": "\u0301", "\u02c6": "\u0302", "\u02dc": "\u0303",
           "\u02c7": "\u030c", "\u02da": "\u030a", "\u00b8": "\u0327", "\u00af": "\u0304",
           "\u02d8": "\u0306", "\u02d9": "\u0307", "\u02dd": "\u030b", "\u02db": "\u0328"}
ACCENT = re.compile(r"([^\W\d_]) ?([\u0300-\u036f" + "".join(SPACING) + r"])([^\W\d_])")
URL = re.compile(r"https?: //|://\s")
URL2 = re.compile(r"(?:https?://|www\.)\S*[/.\-_=] (?=\S*[/=#?&.]\S)")
LOGO = re.compile(r"\u018e|LATEX ?2\u03b5|\b(?:LA|XE|XELA)?TEX\b"
                  r"|[A-Za-z]*[a-z][A-Za-z]*TEX(?!T)[A-Za-z]*|\bTEX[a-z][A-Za-z]*")
PUA = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff\ufffd]")
KEYS = ("chunks", "accents", "urls", "urls2", "pua", "rev", "logos")


def composes(letter, mark):
    mark = SPACING.get(mark, mark)
    letter = {"\u0131": "i", "\u0237": "j"}.get(letter, letter)
    return len(unicodedata.normalize("NFC", letter + mark)) == 1


def count(path):
    c = dict.fromkeys(KEYS, 0)
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)["text"]
            c["chunks"] += 1
            c["accents"] += sum(1 for m in ACCENT.finditer(t)
                                if composes(m.group(3), m.group(2)) or composes(m.group(1), m.group(2)))
            c["urls"] += len(URL.findall(t))
            c["urls2"] += len(URL2.findall(t))
            c["pua"] += len(PUA.findall(t))
            c["rev"] += t.count("\u018e")
            c["logos"] += len(LOGO.findall(t))
    return c


def main(paths):
    total = dict.fromkeys(KEYS, 0)
    print("| file | " + " | ".join(KEYS) + " |")
    print("|---|" + "---:|" * len(KEYS))
    for p in paths:
        c = count(p)
        for k in KEYS:
            total[k] += c[k]
        print("| %s | %s |" % (p.rsplit("/", 1)[-1], " | ".join(str(c[k]) for k in KEYS)))
    print("| all | %s |" % " | ".join(str(total[k]) for k in KEYS))


if __name__ == "__main__":
    main(sys.argv[1:])
