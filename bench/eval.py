#!/usr/bin/env python3
"""bench/eval.py - retrieval quality of a run against a benchmark set.

    python3 bench/eval.py [-n NAME] [--header] [--json] QUERIES.jsonl RUN.jsonl

QUERIES.jsonl is a set's queries file: one {"id": ..., "relevant": [passage
ids], ...} a line (../shared/data/README.md).  RUN.jsonl is what a retriever
returned: one {"id": query id, "hits": [passage ids, best first]} a line
("-" reads stdin).  A hit may also be an object with an "id" (rag-query's
hit records), so `rag-query` output with the query id carried through can be
scored as it is.

Prints one Markdown table row (with --header, the header first):

    | NAME | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |

Metrics, per query and then averaged over every query of QUERIES.jsonl that
has at least one relevant passage (a query missing from the run scores 0):

    R@k     = |relevant in the top k| / |relevant|
    MRR@10  = 1 / rank of the first relevant hit within the top 10, else 0
    nDCG@10 = DCG@10 / IDCG@10, binary gains:
              DCG@10  = sum over ranks r = 1..10 with a relevant hit of 1/log2(r + 1)
              IDCG@10 = sum over r = 1..min(|relevant|, 10) of 1/log2(r + 1)

A passage listed twice in one query's hits counts once, at its first rank.
Importable: load_qrels(), load_run(), evaluate(), query_metrics(),
format_row(), HEADER.

Exit status: 0 ok, 1 bad input (message on stderr), 2 usage error.
"""

import argparse
import json
import math
import sys

METRICS = ("R@1", "R@5", "R@10", "MRR@10", "nDCG@10")
HEADER = ("| run | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |\n"
          "|---|---:|---:|---:|---:|---:|")

# 1/log2(r + 1) for r = 1..10
_DISCOUNT = [1.0 / math.log2(r + 1) for r in range(1, 11)]


class EvalError(Exception):
    pass


def _open(path):
    if path == "-":
        return sys.stdin
    return open(path, encoding="utf-8")


def _lines(path):
    f = _open(path)
    try:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise EvalError("%s:%d: not JSON: %s" % (path, n, e))
            if not isinstance(obj, dict):
                raise EvalError("%s:%d: not a JSON object" % (path, n))
            yield n, obj
    finally:
        if f is not sys.stdin:
            f.close()


def load_qrels(path):
    """{query id: set of relevant passage ids}, in file order."""
    qrels = {}
    for n, obj in _lines(path):
        if "id" not in obj or not isinstance(obj.get("relevant"), list):
            raise EvalError("%s:%d: needs \"id\" and a \"relevant\" list" % (path, n))
        qid = str(obj["id"])
        if qid in qrels:
            raise EvalError("%s:%d: query id %s appears twice" % (path, n, qid))
        qrels[qid] = set(str(r) for r in obj["relevant"])
    return qrels


def _hit_id(h):
    if isinstance(h, dict):
        return str(h.get("id"))
    return str(h)


def load_run(path):
    """{query id: [passage ids, best first]}."""
    run = {}
    for n, obj in _lines(path):
        if "id" not in obj or not isinstance(obj.get("hits"), list):
            raise EvalError("%s:%d: needs \"id\" and a \"hits\" list" % (path, n))
        qid = str(obj["id"])
        if qid in run:
            raise EvalError("%s:%d: query id %s appears twice" % (path, n, qid))
        run[qid] = [_hit_id(h) for h in obj["hits"]]
    return run


def query_metrics(relevant, hits):
    """The metrics of one query: relevant is a set of ids, hits a ranked list."""
    seen = set()
    ranked = []
    for h in hits:
        if h not in seen:
            seen.add(h)
            ranked.append(h)
    nrel = len(relevant)
    found = [h in relevant for h in ranked[:10]]
    m = {}
    for k in (1, 5, 10):
        m["R@%d" % k] = sum(found[:k]) / nrel
    m["MRR@10"] = 0.0
    for r, f in enumerate(found):
        if f:
            m["MRR@10"] = 1.0 / (r + 1)
            break
    dcg = sum(_DISCOUNT[r] for r, f in enumerate(found) if f)
    idcg = sum(_DISCOUNT[:min(nrel, 10)])
    m["nDCG@10"] = dcg / idcg
    return m


def evaluate(qrels, run):
    """Mean metrics over the queries of qrels that have relevant passages.
    run maps query id -> ranked list of passage ids (missing = no hits).
    Returns a dict with the METRICS keys plus "queries"."""
    tot = dict.fromkeys(METRICS, 0.0)
    nq = 0
    for qid, rel in qrels.items():
        if not rel:
            continue
        m = query_metrics(rel, run.get(qid, ()))
        for k in METRICS:
            tot[k] += m[k]
        nq += 1
    out = {k: (tot[k] / nq if nq else 0.0) for k in METRICS}
    out["queries"] = nq
    return out


def format_row(name, m):
    return "| %s | %s |" % (name, " | ".join("%.4f" % m[k] for k in METRICS))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Score a retrieval run (R@1/5/10, MRR@10, nDCG@10).")
    ap.add_argument("queries", help="queries.jsonl with \"relevant\" ids")
    ap.add_argument("run", help="run file: {\"id\":..., \"hits\":[...]} lines, - for stdin")
    ap.add_argument("-n", "--name", help="row label (default: the run file name)")
    ap.add_argument("--header", action="store_true", help="print the table header first")
    ap.add_argument("--json", action="store_true", help="print the metrics as a JSON object instead")
    a = ap.parse_args(argv)
    try:
        qrels = load_qrels(a.queries)
        run = load_run(a.run)
    except (OSError, EvalError) as e:
        print("eval.py: %s" % e, file=sys.stderr)
        return 1
    unknown = [q for q in run if q not in qrels]
    if unknown:
        print("eval.py: warning: %d run queries are not in %s (ignored), e.g. %s"
              % (len(unknown), a.queries, unknown[0]), file=sys.stderr)
    missing = sum(1 for q in qrels if q not in run)
    if missing:
        print("eval.py: warning: %d queries have no line in the run (scored 0)" % missing,
              file=sys.stderr)
    m = evaluate(qrels, run)
    if a.json:
        print(json.dumps(m))
        return 0
    if a.header:
        print(HEADER)
    print(format_row(a.name or a.run, m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
