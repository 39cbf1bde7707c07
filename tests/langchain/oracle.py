#!/usr/bin/env python3
"""Reference chunker for `rag-split --compat langchain`.

Re-states, with the standard library only, what LangChain's
RecursiveCharacterTextSplitter (package langchain-text-splitters, behaviour
unchanged from 0.0.1 through 0.3.x and 1.x; read from
libs/text-splitters/langchain_text_splitters/{character,base}.py) returns from
split_text() with:

    keep_separator=True   (the separator starts the piece that follows it)
    strip_whitespace=True (str.strip() on each merged chunk)
    is_separator_regex=False (separators are literal strings)
    length_function=len   (Unicode code points)

applied to the file's text exactly as its bytes are: decoded as UTF-8 and
nothing else, so that "\\r\\n" and a lone "\\r" stay in the text
(open(path, newline="")). The splitter itself keeps every character: it
splits at "\\n" and leaves the "\\r" of a CRLF at the end of the piece
before, and "\\r\\n\\r\\n" holds no "\\n\\n"; only str.strip() of each
chunk removes a "\\r" at a chunk's ends.

The algorithm, as implemented below:

1. Choosing the separator for one level: walk the separator list in order;
   "" is taken at once; any other separator is taken if it occurs in the text
   of this level, and the list for the next level is what follows it. If
   none occurs (a custom list without ""), the last one is used and there is
   no next level.
2. Splitting: text.split(sep), then every part but the first gets sep put
   back in front of it; empty parts are dropped. With "" every code point is
   a part.
3. Parts shorter than chunk_size (strictly) are collected; a part of
   chunk_size or more first flushes the collected parts through the merge,
   then is split again at the next level, or, if there is no next level, is
   emitted as is (not stripped, even if it is longer than chunk_size).
4. Merge: parts are joined with "" (the separator is already inside the
   parts). A window of parts grows while its length stays <= chunk_size; when
   the next part would not fit, the window is emitted (stripped, dropped if
   empty), then parts are dropped from its front while the window is longer
   than chunk_overlap, or while the next part still would not fit, and the
   next part is added. The last window is emitted the same way. Overlap is
   therefore made of whole parts and never crosses a level or a flush.

Usage: oracle.py --size N --overlap N [--separators JSON] FILE
prints the chunks as a JSON array of strings.
"""

import argparse
import json
import sys

DEFAULT_SEPARATORS = ["\n\n", "\n", " ", ""]


def pieces_keep_start(text, sep):
    """Split text at sep, keeping sep at the start of each following piece."""
    if sep == "":
        return list(text)
    first, *rest = text.split(sep)
    out = [first] + [sep + r for r in rest]
    return [p for p in out if p != ""]


def emit(window, joiner, strip, out):
    chunk = joiner.join(window)
    if strip:
        chunk = chunk.strip()
    if chunk != "":
        out.append(chunk)


def merge(parts, size, overlap, joiner="", strip=True):
    """Greedy packing of parts into chunks with whole-part overlap."""
    jlen = len(joiner)
    out = []
    window = []
    total = 0
    for part in parts:
        n = len(part)
        if total + n + (jlen if window else 0) > size:
            if window:
                emit(window, joiner, strip, out)
                while total > overlap or (
                    total + n + (jlen if window else 0) > size and total > 0
                ):
                    total -= len(window[0]) + (jlen if len(window) > 1 else 0)
                    window.pop(0)
        window.append(part)
        total += n + (jlen if len(window) > 1 else 0)
    emit(window, joiner, strip, out)
    return out


def split_recursive(text, separators, size, overlap):
    sep = separators[-1]
    finer = []
    for i, s in enumerate(separators):
        if s == "":
            sep = ""
            break
        if s in text:
            sep = s
            finer = separators[i + 1:]
            break

    chunks = []
    small = []
    for part in pieces_keep_start(text, sep):
        if len(part) < size:
            small.append(part)
            continue
        if small:
            chunks.extend(merge(small, size, overlap))
            small = []
        if finer:
            chunks.extend(split_recursive(part, finer, size, overlap))
        else:
            chunks.append(part)
    if small:
        chunks.extend(merge(small, size, overlap))
    return chunks


def split_text(text, size, overlap, separators=None):
    if overlap > size:
        raise ValueError(
            f"chunk overlap ({overlap}) larger than chunk size ({size})")
    # LangChain: `separators or [...]`, so an empty list means the default.
    return split_recursive(text, separators or DEFAULT_SEPARATORS, size, overlap)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--overlap", type=int, required=True)
    ap.add_argument("--separators", help="JSON array of strings")
    ap.add_argument("file")
    args = ap.parse_args(argv)

    seps = None
    if args.separators is not None:
        seps = json.loads(args.separators)
        if not isinstance(seps, list) or not all(isinstance(s, str) for s in seps):
            ap.error("--separators: expected a JSON array of strings")

    # The file's characters as they are: no newline translation.
    with open(args.file, encoding="utf-8", newline="") as f:
        text = f.read()

    try:
        chunks = split_text(text, args.size, args.overlap, seps)
    except ValueError as e:
        ap.error(str(e))
    json.dump(chunks, sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
