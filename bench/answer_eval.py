#!/usr/bin/env python3
"""bench/answer_eval.py - answer quality on a set with gold answers (bench/answer.sh).

    answer_eval.py queries SETDIR > questions.jsonl
    answer_eval.py hits SETDIR RUN.jsonl [-k 5] > hits.jsonl
    answer_eval.py shift HITS.jsonl > shifted.jsonl
    answer_eval.py score [-n NAME] [--header] ANSWERS.jsonl

queries: the set's questions that have gold answers, as question records
for rag-query: {"id", "question", "answers", "relevant"} (the extra members
are carried through to the hits and the answers).

hits: turns a retrieval run ({"id": query id, "hits": [passage ids]}, e.g.
bench/fts5_baseline.py -o) into rag-query's hits records for rag-answer:
{"id", "question", "answers", "hits": [{"rank", "id", "source", "title",
"text"}]} with the top k passages' text: the hits rag-query would give if it
ranked as FTS5 does, for when there is no rag-query.

shift: every hits record gets the hits of the next record in the file whose
"relevant" passages are other ones: hits that do not hold the answer, to
measure how often the answerer says so.

score: reads answer records that carry the gold "answers" through and prints
one Markdown row:

    | NAME | questions | answer found | "not in the documents" | mean length |

answer found = share of questions whose answer text contains one of the gold
answer strings verbatim; "not in the documents" = share answered with
rag-answer's fixed sentence (English or Chinese) instead; mean length in
characters, citation markers included.
"""

import argparse
import json
import os
import sys

NOT_FOUND = ("The documents do not contain an answer to this question.", "文档中没有这个问题的答案。")
HEADER = ("| answerer | questions | answer found | \"not in the documents\" | mean length (chars) |\n"
          "|---|---:|---:|---:|---:|")


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def questions(setdir):
    return [q for q in load_jsonl(os.path.join(setdir, "queries.jsonl")) if q.get("answers") and q["question"].strip()]


def write(rec):
    sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")


def make_queries(setdir):
    for q in questions(setdir):
        write({"id": q["id"], "question": q["question"], "answers": q["answers"], "relevant": q["relevant"]})


def make_hits(setdir, runpath, k):
    corpus = {str(p["id"]): p for p in load_jsonl(os.path.join(setdir, "corpus.jsonl"))}
    run = {str(r["id"]): r["hits"] for r in load_jsonl(runpath)}
    for q in questions(setdir):
        hits = []
        for rank, pid in enumerate(run.get(str(q["id"]), [])[:k], 1):
            p = corpus[str(pid)]
            hits.append({"rank": rank, "id": str(pid), "source": os.path.basename(setdir) + "/" + str(pid),
                         "title": p.get("title") or "", "text": p.get("text") or ""})
        write({"id": q["id"], "question": q["question"], "answers": q["answers"], "relevant": q["relevant"],
               "hits": hits})


def shift(path):
    recs = load_jsonl(path)
    for i, r in enumerate(recs):
        rel = set(r.get("relevant", []))
        for d in range(1, len(recs)):
            other = recs[(i + d) % len(recs)]
            if not rel & set(other.get("relevant", [])):
                write(dict(r, hits=other["hits"]))
                break


def score(path, name, header):
    recs = load_jsonl(path)
    n = len(recs)
    found = sum(1 for r in recs if any(a and a in r.get("answer", "") for a in r.get("answers", [])))
    nf = sum(1 for r in recs if r.get("answer", "").strip() in NOT_FOUND)
    length = sum(len(r.get("answer", "")) for r in recs) / n if n else 0
    if header:
        print(HEADER)
    print("| %s | %d | %.4f | %.4f | %.0f |" % (name, n, found / n if n else 0, nf / n if n else 0, length))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("queries").add_argument("setdir")
    h = sub.add_parser("hits")
    h.add_argument("setdir")
    h.add_argument("run")
    h.add_argument("-k", type=int, default=5)
    sub.add_parser("shift").add_argument("hits")
    s = sub.add_parser("score")
    s.add_argument("answers")
    s.add_argument("-n", "--name", default="answers")
    s.add_argument("--header", action="store_true")
    a = ap.parse_args()
    if a.cmd == "queries":
        make_queries(a.setdir)
    elif a.cmd == "hits":
        make_hits(a.setdir, a.run, a.k)
    elif a.cmd == "shift":
        shift(a.hits)
    else:
        score(a.answers, a.name, a.header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
