#!/usr/bin/env python3
"""bench/cleancount.py - count what PDF cleaning left in rag-split's chunks.

usage: bench/cleancount.py [-v] FILE.jsonl...   (rag-split output; '-' = stdin)

Prints one line per source and a total, each with four counts:
  leaders   table-of-contents or index leaders left in the text: dots (spaced
            or not), middle dots, ellipses or U+22EF followed by a page number
  headers   running heads and feet left in the text: a short line (at most 80
            characters, with a letter, a number at one end) found, digits
            aside, on four or more pages of the same source with three or more
            different numbers ("1.2 Basics 3", "Debian Reference 32 / 233";
            not "Chapter 3" alone); and a section title glued after a
            sentence's end ("...了解。第一章 简介" and a paragraph end)
  cjkcuts   a CJK letter, a paragraph break, a CJK letter (cjkcuts/long: the
            same where the paragraph before is longer than 25 characters, so
            not a heading)
  alone     chunks that are a heading alone: one line, at most 80 characters,
            no sentence end, the chunk's title or a numbered heading
            When mutool is found and the source PDF is there, the top and
            bottom lines of its pages whose shape (digits aside) comes back on
            three or more pages are counted too wherever a chunk of that page
            holds them, glued into a paragraph or not; without the page
            number at their end, where glued to the text on the same line.
-v also prints up to 5 examples of each.
Only the Python standard library is used.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

LEADER = re.compile(r'(?:(?:\.\s?){4,}|(?:[·・∙•]\s?){3,}|(?:…\s?){2,}|(?:⋯\s?){2,}|…)\s*'
                    r'(?:\d{1,4}|[ivxlcdm]{1,6})\b', re.I)
CJK = '\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff\uf900-\ufaff'
CJKCUT = re.compile('([^\n]*[' + CJK + '])\n\n(?=[' + CJK + '])')
NUMBERED = re.compile(r'^(?:§\s?)?(?:\d+|[A-Z])(?:\.\d+)*\.?\s+\S|^第\s*\S{1,4}\s*[章节部篇]|^(?:Chapter|Appendix|Part)\s',
                      re.I)
SENT_END = '.!?:;。！？；：'
GLUED = re.compile('[' + re.escape(SENT_END) + r'] ?([^\n.!?:;。！？；：]{4,80})(?=\n\n|$)')
EDGE_NUM = re.compile(r'^\S*\d\S*\s|\s\S*\d\S*$')
BARE_HEADING = re.compile(r'^(?:chapter|part|appendix|section|table|figure|第) ?#\S*$')


def page_edges(path):
    """The top and bottom printed lines of each page of a PDF, as mutool
    reads them (pieces on one baseline of a block joined): {page: [top, bottom]}."""
    out = {}
    try:
        x = subprocess.run(['mutool', 'draw', '-q', '-F', 'stext', '-o', '-', path],
                           capture_output=True, check=True).stdout
        root = ET.fromstring(x)
    except (OSError, subprocess.CalledProcessError, ET.ParseError):
        return out
    for no, pg in enumerate(root.iter('page'), 1):
        rows = []
        for b in pg.iter('block'):
            for ln in b.iter('line'):
                y = float(ln.get('bbox').split()[3])
                t = ''.join(c.get('c', '') for c in ln.iter('char'))
                if rows and rows[-1][0] is b and abs(rows[-1][1] - y) < 3:
                    rows[-1][2] += ' ' + t
                else:
                    rows.append([b, y, t])
        rows = [' '.join(r[2].split()) for r in rows if r[2].strip()]
        if rows:
            out[no] = [rows[0], rows[-1]]
    return out


def running_heads(path):
    """{page: [header strings]}: the top or bottom line of a page whose shape
    (digits masked) comes back on three or more pages, with a letter in it."""
    edges = page_edges(path)
    seen = collections.Counter()
    for ends in edges.values():
        for side, t in enumerate(ends):
            seen[(side, mask(t))] += 1
    heads = {}
    for no, ends in edges.items():
        heads[no] = [t for side, t in enumerate(ends)
                     if seen[(side, mask(t))] >= 3 and len(t) >= 6 and re.search(r'[^\W\d_]', t)]
    return heads


STRIP_NUM = re.compile(r'^(?:\d+|[ivxlcdm]+)\s+|\s+(?:\d+|[ivxlcdm]+)$', re.I)


def mask(s):
    return re.sub(r'\d+', '#', re.sub(r'\s+', ' ', s.strip().lower()))


def main(argv):
    verbose = '-v' in argv
    use_pdf = shutil.which('mutool') is not None
    files = [a for a in argv if a != '-v'] or ['-']
    chunks = collections.defaultdict(list)
    order = []
    for f in files:
        fh = sys.stdin if f == '-' else open(f, encoding='utf-8')
        for line in fh:
            line = line.strip()
            if not line:
                continue
            c = json.loads(line)
            src = c.get('source', f)
            if src not in chunks:
                order.append(src)
            chunks[src].append(c)
    total = collections.Counter()
    print('| source | chunks | leaders | headers | cjkcuts | cjkcuts/long | alone |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for src in order:
        cs = chunks[src]
        n = collections.Counter()
        ex = collections.defaultdict(list)
        titles = {c['title'] for c in cs if c.get('title')}
        # short lines and the pages they are on
        pages = collections.defaultdict(set)
        numbers = collections.defaultdict(set)
        for c in cs:
            for ln in c['text'].split('\n'):
                if 0 < len(ln.strip()) <= 80:
                    pages[mask(ln)].add(c.get('page', 0))
                    numbers[mask(ln)].add(tuple(re.findall(r'\d+', ln)))
        heads = running_heads(src) if use_pdf and os.path.exists(src) else {}
        for c in cs:
            t = c['text']
            flat = ' '.join(t.split())
            for pg in range(c.get('page', 0), c.get('page_end', 0) + 1):
                for h in heads.get(pg, ()):
                    core = STRIP_NUM.sub('', h)
                    if h in flat:
                        n['headers'] += 1
                        ex['headers'].append(h)
                    elif len(core) >= 4 and re.search('[^\n]' + re.escape(core) + '|' + re.escape(core) + '[^\n]', t):
                        # without its page number, glued to the text around it
                        n['headers'] += 1
                        ex['headers'].append(core)
            for m in LEADER.finditer(t):
                n['leaders'] += 1
                ex['leaders'].append(t[max(0, m.start() - 40):m.end()])
            for ln in t.split('\n'):
                k = mask(ln)
                if not k or not re.search(r'[^\W\d_]', ln):
                    continue
                if len(pages.get(k, ())) >= 4 and len(numbers[k]) >= 3 and EDGE_NUM.search(ln) \
                        and not BARE_HEADING.match(k):
                    n['headers'] += 1
                    ex['headers'].append(ln)
            for m in GLUED.finditer(t):
                if len(m.group(1)) >= 4 and m.group(1) in titles:
                    n['headers'] += 1
                    ex['headers'].append(t[max(0, m.start() - 20):m.end()])
            for m in CJKCUT.finditer(t):
                n['cjkcuts'] += 1
                para = m.group(1).split('\n\n')[-1]
                if len(para) > 25:
                    n['cjkcuts/long'] += 1
                    ex['cjkcuts/long'].append(t[max(0, m.end() - 30):m.end() + 20])
            s = t.strip()
            if '\n' not in s and len(s) <= 80 and s[-1:] not in SENT_END \
                    and (s == (c.get('title') or '') or NUMBERED.search(s)):
                n['alone'] += 1
                ex['alone'].append(s)
        total.update(n)
        total['chunks'] += len(cs)
        print('| %s | %d | %d | %d | %d | %d | %d |' % (src.split('/')[-1], len(cs), n['leaders'], n['headers'],
                                                       n['cjkcuts'], n['cjkcuts/long'], n['alone']))
        if verbose:
            for k in ('leaders', 'headers', 'cjkcuts/long', 'alone'):
                for e in ex[k][:5]:
                    print('    %s: %r' % (k, e), file=sys.stderr)
    print('| all | %d | %d | %d | %d | %d | %d |' % (total['chunks'], total['leaders'], total['headers'],
                                                     total['cjkcuts'], total['cjkcuts/long'], total['alone']))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
