#!/usr/bin/env python3
"""bench/proto_embed.py - research prototype of rag-embed's built-in embedder
and of rag-query's exact re-scoring (Python standard library only).

    python3 bench/proto_embed.py [-d DATADIR] [EXPERIMENT...]
    python3 bench/proto_embed.py --list

Each experiment prints Markdown tables of R@1, R@5, R@10, MRR@10, nDCG@10 (and
candidate recall where candidates are involved) on both benchmark sets
(cmrc2018, cranfield); the findings are written up in bench/EMBEDDER.md.
`recommended` runs only the recommended configuration (a few minutes); the
whole set of experiments takes about 30 minutes on one core.

Terms (the Python mirror of common/tok.c): words are runs of letters, marks
and digits (Unicode L, M, N) that are not Han/kana; ASCII words are
lower-cased, other words NFKC-normalised, case-folded and stripped of marks;
words are cut at 64 characters; optionally Porter-stemmed (the algorithm of
common/stem.c); English stop words (STOP_LONG, 127 words) are dropped
before stemming.  A run of Han/kana gives every character (kind 'u') and
every neighbouring pair (kind 'b').  Word kind 'w'; optional character
n-grams of Latin words, kind 'g'.  A term's key is its kind byte followed by
its UTF-8 bytes; its 64-bit id is FNV-1a over the key.

Recommended (explored alternatives are parameters of Dense and Exact):
  passage vector, from the text alone (embed_passage):
    v = sum over distinct terms t: 9 tf / (tf + 8) * sum_{j=0,1} s_j(t) e[b_j(t)] / sqrt(2);  v / |v|
  question vector, with the index's df table (embed_query):
    q = sum over distinct terms t with df > 0: sqrt(idf(t)) * sum_j s_j(t) e[b_j(t)] / sqrt(2);  q / |q|
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
  candidates: dense top-100 + FTS5 top-50, re-scored exactly (rag-query):
    s(q, d) = sum over distinct query terms t: kx(kind) * idf(t) * tf(t,d) * 2.2
              / (tf(t,d) + 1.2 * (0.25 + 0.75 * dl(d) / avgdl)),  kx = 1 (words, pairs), 0.5 (CJK chars)
  then one round of pseudo-relevance feedback inside the candidates (prf()).
See bench/EMBEDDER.md for the exact definitions and the numbers.
"""

import argparse
import array
import json
import math
import os
import sys
import time
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval as ev  # noqa: E402
import fts5_baseline as fb  # noqa: E402

M64 = (1 << 64) - 1

# ---------------------------------------------------------------- hashing


def fnv1a64(data):
    """FNV-1a, 64 bit: h = 0xcbf29ce484222325; per byte h ^= byte, h *= 0x100000001b3."""
    h = 0xCBF29CE484222325
    for c in data:
        h = ((h ^ c) * 0x100000001B3) & M64
    return h


def fmix64(k):
    """MurmurHash3's 64-bit finaliser."""
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & M64
    k ^= k >> 33
    return k


GOLDEN = 0x9E3779B97F4A7C15


def term_id(key):
    """The 64-bit id of a term key (kind character + term)."""
    return fnv1a64(key.encode("utf-8"))


def slots(tid, D, nh, mix=True, seed=0):
    """[(bucket, sign)] of hash functions j = 0..nh-1 of a term id.
    mix:  y_j = fmix64(tid + j * GOLDEN mod 2^64); bucket = (y_j & 0xffffffff) % D;
          sign = -1 if y_j >> 63 else +1.
    raw (mix=False, for comparison): y_j = tid for j = 0 (nh must be 1)."""
    out = []
    for j in range(nh):
        y = fmix64((tid + (j + 8 * seed) * GOLDEN) & M64) if mix else tid
        out.append(((y & 0xFFFFFFFF) % D, -1.0 if y >> 63 else 1.0))
    return out


# ---------------------------------------------------------------- Porter stemmer
# The algorithm of common/stem.c (Porter 1980, with the "bli" and "logi" rules
# of Porter's own C version), on lower-case ASCII words.

_STEP2 = (("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
          ("izer", "ize"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
          ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
          ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
          ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"), ("logi", "log"))
_STEP3 = (("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"),
          ("ical", "ic"), ("ful", ""), ("ness", ""))
_STEP4 = ("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
          "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize")


def _cons(w, i):
    c = w[i]
    if c in "aeiou":
        return False
    if c == "y":
        return i == 0 or not _cons(w, i - 1)
    return True


def _m(w, j):
    """Porter's m: the number of VC sequences in w[:j+1]."""
    n, i = 0, 0
    while i <= j and _cons(w, i):
        i += 1
    while i <= j:
        while i <= j and not _cons(w, i):
            i += 1
        if i > j:
            break
        n += 1
        while i <= j and _cons(w, i):
            i += 1
    return n


def _vowel_in(w, j):
    return any(not _cons(w, i) for i in range(j + 1))


def _dbl(w, j):
    return j >= 1 and w[j] == w[j - 1] and _cons(w, j)


def _cvc(w, i):
    return (i >= 2 and _cons(w, i) and not _cons(w, i - 1) and _cons(w, i - 2)
            and w[i] not in "wxy")


def porter(w):
    if len(w) <= 2:
        return w
    # step 1a
    if w.endswith("s"):
        if w.endswith("sses"):
            w = w[:-2]
        elif w.endswith("ies"):
            w = w[:-2]
        elif len(w) >= 2 and w[-2] != "s":
            w = w[:-1]
    # step 1b
    if w.endswith("eed"):
        if _m(w, len(w) - 4) > 0:
            w = w[:-1]
    else:
        for suf in ("ed", "ing"):
            if w.endswith(suf) and _vowel_in(w, len(w) - len(suf) - 1):
                w = w[:-len(suf)]
                if w.endswith("at") or w.endswith("bl") or w.endswith("iz"):
                    w += "e"
                elif _dbl(w, len(w) - 1):
                    if w[-1] not in "lsz":
                        w = w[:-1]
                elif _m(w, len(w) - 1) == 1 and _cvc(w, len(w) - 1):
                    w += "e"
                break
    if len(w) <= 1:
        return w
    # step 1c
    if w.endswith("y") and _vowel_in(w, len(w) - 2):
        w = w[:-1] + "i"
    # step 2, 3
    for rules in (_STEP2, _STEP3):
        for suf, rep in rules:
            if w.endswith(suf):
                if _m(w, len(w) - len(suf) - 1) > 0:
                    w = w[:-len(suf)] + rep
                break
    # step 4
    for suf in _STEP4:
        if w.endswith(suf):
            j = len(w) - len(suf) - 1
            if suf == "ion" and not (j >= 0 and w[j] in "st"):
                continue
            if _m(w, j) > 1:
                w = w[:j + 1]
            break
    # step 5
    if w.endswith("e"):
        a = _m(w, len(w) - 2)
        if a > 1 or (a == 1 and not _cvc(w, len(w) - 2)):
            w = w[:-1]
    if w.endswith("l") and _dbl(w, len(w) - 1) and _m(w, len(w) - 1) > 1:
        w = w[:-1]
    return w


def crude_stem(w):
    """Crude suffix stripping, for comparison."""
    n = len(w)
    if n > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif n > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    n = len(w)
    if n > 5 and w.endswith("ing"):
        w = w[:-3]
    elif n > 4 and w.endswith("ed"):
        w = w[:-2]
    elif n > 4 and w.endswith("ly"):
        w = w[:-2]
    return w


# Stop words: the 33 of Lucene's English analyzer, and a longer list (the
# 127 of NLTK's English list less contractions' fragments) for comparison.
STOP_SHORT = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split())
STOP_LONG = frozenset(
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself "
    "she her hers herself it its itself they them their theirs themselves what which who whom "
    "this that these those am is are was were be been being have has had having do does did "
    "doing a an the and but if or because as until while of at by for with about against "
    "between into through during before after above below to from up down in out on off over "
    "under again further then once here there when where why how all any both each few more "
    "most other some such no nor not only own same so than too very s t can will just don "
    "should now".split())

# ---------------------------------------------------------------- tokeniser


def is_han_or_kana(c):
    return (0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0x3040 <= c <= 0x30FF
            or 0xF900 <= c <= 0xFAFF or 0x20000 <= c <= 0x3FFFF or 0x31F0 <= c <= 0x31FF
            or c == 0x3005 or c == 0x3007)


_ASCII_WORD = [(ord("a") <= c <= ord("z") or ord("A") <= c <= ord("Z") or ord("0") <= c <= ord("9"))
               for c in range(128)]
_WORDCAT = {}


def _is_word_char(ch, c):
    if c < 128:
        return _ASCII_WORD[c]
    r = _WORDCAT.get(ch)
    if r is None:
        r = _WORDCAT[ch] = unicodedata.category(ch)[0] in "LMN"
    return r


_FOLD = {}


def _fold(w):
    r = _FOLD.get(w)
    if r is None:
        s = unicodedata.normalize("NFKD", w)
        s = "".join(ch for ch in s if unicodedata.category(ch)[0] != "M")
        r = _FOLD[w] = unicodedata.normalize("NFKC", s.casefold())
    return r


class Tok:
    """Tokeniser settings. stem: none|porter|crude; stop: None or a set of
    (unstemmed) words to drop; ngram: (lo, hi) character n-grams of Latin
    words of at least ngmin letters, or None; uni: emit CJK unigrams."""

    def __init__(self, stem="porter", stop=None, ngram=None, ngmin=4, uni=True, pairs=False, digits=True):
        self.stem, self.stop, self.ngram, self.ngmin, self.uni = stem, stop, ngram, ngmin, uni
        self.pairs, self.digits = pairs, digits
        self._stemmed = {}

    def name(self):
        s = "stem=%s" % self.stem
        if self.stop:
            s += " stop=%d" % len(self.stop)
        if self.ngram:
            s += " ngram=%d-%d" % self.ngram
        if not self.uni:
            s += " no-unigrams"
        if self.pairs:
            s += " word-pairs"
        if not self.digits:
            s += " no-digits"
        return s

    def _word(self, w, out):
        if len(w) > 64:
            w = w[:64]
        if self.stop and w in self.stop:
            return
        if not self.digits and w.isdigit():
            return
        if w.isascii():
            if self.stem != "none":
                s = self._stemmed.get(w)
                if s is None:
                    s = porter(w) if self.stem == "porter" else crude_stem(w)
                    self._stemmed[w] = s
            else:
                s = w
            out.append("w" + s)
            if self.ngram and len(w) >= self.ngmin and w.isalpha():
                g = "<" + w + ">"
                lo, hi = self.ngram
                for n in range(lo, hi + 1):
                    for i in range(len(g) - n + 1):
                        out.append("g" + g[i:i + n])
        else:
            out.append("w" + w)

    def terms(self, text):
        """The term keys of a text, in order (kind character + term)."""
        out = []
        n = len(text)
        i = 0
        prev = None
        run = 0
        lastw = None    # index in out of the previous word, for word pairs
        while i < n:
            ch = text[i]
            c = ord(ch)
            if 0x2E80 <= c <= 0x2FDF:       # radicals (approximately txt_radical)
                ch = unicodedata.normalize("NFKC", ch)[0]
                c = ord(ch)
            if is_han_or_kana(c):
                lastw = None
                if self.uni:
                    out.append("u" + ch)
                if prev is not None:
                    out.append("b" + prev + ch)
                prev = ch
                run += 1
                i += 1
                continue
            if run == 1 and not self.uni:
                out.append("u" + prev)     # a lone character still counts
            run = 0
            prev = None
            if _is_word_char(ch, c):
                j = i + 1
                while j < n:
                    cj = ord(text[j])
                    if is_han_or_kana(cj) or (0x2E80 <= cj <= 0x2FDF) or not _is_word_char(text[j], cj):
                        break
                    j += 1
                w = text[i:j]
                if w.isascii():
                    w = w.lower()
                else:
                    w = _fold(w)
                if w:
                    k = len(out)
                    self._word(w, out)
                    if self.pairs and len(out) > k:
                        if lastw is not None:
                            out.append("p" + out[lastw][1:] + " " + out[k][1:])
                        lastw = k
                i = j
                continue
            i += 1
        if run == 1 and not self.uni:
            out.append("u" + prev)
        return out


# ---------------------------------------------------------------- data


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def passage_text(p, variant):
    """variant 'title': title + "\\n\\n" + text; 'text': text only."""
    if variant == "title" and p.get("title"):
        return p["title"] + "\n\n" + p["text"]
    return p["text"]


class Corpus:
    """One set, tokenised one way: term counts, df, dl, postings."""

    def __init__(self, name, passages, queries, tok, variant):
        self.name, self.tok, self.variant = name, tok, variant
        self.ids = [str(p["id"]) for p in passages]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.N = len(passages)
        self.docs = []
        self.dl = []
        self.df = Counter()
        self.post = {}
        for i, p in enumerate(passages):
            terms = tok.terms(passage_text(p, variant))
            tf = Counter(terms)
            self.docs.append(tf)
            self.dl.append(sum(1 for t in terms if t[0] in "wub"))
            for t, c in tf.items():
                self.df[t] += 1
                pl = self.post.get(t)
                if pl is None:
                    pl = self.post[t] = ([], [])
                pl[0].append(i)
                pl[1].append(c)
        self.avgdl = sum(self.dl) / self.N
        self.qids = [str(q["id"]) for q in queries]
        self.qterms = [tok.terms(q["question"]) for q in queries]
        self.rel = [set(self.index[r] for r in q["relevant"] if r in self.index) for q in queries]
        self._ids = {}

    def tid(self, key):
        r = self._ids.get(key)
        if r is None:
            r = self._ids[key] = term_id(key)
        return r

    def idf(self, t, mode="bm25"):
        df = self.df.get(t, 0)
        N = self.N
        if mode == "bm25":          # Robertson/Sparck Jones, floored like FTS5
            v = math.log((N - df + 0.5) / (df + 0.5))
            return v if v > 1e-6 else 1e-6
        if mode == "bm25+":         # Lucene: never negative, small for very common terms
            return math.log(1.0 + (N - df + 0.5) / (df + 0.5))
        raise ValueError(mode)


# ---------------------------------------------------------------- scoring


KIND = {"w": 0, "u": 1, "b": 2, "g": 3, "p": 4}


def qweights(terms, qtf="distinct"):
    """{term: query weight} from a question's term list."""
    c = Counter(terms)
    if qtf == "distinct":
        return {t: 1.0 for t in c}
    if qtf == "raw":
        return {t: float(n) for t, n in c.items()}
    if qtf == "log":
        return {t: 1.0 + math.log(n) for t, n in c.items()}
    raise ValueError(qtf)


class Exact:
    """Exact BM25-style scores of every passage for every query (what
    rag-query computes for its candidates).  kx = kind weights (w, u, b, g)."""

    def __init__(self, C, k1=1.2, b=0.75, kx=(1.0, 1.0, 1.0, 1.0, 1.0), idf="bm25", qtf="distinct",
                 qterms=None, qws=None):
        self.C = C
        self.params = dict(k1=k1, b=b, kx=kx, idf=idf)
        N = C.N
        K = [k1 * (1 - b + b * dl / C.avgdl) for dl in C.dl]
        self.scores = []
        if qws is None:
            qws = [qweights(terms, qtf) for terms in (qterms if qterms is not None else C.qterms)]
        for qwd in qws:
            acc = [0.0] * N
            for t, qw in qwd.items():
                pl = C.post.get(t)
                if pl is None:
                    continue
                w = kx[KIND[t[0]]] * C.idf(t, idf) * qw * (k1 + 1)
                if w == 0.0:
                    continue
                for d, tf in zip(pl[0], pl[1]):
                    acc[d] += w * tf / (tf + K[d])
            self.scores.append(array.array("d", acc))

    def rank(self, qi, cands=None, k=10):
        s = self.scores[qi]
        if cands is None:
            cands = range(len(s))
        return sorted(cands, key=lambda d: (-s[d], d))[:k]


def prf(C, ex, cands, m=10, E=20, lam=0.5, kinds="wb", by_idf=False, qtf="distinct"):
    """Pseudo-relevance feedback inside the candidate set (RM3-like): the
    top m candidates by the exact score give expansion terms
        e(t) = sum over those d of (s(d) / sum s) * tf(t,d) / dl(d)   (kinds only)
    the E best (by e(t), or e(t) * idf(t) with by_idf) are added; new query
    weights: (1 - lam) / |q| for each original term + lam * e(t) / sum e."""
    out = []
    for qi, terms in enumerate(C.qterms):
        q = qweights(terms, qtf)
        top = ex.rank(qi, cands[qi] if cands is not None else None, m)
        sc = ex.scores[qi]
        tot = sum(sc[d] for d in top) or 1.0
        e = Counter()
        for d in top:
            wd = sc[d] / tot / (C.dl[d] or 1)
            for t, c in C.docs[d].items():
                if t[0] in kinds:
                    e[t] += wd * c
        if by_idf:
            for t in e:
                e[t] *= C.idf(t)
        best = e.most_common(E)
        se = sum(v for _, v in best) or 1.0
        nq = sum(q.values()) or 1.0
        new = {t: (1 - lam) * v / nq for t, v in q.items()}
        for t, v in best:
            new[t] = new.get(t, 0.0) + lam * v / se
        out.append(new)
    return out


class Dense:
    """Hashed dense vectors of all passages and queries; ranking by inner
    product, evaluated with Python big integers as SIMD (each passage a 64-bit
    field of one integer per dimension)."""

    SCALE = 1 << 24
    BIAS = 1 << 62

    def __init__(self, C, D=1024, nh=1, k1=1.2, b=0.75, A=None, kd=(1.0, 1.0, 1.0, 0.0, 0.0),
                 l2=True, kq=(1.0, 1.0, 1.0, 0.0, 0.0), idf="bm25", qtf="distinct", mix=True,
                 qidf=True, dstop=None, qpow=1.0, tfmode="bm25", seed=0, skip_unseen=False):
        self.C, self.D = C, D
        N = C.N
        A = C.avgdl if A is None else A
        inv = 1.0 / math.sqrt(nh)
        cols = [[0.0] * N for _ in range(D)]
        slotc = {}

        def sl(t):
            r = slotc.get(t)
            if r is None:
                r = slotc[t] = slots(C.tid(t), D, nh, mix, seed)
            return r

        for i, tf in enumerate(C.docs):
            K = k1 * (1 - b + b * C.dl[i] / A)
            v = {}
            for t, c in tf.items():
                kw = kd[KIND[t[0]]]
                if kw == 0.0 or (dstop and t in dstop):
                    continue
                if tfmode == "bm25":
                    w = kw * c * (k1 + 1) / (c + K) * inv
                elif tfmode == "log":
                    w = kw * (1.0 + math.log(c)) * inv
                elif tfmode == "sqrt":
                    w = kw * math.sqrt(c) * inv
                elif tfmode == "raw":
                    w = kw * c * inv
                else:
                    raise ValueError(tfmode)
                for bkt, sg in sl(t):
                    v[bkt] = v.get(bkt, 0.0) + sg * w
            if l2:
                norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            else:
                norm = 1.0
            for bkt, x in v.items():
                cols[bkt][i] = x / norm
        mx = max(max(abs(x) for x in col) for col in cols) or 1.0
        sc = self.SCALE / mx
        B0 = 1 << 40
        ones = int.from_bytes(array.array("Q", [1] * N).tobytes(), "little")
        self.ones_bias = ones * self.BIAS
        self.cols = []
        for col in cols:
            a = array.array("Q", [int(round(x * sc)) + B0 for x in col])
            self.cols.append(int.from_bytes(a.tobytes(), "little") - B0 * ones)
        self.qvecs = []
        for terms in C.qterms:
            q = {}
            for t, qw in qweights(terms, qtf).items():
                kw = kq[KIND[t[0]]]
                if kw == 0.0 or (dstop and t in dstop) or (skip_unseen and t not in C.df):
                    continue
                w = kw * qw * (C.idf(t, idf) ** qpow if qidf else 1.0) * inv
                for bkt, sg in sl(t):
                    q[bkt] = q.get(bkt, 0.0) + sg * w
            m = max((abs(x) for x in q.values()), default=0.0) or 1.0
            self.qvecs.append([(bkt, int(round(x / m * self.SCALE))) for bkt, x in q.items() if x])

    def scores(self, qi):
        S = self.ones_bias
        cols = self.cols
        for bkt, w in self.qvecs[qi]:
            S += w * cols[bkt]
        a = array.array("Q")
        a.frombytes(S.to_bytes(8 * self.C.N, "little"))
        bias = self.BIAS
        return [x - bias for x in a]

    def rank(self, qi, k):
        s = self.scores(qi)
        return sorted(range(len(s)), key=lambda d: (-s[d], d))[:k]


# ---------------------------------------------------------------- reference
# The recommended built-in embedder, written out plainly (what rag-embed and
# rag-query implement in C; bench/EMBEDDER.md gives the same formulas).

REC_D, REC_NH, REC_K1D = 1024, 2, 8.0
REC_TOK = lambda: Tok("porter", stop=STOP_LONG)      # noqa: E731
REC_KQ = {"w": 1.0, "u": 1.0, "b": 1.0}


def _hash_into(v, key, w, D, nh):
    for bkt, sg in slots(term_id(key), D, nh):
        v[bkt] += sg * w / math.sqrt(nh)


def _l2(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else v


def embed_passage(text, D=REC_D, nh=REC_NH, k1=REC_K1D, tok=None):
    """The passage vector: needs nothing but the text."""
    tf = Counter((tok or REC_TOK()).terms(text))
    v = [0.0] * D
    for key in sorted(tf):
        c = tf[key]
        _hash_into(v, key, c * (k1 + 1) / (c + k1), D, nh)
    return _l2(v)


def bm25plus_idf(df, N):
    return math.log(1.0 + (N - df + 0.5) / (df + 0.5))


def embed_query(text, df, N, D=REC_D, nh=REC_NH, tok=None, skip_unseen=True):
    """The question vector: df(key) -> document frequency in the index, N =
    number of chunks.  Terms no chunk has (df 0) are left out.  (REC_KQ: all
    kinds weigh 1; kept as a table for experiments.)"""
    v = [0.0] * D
    for key in sorted(set((tok or REC_TOK()).terms(text))):
        n = df(key)
        if n == 0 and skip_unseen:
            continue
        _hash_into(v, key, REC_KQ[key[0]] * math.sqrt(bm25plus_idf(n, N)), D, nh)
    return _l2(v)


# ---------------------------------------------------------------- evaluation


def metrics(C, rankings):
    """rankings: list (per query) of ranked passage indices."""
    tot = dict.fromkeys(ev.METRICS, 0.0)
    nq = 0
    for rel, hits in zip(C.rel, rankings):
        if not rel:
            continue
        m = ev.query_metrics(rel, hits)
        for k in ev.METRICS:
            tot[k] += m[k]
        nq += 1
    return {k: v / nq for k, v in tot.items()}


def cand_recall(C, cands):
    tot, nq = 0.0, 0
    for rel, cs in zip(C.rel, cands):
        if rel:
            tot += len(rel & cs) / len(rel)
            nq += 1
    return tot / nq


def row(label, m, extra=()):
    return "| %s | %s |%s" % (label, " | ".join("%.4f" % m[k] for k in ev.METRICS),
                              "".join(" %s |" % e for e in extra))


HDR = "| %s | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |%s\n|---|---:|---:|---:|---:|---:|%s"


def header(first, extra=()):
    return HDR % (first, "".join(" %s |" % e for e in extra), "---:|" * len(extra))


FTS5_README = {
    "cmrc2018": {"R@1": 0.9628, "R@5": 0.9938, "R@10": 0.9960, "MRR@10": 0.9772, "nDCG@10": 0.9819},
    "cranfield": {"R@1": 0.0518, "R@5": 0.2795, "R@10": 0.3830, "MRR@10": 0.4974, "nDCG@10": 0.3594},
}


class Bench:
    """Both sets, with caches of tokenisations, FTS5 candidates and exact scores."""

    def __init__(self, datadir):
        self.datadir = datadir
        self.raw = {}
        for s in ("cmrc2018", "cranfield"):
            d = os.path.join(datadir, s)
            self.raw[s] = (load_jsonl(os.path.join(d, "corpus.jsonl")),
                           load_jsonl(os.path.join(d, "queries.jsonl")))
        self._corpora = {}
        self._fts = {}

    def corpus(self, s, tok, variant="title"):
        key = (s, tok.name(), variant)
        C = self._corpora.get(key)
        if C is None:
            t0 = time.time()
            C = self._corpora[key] = Corpus(s, self.raw[s][0], self.raw[s][1], tok, variant)
            log("tokenised %s (%s, %s): %d terms, avgdl %.1f, %.1fs"
                % (s, tok.name(), variant, len(C.df), C.avgdl, time.time() - t0))
        return C

    def fts5_ragpipe(self, C, k=400):
        """FTS5 with ragpipe's own tokenizer (common/fts.c: tok.h terms, stemmed,
        CJK unigrams + bigrams, no stop words), ranked by FTS5's bm25()
        (k1 1.2, b 0.75, idf floored at 1e-6, every term weight 1): top-k."""
        key = ("rp", C.name, C.variant)
        r = self._fts.get(key)
        if r is None:
            Cr = self.corpus(C.name, Tok("porter"), C.variant)
            ex = Exact(Cr, k1=1.2, b=0.75, kx=(1, 1, 1, 1, 1), idf="bm25")
            r = self._fts[key] = [[d for d in ex.rank(qi, k=400) if ex.scores[qi][d] > 0]
                                  for qi in range(len(Cr.qterms))]
        return [x[:k] for x in r]

    def fts5(self, C, k=400):
        """FTS5 (README baseline tokenisation) top-k candidates, per query, as passage indices."""
        key = (C.name, C.variant)
        r = self._fts.get(key)
        if r is None or r[0] < k:
            kk = max(k, 400)
            t0 = time.time()
            corpus, queries = self.raw[C.name]
            if C.variant == "title":
                idx = fb.Fts5Index(corpus)
            else:
                idx = fb.Fts5Index([{"id": p["id"], "title": "", "text": p["text"]} for p in corpus])
            lists = [[C.index[pid] for pid, _ in idx.search(q["question"], kk)] for q in queries]
            r = self._fts[key] = (kk, lists)
            log("FTS5 top-%d candidates of %s (%s): %.1fs" % (kk, C.name, C.variant, time.time() - t0))
        return [x[:k] for x in r[1]]


def log(msg):
    print("proto_embed: " + msg, file=sys.stderr, flush=True)


def evaluate_pipeline(B, C, ex, dense=None, Ns=(100, 200, 400), fts_M=(0,), dense_only=True,
                      exact_all=False, label="", prf_p=None, fts_src="readme"):
    """Rows for: dense only; dense top-N (+ FTS5 top-M) re-scored by ex."""
    out = []
    nq = len(C.qterms)
    if exact_all:
        m = metrics(C, [ex.rank(qi) for qi in range(nq)])
        out.append((label + "exact, all passages", m, ("%d" % C.N, "1.0000")))
        if prf_p:
            ex2 = Exact(C, qws=prf(C, ex, None, *prf_p), **ex.params)
            m = metrics(C, [ex2.rank(qi) for qi in range(nq)])
            out.append((label + "exact + PRF, all passages", m, ("%d" % C.N, "1.0000")))
    dr = None
    if dense is not None:
        maxN = max(Ns) if Ns else 10
        dr = [dense.rank(qi, max(maxN, 10)) for qi in range(nq)]
        if dense_only:
            out.append((label + "dense only", metrics(C, [r[:10] for r in dr]), ("-", "-")))
    for M in fts_M:
        fl = (B.fts5(C, M) if fts_src == "readme" else B.fts5_ragpipe(C, M)) if M else None
        for N in (Ns if dense is not None else (0,)):
            cands = []
            for qi in range(nq):
                cs = set(dr[qi][:N]) if N else set()
                if fl is not None:
                    cs.update(fl[qi])
                cands.append(cs)
            ranked = [ex.rank(qi, cands[qi]) for qi in range(nq)]
            ncand = sum(len(c) for c in cands) / nq
            if prf_p:
                ex2 = Exact(C, qws=prf(C, ex, cands, *prf_p), **ex.params)
                ranked = [ex2.rank(qi, cands[qi]) for qi in range(nq)]
            what = []
            if N:
                what.append("dense top-%d" % N)
            if M:
                what.append("FTS5%s top-%d" % ("" if fts_src == "readme" else " (ragpipe tokenizer)", M))
            out.append((label + " + ".join(what) + " re-scored" + (" + PRF" if prf_p else ""), metrics(C, ranked),
                        ("%.0f" % ncand, "%.4f" % cand_recall(C, cands))))
    return out


def print_rows(title, rows, extra=("cands/query", "cand. recall")):
    print(header(title, extra))
    for lab, m, ex in rows:
        print(row(lab, m, ex))
    print()


# ---------------------------------------------------------------- experiments

EXPERIMENTS = {}


def experiment(f):
    EXPERIMENTS[f.__name__] = f
    return f


def xm(C, **kw):
    """Metrics of the exact score over all passages."""
    ex = Exact(C, **kw)
    return metrics(C, [ex.rank(qi) for qi in range(len(ex.scores))])


@experiment
def tokenise(B):
    """Tokenisation for the exact score over all passages (k1 1.2, b 0.75):
    stemming, stop words, CJK unigram/bigram weights, character n-grams."""
    print("### Tokenisation (exact BM25 over all passages, k1 1.2 b 0.75, title + text)\n")
    for s in ("cmrc2018", "cranfield"):
        rows = [("FTS5 BM25 (README)", FTS5_README[s], ())]
        if s == "cmrc2018":
            for ku in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
                C = B.corpus(s, Tok("porter"))
                for idf in ("bm25", "bm25+"):
                    rows.append(("uni x%.2g, bi x1, idf %s" % (ku, idf),
                                 xm(C, kx=(1, ku, 1, 0), idf=idf), ()))
            Cb = B.corpus(s, Tok("porter", uni=False))
            rows.append(("bigrams only (lone char as unigram)",
                         xm(Cb), ()))
        else:
            for name, tok in (("no stemming", Tok("none")), ("crude suffix stripping", Tok("crude")),
                              ("Porter", Tok("porter")),
                              ("Porter, 33 stop words", Tok("porter", stop=STOP_SHORT)),
                              ("Porter, 127 stop words", Tok("porter", stop=STOP_LONG)),
                              ("no stemming, 127 stop words", Tok("none", stop=STOP_LONG)),
                              ("Porter, 127 stop words, digit-only words dropped",
                               Tok("porter", stop=STOP_LONG, digits=False))):
                C = B.corpus(s, tok)
                for idf in ("bm25", "bm25+"):
                    rows.append(("%s, idf %s" % (name, idf),
                                 xm(C, idf=idf), ()))
            for ng, kg in (((3, 5), 0.1), ((3, 5), 0.2), ((3, 5), 0.4), ((4, 4), 0.2)):
                C = B.corpus(s, Tok("porter", stop=STOP_LONG, ngram=ng))
                rows.append(("Porter, 127 stop, + %d-%d-grams x%.1f" % (ng[0], ng[1], kg),
                             xm(C, kx=(1, 1, 1, kg)), ()))
        print_rows(s, rows, ())


# The exact score used while the dense side is explored (see `tokenise`, `k1b`).
TOKS = {"cmrc2018": lambda: Tok("porter", stop=STOP_LONG),
        "cranfield": lambda: Tok("porter", stop=STOP_LONG)}
EXACT = dict(k1=1.2, b=0.75, idf="bm25+", kx=(1.0, 0.5, 1.0, 0.0, 0.0))
PRF = (10, 20, 0.3, "wub")       # m, E, lambda, kinds
DENSE = dict(D=1024, nh=2, k1=8.0, b=0.0, A=None, kd=(1.0, 1.0, 1.0, 0.0, 0.0), l2=True,
             kq=(1.0, 1.0, 1.0, 0.0, 0.0), idf="bm25+", qpow=0.5, skip_unseen=True)

_exact_cache = {}


def exact_for(C, **kw):
    p = dict(EXACT)
    p.update(kw)
    key = (id(C), repr(sorted(p.items())))
    ex = _exact_cache.get(key)
    if ex is None:
        _exact_cache.clear()    # one at a time: they are big
        ex = _exact_cache[key] = Exact(C, **p)
    return ex


def dense_rows(B, s, variant="title", Ns=(100, 200, 400), fts_M=(0,), label="", exact_all=False,
               tok=None, exact=None, prf_p=None, dense_only=True, fts_src="readme", **dkw):
    C = B.corpus(s, tok or TOKS[s](), variant)
    ex = exact_for(C, **(exact or {}))
    p = dict(DENSE)
    p.update(dkw)
    d = Dense(C, **p)
    return evaluate_pipeline(B, C, ex, d, Ns=Ns, fts_M=fts_M, exact_all=exact_all, label=label,
                             prf_p=prf_p, dense_only=dense_only, fts_src=fts_src)



@experiment
def k1b(B):
    """BM25 k1/b and idf of the exact score, and query term frequency."""
    print("### Exact score: k1, b, idf, query tf (all passages, title + text)\n")
    for s in ("cmrc2018", "cranfield"):
        C = B.corpus(s, TOKS[s]())
        rows = [("FTS5 BM25 (README)", FTS5_README[s], ())]
        for k1, b in ((0.9, 0.4), (1.2, 0.5), (1.2, 0.75), (1.5, 0.75), (2.0, 0.75), (3.0, 0.75), (1.2, 0.9)):
            for idf in ("bm25", "bm25+"):
                rows.append(("k1 %.1f b %.2f idf %s" % (k1, b, idf), xm(C, **dict(EXACT, k1=k1, b=b, idf=idf)), ()))
        for qtf in ("raw", "log"):
            rows.append(("k1 1.2 b 0.75 idf bm25+, query tf %s" % qtf, xm(C, qtf=qtf, **EXACT), ()))
        print_rows("%s (%s, kinds w/u/b x1/0.5/1)" % (s, C.tok.name()), rows, ())


@experiment
def prfgrid(B):
    """Pseudo-relevance feedback over all passages (exact score k1 1.2 b 0.75 bm25+)."""
    print("### Pseudo-relevance feedback (exact score over all passages, title + text)\n")
    for s in ("cmrc2018", "cranfield"):
        C = B.corpus(s, TOKS[s]())
        ex = exact_for(C)
        nq = len(C.qterms)
        rows = [("FTS5 BM25 (README)", FTS5_README[s], ()),
                ("no PRF", metrics(C, [ex.rank(qi) for qi in range(nq)]), ())]
        for m, E, lam in ((5, 10, 0.3), (5, 10, 0.5), (5, 20, 0.5), (10, 10, 0.3), (10, 20, 0.3),
                          (10, 20, 0.5), (10, 40, 0.3), (20, 20, 0.3)):
            ex2 = Exact(C, qws=prf(C, ex, None, m, E, lam, "wub"), **ex.params)
            rows.append(("m %d, E %d, lambda %.1f" % (m, E, lam),
                         metrics(C, [ex2.rank(qi) for qi in range(nq)]), ()))
        if s == "cranfield":
            ex2 = Exact(C, qws=prf(C, ex, None, 10, 20, 0.3, "wub", by_idf=True), **ex.params)
            rows.append(("m 10, E 20, lambda 0.3, terms chosen by e(t) * idf(t)",
                         metrics(C, [ex2.rank(qi) for qi in range(nq)]), ()))
            Cp = B.corpus(s, Tok("porter", stop=STOP_LONG, pairs=True))
            for kp in (0.1, 0.2, 0.3):
                rows.append(("no PRF, + word pairs x%.1f" % kp, xm(Cp, **dict(EXACT, kx=(1, 0.5, 1, 0, kp))), ()))
        print_rows(s, rows, ())


def dense_stats(B, s, tok=None, variant="title", Ns=(50, 100, 200, 400), **kw):
    """Dense-only metrics and candidate recall of the dense top-N."""
    C = B.corpus(s, tok or TOKS[s](), variant)
    p = dict(DENSE)
    p.update(kw)
    d = Dense(C, **p)
    dr = [d.rank(qi, max(Ns)) for qi in range(len(C.qterms))]
    m = metrics(C, [r[:10] for r in dr])
    return m, [cand_recall(C, [set(r[:N]) for r in dr]) for N in Ns]


def dense_table(B, title, configs, both=True, sets=("cmrc2018", "cranfield")):
    """configs: [(label, tok or None, dense kwargs)]."""
    cols = []
    for s in sets:
        cols += ["%s nDCG@10" % s, "%s rec@100" % s, "%s rec@200" % s]
    print("| %s | %s |" % (title, " | ".join(cols)))
    print("|---|%s" % ("---:|" * len(cols)))
    for lab, tok, kw in configs:
        cells = []
        for s in sets:
            m, rec = dense_stats(B, s, tok, Ns=(100, 200), **kw)
            cells += ["%.4f" % m["nDCG@10"], "%.4f" % rec[0], "%.4f" % rec[1]]
        print("| %s | %s |" % (lab, " | ".join(cells)), flush=True)
    print()


@experiment
def docweight(B):
    """Dense: the passage-side term weight (k1, b, average length, L2)."""
    print("### Dense: passage-side weight (D 1024, 2 hashes; query sqrt(idf), df-0 terms left out)\n")
    cfg = []
    for k1, b in ((0.9, 0.4), (1.2, 0.75), (1.5, 0.75), (2.0, 0.75), (4.0, 0.75), (8.0, 0.75), (16.0, 0.75)):
        cfg.append(("BM25 k1 %g b %g, A = corpus avgdl, L2" % (k1, b), None, dict(k1=k1, b=b)))
    for A in (100, 300, 1000):
        cfg.append(("BM25 k1 1.2 b 0.75, fixed A = %d, L2" % A, None, dict(k1=1.2, b=0.75, A=A)))
    for A in (128, 256, 512):
        cfg.append(("BM25 k1 8 b 0.75, fixed A = %d, L2" % A, None, dict(k1=8.0, b=0.75, A=A)))
    cfg += [("BM25 k1 1.2 b 0.75, corpus avgdl, no L2", None, dict(k1=1.2, b=0.75, l2=False)),
            ("k1 1.2 b 0 (no length), L2", None, dict(k1=1.2, b=0.0)),
            ("k1 4 b 0, L2", None, dict(k1=4.0, b=0.0)),
            ("**k1 8 b 0, L2 (recommended)**", None, dict(k1=8.0, b=0.0)),
            ("k1 8 b 0, no L2", None, dict(k1=8.0, b=0.0, l2=False)),
            ("k1 16 b 0, L2", None, dict(k1=16.0, b=0.0)),
            ("raw tf, L2", None, dict(tfmode="raw")),
            ("1 + ln tf, L2", None, dict(tfmode="log")),
            ("sqrt tf, L2", None, dict(tfmode="sqrt"))]
    dense_table(B, "passage weight", cfg)


@experiment
def query(B):
    """Dense: query-side weights (idf power, CJK unigram weight, query tf) and
    the unigram weight on the passage side."""
    print("### Dense: query side (D 1024, 2 hashes; passage k1 8 b 0, L2; df-0 terms left out)\n")
    cfg = [("query idf^1", None, dict(qpow=1.0)),
           ("query idf^1, unigrams x0.5", None, dict(qpow=1.0, kq=(1, 0.5, 1, 0, 0))),
           ("query no idf (weight 1)", None, dict(qidf=False)),
           ("query idf^0.25", None, dict(qpow=0.25)),
           ("**query idf^0.5 (recommended)**", None, dict()),
           ("query idf^0.75", None, dict(qpow=0.75)),
           ("query idf^1.5", None, dict(qpow=1.5)),
           ("query idf^0.5, unigrams x2", None, dict(kq=(1, 2, 1, 0, 0))),
           ("query idf^0.5, unigrams x3", None, dict(kq=(1, 3, 1, 0, 0))),
           ("query idf^0.5, passage unigrams x0.5", None, dict(kd=(1, 0.5, 1, 0, 0))),
           ("query idf^0.5, unigrams x2, passage unigrams x0.5", None, dict(kd=(1, 0.5, 1, 0, 0), kq=(1, 2, 1, 0, 0))),
           ("bigrams only (no unigrams either side)", None, dict(kd=(1, 0, 1, 0, 0), kq=(1, 0, 1, 0, 0))),
           ("query idf^0.5, query tf raw", None, dict(qtf="raw")),
           ("query idf^0.5, question terms with df 0 kept", None, dict(skip_unseen=False)),
           ("query idf bm25 (floored) instead of bm25+", None, dict(idf="bm25"))]
    dense_table(B, "query weights", cfg)


@experiment
def features(B):
    """Dense: what terms go into the vector (stemming, stop words, n-grams, word pairs)."""
    print("### Dense: terms in the vector (D 1024, 2 hashes, recommended weights)\n")
    S = STOP_LONG
    cfg = [("**Porter, 127 stop words (recommended)**", Tok("porter", stop=S), {}),
           ("Porter, 33 stop words", Tok("porter", stop=STOP_SHORT), {}),
           ("Porter, no stop words", Tok("porter"), {}),
           ("crude stemming, 127 stop words", Tok("crude", stop=S), {}),
           ("no stemming, 127 stop words", Tok("none", stop=S), {}),
           ("+ character 3-5-grams x0.1", Tok("porter", stop=S, ngram=(3, 5)),
            dict(kd=(1, 1, 1, 0.1, 0), kq=(1, 2, 1, 0.1, 0))),
           ("+ character 3-5-grams x0.3", Tok("porter", stop=S, ngram=(3, 5)),
            dict(kd=(1, 1, 1, 0.3, 0), kq=(1, 2, 1, 0.3, 0))),
           ("+ word pairs x0.3", Tok("porter", stop=S, pairs=True),
            dict(kd=(1, 1, 1, 0, 0.3), kq=(1, 2, 1, 0, 0.3)))]
    dense_table(B, "terms (cranfield)", cfg, sets=("cranfield",))


@experiment
def hashing(B):
    """Dense: hash functions per term, FNV-1a with/without the fmix64
    finaliser, and the spread over hash seeds."""
    print("### Dense: hashing (D 1024 and 512, recommended weights)\n")
    cfg = []
    for D in (512, 1024):
        cfg.append(("D %d, raw FNV-1a (bucket = h mod D, sign = top bit), 1 hash" % D, None, dict(D=D, nh=1, mix=False)))
        for nh in (1, 2, 3):
            for seed in (0, 1, 2):
                cfg.append(("D %d, fmix64, %d hash%s, seed %d" % (D, nh, "es" if nh > 1 else "", seed), None,
                            dict(D=D, nh=nh, seed=seed)))
    dense_table(B, "hashing", cfg)


V1 = dict(D=512, nh=1, mix=False, k1=1.2, b=0.75, A=200.0, kd=(1, 0.5, 1, 0, 0), kq=(1, 0.5, 1, 0, 0),
          qpow=1.0, idf="bm25+", skip_unseen=False)


@experiment
def v1(B):
    """common/emb.c as first committed (ragpipe-lex1) against the recommended design."""
    print("### rag-embed v1 (common/emb.c, EMB_LEX_VERSION 1) vs the recommended dense side\n")
    cfg = [("v1: no stop words, k1 1.2 b 0.75 A 200, uni x0.5 both sides, idf^1, raw FNV, 1 hash, D 512",
            Tok("porter"), V1),
           ("v1 at D 1024", Tok("porter"), dict(V1, D=1024)),
           ("v1 + 127 stop words, D 1024", None, dict(V1, D=1024)),
           ("v1 + stop words + passage k1 8 b 0, D 1024", None, dict(V1, D=1024, k1=8.0, b=0.0)),
           ("v1 + stop + k1 8 b 0 + query sqrt(idf), D 1024", None, dict(V1, D=1024, k1=8.0, b=0.0, qpow=0.5)),
           ("v1 + stop + k1 8 b 0 + sqrt(idf) + unigrams x1 both sides, D 1024", None,
            dict(V1, D=1024, k1=8.0, b=0.0, qpow=0.5, kd=(1, 1, 1, 0, 0), kq=(1, 1, 1, 0, 0))),
           ("the above + fmix64, 2 hashes, D 1024", None, dict(skip_unseen=False)),
           ("**recommended** (the above + question terms with df 0 left out), D 1024", None, {}),
           ("recommended, D 768", None, dict(D=768)),
           ("recommended, D 512", None, dict(D=512))]
    dense_table(B, "dense side", cfg)


@experiment
def dims(B):
    """Dense dimension D and hash functions per term: dense only, and dense
    top-N re-scored exactly."""
    print("### Dense: D and hashes per term (title + text; recommended weights)\n")
    for s in ("cmrc2018", "cranfield"):
        rows = []
        first = True
        for D in (256, 384, 512, 768, 1024):
            for nh in (1, 2):
                rows += dense_rows(B, s, D=D, nh=nh, label="D %d, %d hash%s: " % (D, nh, "es" if nh > 1 else ""),
                                   exact_all=first)
                first = False
        print_rows(s, rows)


def fts5_metrics(B, C):
    return metrics(C, [x[:10] for x in B.fts5(C, 10)])


@experiment
def pipeline(B):
    """The query path: dense top-N, FTS5 top-M, union, exact re-scoring, PRF;
    both sets, both passage texts."""
    print("### Query path (D 1024, 2 hashes; exact k1 1.2 b 0.75 bm25+; PRF m 10, E 20, lambda 0.3)\n")
    for s in ("cmrc2018", "cranfield"):
        for variant in ("title", "text"):
            C = B.corpus(s, TOKS[s](), variant)
            rows = [("FTS5 BM25, same text", fts5_metrics(B, C), ("10", "-"))]
            rows += dense_rows(B, s, variant, Ns=(100, 200, 400), fts_M=(0, 50, 100), exact_all=True)
            rows += [r for r in dense_rows(B, s, variant, Ns=(100, 200, 400), fts_M=(0, 50, 100),
                                           exact_all=True, prf_p=PRF) if "dense only" not in r[0]]
            rows += [r for r in evaluate_pipeline(B, C, exact_for(C), None, Ns=(), fts_M=(100, 200),
                                                  prf_p=PRF)]
            print_rows("%s, %s" % (s, "title + text" if variant == "title" else "text only"), rows)


@experiment
def dunion(B):
    """Dimension D when the FTS5 candidates are added (dense top-100 + FTS5 top-50, PRF)."""
    print("### D with the FTS5 union (dense top-100 + FTS5 top-50 re-scored + PRF, title + text)\n")
    for s in ("cmrc2018", "cranfield"):
        rows = []
        for D in (256, 512, 768):
            rows += dense_rows(B, s, "title", Ns=(100,), fts_M=(50,), prf_p=PRF, D=D, label="D %d: " % D)
        print_rows(s, rows)


@experiment
def fusion(B):
    """Final order by exact score + alpha * dense cosine (each divided by its
    maximum over the candidates), with and without PRF."""
    print("### Fusing the dense score into the final order (dense top-100 + FTS5 top-50)\n")
    for s in ("cmrc2018", "cranfield"):
        rows = []
        for variant in ("title", "text"):
            C = B.corpus(s, TOKS[s](), variant)
            ex = exact_for(C)
            d = Dense(C, **DENSE)
            fl = B.fts5(C, 50)
            nq = len(C.qterms)
            cands, ds = [], []
            for qi in range(nq):
                sc = d.scores(qi)
                ds.append(sc)
                cands.append(set(sorted(range(C.N), key=lambda i: (-sc[i], i))[:100]) | set(fl[qi]))
            ex2 = Exact(C, qws=prf(C, ex, cands, *PRF), **ex.params)
            for lab, E in (("no PRF", ex), ("PRF", ex2)):
                for a in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0):
                    rk = []
                    for qi in range(nq):
                        es, dn, cs = E.scores[qi], ds[qi], cands[qi]
                        me = max(es[i] for i in cs) or 1.0
                        md = max(dn[i] for i in cs) or 1
                        rk.append(sorted(cs, key=lambda i: (-(es[i] / me + a * dn[i] / md), i))[:10])
                    rows.append(("%s, %s, alpha %.1f" % ("title + text" if variant == "title" else "text only", lab, a),
                                 metrics(C, rk), ()))
        print_rows(s, rows, ())


@experiment
def recommended(B):
    """The recommended configuration against FTS5 on both sets."""
    print("### Recommended configuration vs FTS5 BM25\n")
    for s in ("cmrc2018", "cranfield"):
        for variant in ("title", "text"):
            C = B.corpus(s, TOKS[s](), variant)
            rows = [("FTS5 BM25 (same text)", fts5_metrics(B, C), ("10", "-"))]
            rows += [r for r in dense_rows(B, s, variant, Ns=(100,), fts_M=(50,), prf_p=PRF)]
            rows += [r for r in dense_rows(B, s, variant, Ns=(100,), fts_M=(50,), prf_p=PRF, dense_only=False,
                                           fts_src="ragpipe")]
            rows += [r for r in dense_rows(B, s, variant, Ns=(200,), fts_M=(0,), prf_p=PRF, dense_only=False)]
            print_rows("%s, %s" % (s, "title + text" if variant == "title" else "text only"), rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-d", "--data", default=os.path.join(HERE, "..", "..", "shared", "data"),
                    help="folder with cmrc2018/ and cranfield/ (default ../shared/data)")
    ap.add_argument("--list", action="store_true", help="list the experiments")
    ap.add_argument("--embed", metavar="TEXT",
                    help="print the recommended passage vector of TEXT (its non-zero buckets) and exit")
    ap.add_argument("--dim", type=int, default=REC_D, help="dimension for --embed (default %d)" % REC_D)
    ap.add_argument("experiments", nargs="*", help="experiments to run (default: recommended)")
    a = ap.parse_args(argv)
    if a.embed is not None:
        tok = REC_TOK()
        print(json.dumps({"terms": tok.terms(a.embed),
                          "vector": {str(i): float("%.9g" % x)
                                     for i, x in enumerate(embed_passage(a.embed, D=a.dim)) if x}},
                         ensure_ascii=False))
        return 0
    if a.list:
        for n, f in EXPERIMENTS.items():
            print("%-12s %s" % (n, (f.__doc__ or "").strip().split("\n")[0]))
        return 0
    names = a.experiments or ["recommended"]
    for n in names:
        if n not in EXPERIMENTS:
            ap.error("no experiment %r (see --list)" % n)
    B = Bench(a.data)
    for n in names:
        t0 = time.time()
        EXPERIMENTS[n](B)
        log("%s: %.0fs" % (n, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
