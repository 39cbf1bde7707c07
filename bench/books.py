#!/usr/bin/env python3
"""bench/books.py - scoring on the real-book set (bench/book.sh runs it).

    python3 bench/books.py questions [--ask] QDIR        all questions (QDIR/q-*.jsonl), one file
    python3 bench/books.py fts5 CHUNKS QUESTIONS [-k 10]  SQLite FTS5 BM25 hits
    python3 bench/books.py score [--header] [-n NAME] [--answers ANSWERS] QUESTIONS HITS

QUESTIONS: one {"id", "book", "pages": [physical 1-based pages], "question",
"answer": a short span copied from the page} a line (bench/books/q-*.jsonl).
HITS: rag-query's records, the question's "id" carried through. CHUNKS:
rag-split's output over the books.

A hit is on the right page when its source's file name, less ".pdf", is the
question's book and [page, page_end] meets the question's pages. A span is
found in a text when it is there after NFKC, case folding and the removal of
all white space on both sides (line breaks, hyphenation joins and spaces
between CJK characters are not what is measured here).

score prints one Markdown row:

    | NAME | page hit@1 | page hit@5 | MRR@10 | span in top-5 texts | span in answer | answer / span in hits | says not found |

MRR@10 is over the first hit on a right page; the last three columns only
with --answers (rag-answer's records, the question id carried through):
the share of all questions whose answer holds the span, the same among the
questions whose span is in the top-5 texts, and the share of answers that
say the documents do not hold an answer.

fts5 gives the baseline of ../shared/data/README.md over the same chunks:
title and text in one unicode61 column, CJK runs as bigrams, the question's
tokens OR-ed, ranked by bm25() (bench/fts5_baseline.py).
"""

import argparse
import glob
import json
import os
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fts5_baseline as fb  # noqa: E402

HEADER = ("| run | page hit@1 | page hit@5 | MRR@10 | span in top-5 texts | span in answer "
          "| answer / span in hits | says not found |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")

# What rag-answer's extractive answerer says when the hits hold no answer,
# in the languages it answers in.
NOT_FOUND = ("do not contain an answer", "nothing was found", "没有这个问题的答案",
             "没有找到与这个问题相关的内容")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def norm(s):
    s = unicodedata.normalize("NFKC", s or "").casefold()
    return "".join(s.split())


def book_of(source):
    name = os.path.basename(source or "")
    return name[:-4] if name.endswith(".pdf") else name


def on_page(hit, q):
    if book_of(hit.get("source")) != q["book"]:
        return False
    p = hit.get("page") or 0
    e = hit.get("page_end") or p
    return p > 0 and any(p <= x <= e for x in q["pages"])


def cmd_questions(a):
    for path in sorted(glob.glob(os.path.join(a.dir, "q-*.jsonl"))):
        for q in load(path):
            if a.ask:
                q = {"id": q["id"], "question": q["question"]}
            sys.stdout.write(json.dumps(q, ensure_ascii=False) + "\n")


def cmd_fts5(a):
    chunks = load(a.chunks)
    index = fb.Fts5Index([{"id": str(i), "title": c.get("title") or "", "text": c.get("text") or ""}
                          for i, c in enumerate(chunks)])
    for q in load(a.questions):
        hits = []
        for rank, (i, _) in enumerate(index.search(q["question"], a.k), 1):
            c = chunks[int(i)]
            hits.append({"rank": rank, "id": c["id"], "source": c.get("source"),
                         "page": c.get("page"), "page_end": c.get("page_end"),
                         "title": c.get("title"), "text": c.get("text")})
        sys.stdout.write(json.dumps({"id": q["id"], "question": q["question"], "hits": hits},
                                    ensure_ascii=False) + "\n")


def says_not_found(answer):
    a = (answer or "").casefold()
    return any(m in a for m in NOT_FOUND)


def cmd_score(a):
    qs = load(a.questions)
    hits = {str(r.get("id")): r.get("hits") or [] for r in load(a.hits)}
    answers = {str(r.get("id")): r.get("answer") or "" for r in load(a.answers)} if a.answers else None
    n = len(qs)
    h1 = h5 = mrr = span5 = ans = ans_of_span = nf = 0
    for q in qs:
        hs = hits.get(str(q["id"]), [])
        first = next((r for r, h in enumerate(hs[:10], 1) if on_page(h, q)), 0)
        h1 += first == 1
        h5 += 0 < first <= 5
        mrr += 1.0 / first if first else 0.0
        span = norm(q["answer"])
        in_hits = any(span in norm(h.get("text")) for h in hs[:5])
        span5 += in_hits
        if answers is not None:
            got = answers.get(str(q["id"]), "")
            ok = span in norm(got)
            ans += ok
            ans_of_span += ok and in_hits
            nf += says_not_found(got)
    row = [a.name, "%.3f" % (h1 / n), "%.3f" % (h5 / n), "%.3f" % (mrr / n), "%.3f" % (span5 / n)]
    if answers is not None:
        row += ["%.3f" % (ans / n), "%.3f" % (ans_of_span / span5 if span5 else 0.0), "%.3f" % (nf / n)]
    else:
        row += ["", "", ""]
    if a.header:
        print(HEADER)
    print("| " + " | ".join(row) + " |")
    if a.json:
        json.dump({"name": a.name, "n": n, "hit1": h1 / n, "hit5": h5 / n, "mrr10": mrr / n,
                   "span5": span5 / n, "answer": ans / n if answers is not None else None,
                   "answer_of_span": ans_of_span / span5 if answers is not None and span5 else None},
                  open(a.json, "w"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("questions")
    s.add_argument("dir")
    s.add_argument("--ask", action="store_true", help="only id and question: what rag-query reads")
    s = sub.add_parser("fts5")
    s.add_argument("chunks")
    s.add_argument("questions")
    s.add_argument("-k", type=int, default=10)
    s = sub.add_parser("score")
    s.add_argument("questions")
    s.add_argument("hits")
    s.add_argument("--answers")
    s.add_argument("-n", "--name", default="run")
    s.add_argument("--header", action="store_true")
    s.add_argument("--json", help="also write the figures as JSON here")
    a = ap.parse_args()
    {"questions": cmd_questions, "fts5": cmd_fts5, "score": cmd_score}[a.cmd](a)


if __name__ == "__main__":
    main()
