#!/usr/bin/env python3
"""bench/fts5_baseline.py - the SQLite FTS5 BM25 baseline of ../shared/data/README.md.

    python3 bench/fts5_baseline.py [--header] [-o RUN.jsonl] [-k 10] SETDIR...

For each benchmark set (a folder with corpus.jsonl and queries.jsonl) it builds
an in-memory FTS5 table and prints one table row (bench/eval.py's format):

  - one column holding title + " " + text, tokenize='unicode61' (its defaults:
    token characters L* N* Co, case folding, diacritics removed);
  - Chinese runs turned into overlapping character bigrams first: every
    maximal run of Han/kana characters (the ranges of common/tok.c) of length
    n >= 2 is replaced by its n-1 bigrams c1c2 c2c3 ... separated by spaces,
    with a space on each side; a run of one character stays as it is (with the
    spaces), so FTS5, which keeps a CJK run in one token, sees bigrams;
  - the question goes through the same conversion; its distinct tokens, as
    unicode61 itself cuts them (read back through an fts5vocab table), are
    OR-ed as quoted strings: "t1" OR "t2" ...;
  - ranked by bm25() (k1 = 1.2, b = 0.75, FTS5's built-in), ties by rowid
    (corpus order), top k (10).

-o writes the run ({"id": query id, "hits": [passage ids]}) so that other
tools can use FTS5's candidates (use -k 100 or more for that).
Importable: Fts5Index(corpus).search(question, k), bigramize().
"""

import argparse
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402


def is_han_or_kana(c):
    """The Han/kana test of common/tok.c."""
    return (0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0x3040 <= c <= 0x30FF
            or 0xF900 <= c <= 0xFAFF or 0x20000 <= c <= 0x3FFFF or 0x31F0 <= c <= 0x31FF
            or c == 0x3005 or c == 0x3007)


def bigramize(s):
    """Replace each run of Han/kana characters by its overlapping bigrams."""
    out = []
    run = []

    def flush():
        if not run:
            return
        if len(run) == 1:
            out.append(" " + run[0] + " ")
        else:
            out.append(" " + " ".join(run[i] + run[i + 1] for i in range(len(run) - 1)) + " ")
        run.clear()

    for ch in s:
        if is_han_or_kana(ord(ch)):
            run.append(ch)
        else:
            flush()
            out.append(ch)
    flush()
    return "".join(out)


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Fts5Index:
    def __init__(self, corpus):
        self.db = sqlite3.connect(":memory:")
        self.ids = []
        db = self.db
        db.execute("CREATE VIRTUAL TABLE doc USING fts5(body, tokenize='unicode61')")
        rows = []
        for i, p in enumerate(corpus, 1):
            self.ids.append(str(p["id"]))
            rows.append((i, bigramize((p.get("title") or "") + " " + (p.get("text") or ""))))
        db.executemany("INSERT INTO doc(rowid, body) VALUES (?, ?)", rows)
        # the query tokenizer: unicode61 itself, read back through fts5vocab
        db.execute("CREATE VIRTUAL TABLE qtok USING fts5(body, tokenize='unicode61')")
        db.execute("CREATE VIRTUAL TABLE qvocab USING fts5vocab(qtok, 'row')")
        db.commit()

    def tokens(self, text):
        db = self.db
        db.execute("DELETE FROM qtok")
        db.execute("INSERT INTO qtok(body) VALUES (?)", (bigramize(text),))
        return [r[0] for r in db.execute("SELECT term FROM qvocab ORDER BY term")]

    def search(self, question, k=10):
        """[(passage id, bm25 score)], best first; bm25() is negative, lower is better."""
        toks = self.tokens(question)
        if not toks:
            return []
        match = " OR ".join('"%s"' % t.replace('"', '""') for t in toks)
        cur = self.db.execute(
            "SELECT rowid, bm25(doc) AS s FROM doc WHERE doc MATCH ? ORDER BY s, rowid LIMIT ?",
            (match, k))
        return [(self.ids[r - 1], s) for r, s in cur]


def run_set(setdir, k):
    corpus = load_jsonl(os.path.join(setdir, "corpus.jsonl"))
    queries = load_jsonl(os.path.join(setdir, "queries.jsonl"))
    idx = Fts5Index(corpus)
    run = {}
    for q in queries:
        run[str(q["id"])] = [pid for pid, _ in idx.search(q["question"], k)]
    return queries, run


def main(argv=None):
    ap = argparse.ArgumentParser(description="SQLite FTS5 BM25 baseline on benchmark sets.")
    ap.add_argument("sets", nargs="+", help="set folders (corpus.jsonl + queries.jsonl)")
    ap.add_argument("-k", type=int, default=10, help="hits per query (default 10)")
    ap.add_argument("-o", "--out", help="write the run of the (single) set here")
    ap.add_argument("--header", action="store_true", help="print the table header first")
    a = ap.parse_args(argv)
    if a.out and len(a.sets) != 1:
        ap.error("-o needs exactly one set")
    if a.header:
        print(ev.HEADER)
    for s in a.sets:
        queries, run = run_set(s, a.k)
        qrels = {str(q["id"]): set(str(r) for r in q["relevant"]) for q in queries}
        name = "%s FTS5 BM25 (sqlite %s)" % (os.path.basename(os.path.normpath(s)), sqlite3.sqlite_version)
        print(ev.format_row(name, ev.evaluate(qrels, run)), flush=True)
        if a.out:
            with open(a.out, "w", encoding="utf-8") as f:
                for q in queries:
                    f.write(json.dumps({"id": str(q["id"]), "hits": run[str(q["id"])]},
                                       ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
