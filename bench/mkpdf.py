#!/usr/bin/env python3
"""mkpdf.py - write a deterministic, book-like PDF for the ragpipe benchmarks.

usage: python3 bench/mkpdf.py -p PAGES [-s SEED] [--lang mixed|en|zh] [--no-compress] -o OUT.pdf

The book has exactly PAGES pages (6 x 9 in): a title page, a preface, a table
of contents with dot leaders, then chapters made of sections and subsections
of justified body text (Times 10.5 pt), occasional code listings (Courier),
figures (vector boxes and arrows with labels and a caption) and words
hyphenated across line ends.  Every page but the chapter openings has a
running header (book title on even pages, chapter title on odd ones) under a
rule, and a page number in the footer; the front matter is numbered i, ii, ...
and carries /PageLabels.  The outline (bookmarks) has chapters, sections and
subsections.  With --lang mixed (the default) every fourth chapter is in
Chinese (non-embedded Adobe-GB1 font STSong-Light, UniGB-UTF16-H, which
mupdf extracts as text), with Latin terms in Times.

Pages hold about 2-3 KB of extractable text.  The same arguments always give
the same bytes (Python's random.Random with a fixed seed; no timestamps).
Only the Python 3 standard library is used.
"""

import argparse
import random
import sys
import zlib

# ---------------------------------------------------------------------------
# Font metrics: advance widths (1/1000 em) of ASCII 32..126 and a few WinAnsi
# extras, as mupdf's built-in base-14 fonts report them
# (mutool run: new Font(name).advanceGlyph(...)).

_ASCII = {
    "Times-Roman": "250,333,408,500,500,833,778,180,333,333,500,564,250,333,250,278,500,500,500,500,500,500,500,500,500,500,278,278,564,564,564,444,921,722,667,667,722,611,556,722,722,333,389,722,611,889,722,722,556,722,667,556,611,722,722,944,722,722,611,333,278,333,469,500,333,444,500,444,500,444,333,500,500,278,278,500,278,778,500,500,500,500,333,389,278,500,500,722,500,500,444,480,200,480,541",
    "Times-Italic": "250,333,420,500,500,833,778,214,333,333,500,675,250,333,250,278,500,500,500,500,500,500,500,500,500,500,333,333,675,675,675,500,920,611,611,667,722,611,611,722,722,333,444,667,556,833,667,722,611,722,611,500,556,722,611,833,611,556,556,389,278,389,422,500,333,500,500,444,500,444,278,500,500,278,278,444,278,722,500,500,500,500,389,389,278,500,444,667,444,444,389,400,275,400,541",
    "Times-Bold": "250,333,555,500,500,1000,833,278,333,333,500,570,250,333,250,278,500,500,500,500,500,500,500,500,500,500,333,333,570,570,570,500,930,722,667,722,722,667,611,778,778,389,500,778,667,944,722,778,611,778,722,556,667,722,722,1000,722,722,667,333,278,333,581,500,333,500,556,444,556,444,333,500,556,278,333,556,278,833,556,500,556,556,444,389,333,556,500,722,500,500,444,394,220,394,520",
    "Helvetica-Bold": "278,333,474,556,556,889,722,238,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,333,333,584,584,584,611,975,722,722,722,722,667,611,778,722,278,556,722,611,833,722,778,667,778,722,667,611,722,667,944,667,667,611,333,278,333,584,556,333,556,611,556,611,556,333,611,611,278,278,556,278,889,611,611,611,611,389,556,333,611,556,778,556,556,500,389,280,389,584",
    "Helvetica": "278,278,355,556,556,889,667,191,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,278,278,584,584,584,556,1015,667,667,722,722,667,611,778,722,278,500,667,556,833,722,778,667,778,722,667,611,722,667,944,667,667,611,278,278,278,469,556,333,556,556,500,556,556,278,556,556,222,222,500,222,833,556,556,556,556,333,500,278,556,500,722,500,500,500,334,260,334,584",
}
# WinAnsi extras: U+2019 U+201C U+201D U+2013 U+2014 U+00E9
_EXTRA_CODES = {"\u2019": 0x92, "\u201c": 0x93, "\u201d": 0x94,
                "\u2013": 0x96, "\u2014": 0x97, "\u00e9": 0xE9}
_EXTRA = {
    "Times-Roman": "333,444,444,500,1000,444",
    "Times-Italic": "333,556,556,500,889,444",
    "Times-Bold": "333,500,500,500,1000,444",
    "Helvetica-Bold": "278,500,500,556,1000,556",
    "Helvetica": "222,333,333,556,1000,556",
}

WIDTHS = {}
for _name, _s in _ASCII.items():
    _w = {chr(32 + i): int(v) for i, v in enumerate(_s.split(","))}
    for _ch, _v in zip(_EXTRA_CODES, _EXTRA[_name].split(",")):
        _w[_ch] = int(_v)
    WIDTHS[_name] = _w
WIDTHS["Courier"] = {chr(c): 600 for c in range(32, 127)}
WIDTHS["Courier"].update({ch: 600 for ch in _EXTRA_CODES})

# Resource names of the fonts.
FONTS = [("F1", "Times-Roman"), ("F2", "Times-Italic"), ("F3", "Times-Bold"),
         ("F4", "Helvetica-Bold"), ("F5", "Helvetica"), ("F6", "Courier")]
FONT_RES = {base: res for res, base in FONTS}
CJK_RES = "F7"


def is_cjk(ch):
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF


def char_width(ch, font, size):
    if is_cjk(ch):
        return size  # Adobe-GB1 full-width glyphs: 1000 units (default /DW)
    return WIDTHS[font].get(ch, 500) * size / 1000.0


def text_width(s, font, size):
    return sum(char_width(c, font, size) for c in s)


def pdf_latin(s):
    out = bytearray(b"(")
    for ch in s:
        if ch in _EXTRA_CODES:
            b = _EXTRA_CODES[ch]
        else:
            b = ord(ch)
            if b > 126 or b < 32:
                b = ord("?")
        if b in (0x28, 0x29, 0x5C):
            out += b"\\"
        out.append(b)
    out += b")"
    return bytes(out)


def pdf_cjk(s):
    return b"<" + s.encode("utf-16-be").hex().encode() + b">"


def runs(s):
    """Split s into (is_cjk, text) runs."""
    out = []
    for ch in s:
        c = is_cjk(ch)
        if out and out[-1][0] == c:
            out[-1][1].append(ch)
        else:
            out.append((c, [ch]))
    return [(c, "".join(t)) for c, t in out]


def show(s, font, size):
    """Content-stream operators that show s (mixed Latin/CJK) from the current point."""
    ops = []
    for c, t in runs(s):
        if c:
            ops.append(b"/%s %s Tf %s Tj" % (CJK_RES.encode(), num(size), pdf_cjk(t)))
        else:
            ops.append(b"/%s %s Tf %s Tj" % (FONT_RES[font].encode(), num(size), pdf_latin(t)))
    return b" ".join(ops)


def num(x):
    if isinstance(x, int):
        return str(x).encode()
    s = ("%.3f" % x).rstrip("0").rstrip(".")
    return (s if s not in ("-0", "") else "0").encode()


# ---------------------------------------------------------------------------
# Text generation.

EN = {
    "noun": """model network layer gradient parameter function kernel matrix vector
        tensor dataset sample feature label loss optimizer batch channel filter image
        sequence token encoder decoder attention embedding weight bias activation
        estimate error variance distribution probability signal memory cache
        processor compiler library interface protocol archive record document chapter
        river mountain village harbour garden winter journey traveller merchant lantern
        letter window bridge market history theory experiment method result argument
        question answer evidence pattern structure system process algorithm procedure
        boundary surface region interval threshold schedule budget committee council
        machine engine circuit pipeline buffer stream queue graph tree node edge path
        reader author teacher student language grammar sentence paragraph meaning
        principle assumption hypothesis observation measurement instrument benchmark
        resolution convolution pooling normalization regularization initialization""".split(),
    "adj": """deep shallow simple complex efficient careful robust fragile linear
        nonlinear sparse dense large small recent ancient modern classical narrow broad
        important subtle obvious hidden visible early late quiet noisy stable unstable
        uniform random discrete continuous finite infinite local global partial complete
        elegant clumsy practical theoretical reliable expensive cheap familiar curious
        remarkable ordinary particular general specific useful careless patient""".split(),
    "verb": [("computes", "compute"), ("reduces", "reduce"), ("improves", "improve"),
             ("describes", "describe"), ("requires", "require"), ("produces", "produce"),
             ("transforms", "transform"), ("combines", "combine"), ("separates", "separate"),
             ("measures", "measure"), ("predicts", "predict"), ("explains", "explain"),
             ("stores", "store"), ("replaces", "replace"), ("follows", "follow"),
             ("contains", "contain"), ("suggests", "suggest"), ("reveals", "reveal"),
             ("approximates", "approximate"), ("updates", "update"), ("limits", "limit"),
             ("connects", "connect"), ("generalizes", "generalize"), ("captures", "capture"),
             ("encodes", "encode"), ("ignores", "ignore"), ("resembles", "resemble"),
             ("supports", "support"), ("constrains", "constrain"), ("illustrates", "illustrate")],
    "adv": """quickly slowly carefully rarely often usually gradually simply directly
        roughly exactly naturally surprisingly consistently efficiently""".split(),
    "prep": "of in on for with from through across under between within without beyond".split(),
    "det": ["the", "the", "the", "a", "each", "every", "this", "that", "our", "any"],
    "conn": ["However,", "In practice,", "As a result,", "For example,", "Moreover,",
             "In other words,", "On the other hand,", "Consequently,", "Historically,",
             "To see why,", "Put differently,", "In the next section,", "Fortunately,"],
    "sub": ["because", "although", "while", "unless", "since", "whenever", "so that"],
    "name": ["Euler", "Gauss", "Lovelace", "Turing", "Shannon", "Hopper", "Noether",
             "Fourier", "Bayes", "Markov", "Hinton", "LeCun", "Vapnik", "Kolmogorov"],
    "term": ["ResNet", "DenseNet", "LeNet", "AlexNet", "softmax", "ReLU", "dropout",
             "SGD", "Adam", "GPU", "CUDA", "ImageNet", "MNIST", "LSTM", "GRU",
             "Transformer", "BERT", "word2vec", "NumPy", "PyTorch"],
}

ZH = {
    "noun": """模型 网络 层 梯度 参数 函数 卷积核 矩阵 向量 张量 数据集 样本 特征 标签
        损失 优化器 批量 通道 图像 序列 词元 编码器 解码器 注意力 权重 偏置 激活函数
        分布 概率 信号 内存 算法 方法 结果 问题 答案 结构 系统 过程 边界 区域 阈值
        语言 句子 段落 含义 原理 假设 观测 实验 训练集 测试集 验证集 学习率 误差""".split(),
    "adj": """深层 浅层 简单 复杂 高效 稳健 线性 非线性 稀疏 稠密 大型 小型 现代 经典
        重要 微妙 明显 隐藏 稳定 均匀 随机 离散 连续 局部 全局 实用 可靠 昂贵""".split(),
    "verb": """计算 减少 提高 描述 需要 产生 变换 组合 分离 测量 预测 解释 存储 替换
        包含 表明 揭示 近似 更新 限制 连接 泛化 捕获 编码 忽略 支持 约束 说明""".split(),
    "adv": "很快地 逐渐 直接 大致 准确地 自然地 经常 通常 始终 有效地".split(),
    "conn": ["然而，", "在实践中，", "因此，", "例如，", "此外，", "换句话说，", "另一方面，",
             "从历史上看，", "为了理解这一点，", "幸运的是，", "在下一节中，"],
    "sub": ["因为", "虽然", "尽管", "只要", "由于", "如果"],
}

CODE = [
    "import torch",
    "from torch import nn",
    "def {f}({a}, {b}):",
    "    {a} = {a}.reshape(-1, {n})",
    "    return torch.cat(({a}, {b}), dim=1)",
    "net = nn.Sequential(nn.Conv2d({n}, {m}, kernel_size=3, padding=1),",
    "                    nn.BatchNorm2d({m}), nn.ReLU())",
    "for epoch in range({n}):",
    "    loss = loss_fn(net(X), y)",
    "    optimizer.zero_grad(); loss.backward(); optimizer.step()",
    "print(f'epoch {{epoch + 1}}, loss {{float(loss):f}}')",
    "X = torch.randn(({n}, {m}, 32, 32))",
    "{f}({a}, {b}).shape  # torch.Size([{n}, {m}])",
]


def cap(s):
    return s[:1].upper() + s[1:]


def plural(w):
    if w.endswith("y") and w[-2:-1] not in "aeiou":
        return w[:-1] + "ies"
    if w.endswith(("s", "x", "ch", "sh")):
        return w + "es"
    return w + "s"


def article(words):
    return [("an" if w == "a" and k + 1 < len(words) and words[k + 1][0] in "aeio" else w)
            for k, w in enumerate(words)]


class Gen:
    def __init__(self, rng):
        self.r = rng

    def np_en(self):
        r = self.r
        parts = [r.choice(EN["det"])]
        if r.random() < 0.55:
            parts.append(r.choice(EN["adj"]))
        parts.append(r.choice(EN["noun"]))
        if r.random() < 0.25:
            parts += [r.choice(EN["prep"]), r.choice(["the", "a", "its"]),
                      r.choice(EN["noun"])]
        return " ".join(article(parts))

    def clause_en(self):
        r = self.r
        subj = self.np_en()
        v3, v = r.choice(EN["verb"])
        x = r.random()
        if x < 0.15:
            pred = "%s %s" % (r.choice(["can", "should", "must", "will", "may"]), v)
        elif x < 0.25:
            pred = "%s %s" % (r.choice(EN["adv"]), v3)
        else:
            pred = v3
        s = "%s %s %s" % (subj, pred, self.np_en())
        y = r.random()
        if y < 0.12:
            s += " (see %s %d.%d)" % (r.choice(["Section", "Figure", "Table", "Chapter"]),
                                      r.randint(1, 30), r.randint(1, 9))
        elif y < 0.22:
            s += ", as %s %s" % (r.choice(EN["name"]), r.choice(["observed", "noted", "argued", "showed"]))
        elif y < 0.32:
            s += " %s %s" % (r.choice(EN["prep"]), self.np_en())
        elif y < 0.38:
            s += " in %d%% of the %d cases" % (r.randint(2, 99), r.randint(10, 5000))
        elif y < 0.44:
            s += " \u2014 the %s %s" % (r.choice(EN["term"]), r.choice(EN["noun"]))
        return s

    def sentence_en(self):
        r = self.r
        x = r.random()
        if x < 0.15:
            s = "%s %s" % (r.choice(EN["conn"]), self.clause_en())
        elif x < 0.30:
            s = "%s, %s %s" % (cap(self.clause_en()), r.choice(EN["sub"]), self.clause_en())
        elif x < 0.38:
            s = "%s; %s" % (cap(self.clause_en()), self.clause_en())
        elif x < 0.44:
            s = "Why does %s %s %s" % (self.np_en(), r.choice(EN["verb"])[1], self.np_en())
            return s + "?"
        elif x < 0.50:
            s = "The %s %s is \u201c%s\u201d" % (r.choice(EN["term"]), r.choice(EN["noun"]),
                                            self.np_en())
        elif x < 0.54:
            s = "It\u2019s %s to %s %s" % (r.choice(EN["adj"]), r.choice(EN["verb"])[1], self.np_en())
        else:
            s = cap(self.clause_en())
        return cap(s) + r.choice([".", ".", ".", ".", ".", "!"] if r.random() < 0.05 else ["."])

    def paragraph_en(self):
        return " ".join(self.sentence_en() for _ in range(self.r.randint(3, 8)))

    def title_en(self):
        r = self.r
        a, n, n2 = cap(r.choice(EN["adj"])), cap(r.choice(EN["noun"])), cap(r.choice(EN["noun"]))
        return r.choice(["%s %s" % (a, plural(n)), "%s and %s" % (n, n2), "The %s %s" % (a, n),
                         "%s %s" % (r.choice(EN["term"]), n), "On %s %s" % (a, plural(n)),
                         "%s %s %s" % (a, n, n2)])

    def np_zh(self):
        r = self.r
        s = ""
        if r.random() < 0.5:
            s += r.choice(ZH["adj"]) + "的"
        if r.random() < 0.15:
            s += " %s " % r.choice(EN["term"])
        s += r.choice(ZH["noun"])
        return s.strip()

    def clause_zh(self):
        r = self.r
        s = self.np_zh()
        if r.random() < 0.3:
            s += r.choice(ZH["adv"])
        s += r.choice(ZH["verb"]) + self.np_zh()
        if r.random() < 0.2:
            s += "（见第%d.%d节）" % (r.randint(1, 30), r.randint(1, 9))
        return s

    def sentence_zh(self):
        r = self.r
        x = r.random()
        if x < 0.25:
            s = r.choice(ZH["conn"]) + self.clause_zh()
        elif x < 0.45:
            s = r.choice(ZH["sub"]) + self.clause_zh() + "，" + self.clause_zh()
        elif x < 0.55:
            s = self.clause_zh() + "；" + self.clause_zh()
        elif x < 0.62:
            return "为什么" + self.clause_zh() + "？"
        elif x < 0.68:
            return "“%s”是%s。" % (self.np_zh(), self.clause_zh())
        else:
            s = self.clause_zh() + "，" + self.clause_zh()
        return s + "。"

    def paragraph_zh(self):
        return "".join(self.sentence_zh() for _ in range(self.r.randint(3, 7)))

    def title_zh(self):
        r = self.r
        t = r.choice([r.choice(ZH["adj"]) + r.choice(ZH["noun"]),
                      r.choice(ZH["noun"]) + "与" + r.choice(ZH["noun"]),
                      "%s%s（%s）" % (r.choice(ZH["adj"]), r.choice(ZH["noun"]), r.choice(EN["term"]))])
        return t

    def code(self):
        r = self.r
        n = r.randint(3, 8)
        start = r.randint(0, len(CODE) - 1)
        f = r.choice(["conv_block", "transition", "train_epoch", "evaluate", "init_weights"])
        return [CODE[(start + i) % len(CODE)].format(
            f=f, a=r.choice(["X", "x", "inputs", "Y"]), b=r.choice(["Y", "h", "state"]),
            n=r.choice([1, 2, 4, 16, 64, 96, 128]), m=r.choice([3, 10, 32, 256])) for i in range(n)]


# ---------------------------------------------------------------------------
# Layout.

PAGE_W, PAGE_H = 432, 648          # 6 x 9 in
LEFT, RIGHT = 54, 378              # text block 324 pt wide
TOP = 582                          # first body baseline
BOTTOM = 62                        # lowest body baseline
HEAD_Y, FOOT_Y = 612, 38
BODY = ("Times-Roman", 10.5, 13.0)
OPEN_PUNCT = "（“‘《「『"
CLOSE_PUNCT = "，。！？；：、）”’》」』"


def tokens(text):
    """Break opportunities: Latin words (with trailing spaces) and single CJK chars."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            if out:
                out[-1] = (out[-1][0], out[-1][1] + " ")
            i += 1
        elif is_cjk(ch):
            out.append(("c", ch))
            i += 1
        else:
            j = i
            while j < n and text[j] != " " and not is_cjk(text[j]):
                j += 1
            out.append(("w", text[i:j]))
            i = j
    return out


def break_lines(text, font, size, width, rng, indent=0.0):
    """Greedy line breaking with occasional hyphenation; returns [(text, natural_width)]."""
    toks = tokens(text)
    lines, cur, curw = [], "", indent
    avail = width

    def flush():
        nonlocal cur, curw
        s = cur.rstrip(" ")
        lines.append(s)
        cur, curw = "", 0.0

    k = 0
    while k < len(toks):
        kind, t = toks[k]
        core = t.rstrip(" ")
        w = text_width(core, font, size)
        if curw + w <= avail or not cur:
            # keep closing punctuation with the previous character
            cur += t
            curw += text_width(t, font, size)
            k += 1
            continue
        if kind == "c" and core in CLOSE_PUNCT:
            cur += t
            curw += w
            k += 1
            flush()
            continue
        if kind == "w" and len(core) >= 7 and core.isalpha() and core.islower() and rng.random() < 0.7:
            room = avail - curw - text_width("-", font, size)
            cut = 0
            for c in range(3, len(core) - 2):
                if text_width(core[:c], font, size) <= room:
                    cut = c
            if cut:
                cur += core[:cut] + "-"
                toks[k] = ("w", core[cut:] + t[len(core):])
                flush()
                continue
        if cur and cur[-1] in OPEN_PUNCT:
            # an opening bracket never ends a line
            last = cur[-1]
            cur = cur[:-1]
            flush()
            cur, curw = last, text_width(last, font, size)
            continue
        flush()
    if cur:
        flush()
    return [(s, text_width(s, font, size)) for s in lines]


class Page:
    def __init__(self, kind):
        self.kind = kind          # "title", "front", "toc", "body"
        self.ops = []
        self.opening = False      # chapter opening page (no running header)
        self.chapter = None       # running-header text


class Book:
    def __init__(self, seed, lang, body_pages):
        self.rng = random.Random(seed)
        self.gen = Gen(self.rng)
        self.lang = lang
        self.target = body_pages
        self.pages = []
        self.y = TOP
        self.entries = []         # (level, title, body page index, y)
        self.tc = 0.0
        self.tw = 0.0
        self.full = False

    # -- primitives ---------------------------------------------------------
    def new_page(self):
        if len(self.pages) >= self.target:
            self.full = True
            return False
        p = Page("body")
        p.chapter = self.chapter_header
        self.pages.append(p)
        self.y = TOP
        self.tw = self.tc = 0.0     # each content stream starts with a fresh text state
        return True

    def need(self, h):
        if not self.pages or self.y - h < BOTTOM:
            return self.new_page()
        return True

    def emit(self, op):
        self.pages[-1].ops.append(op)

    def text_line(self, x, y, s, font, size, tw=0.0, tc=0.0):
        ops = b"BT "
        if abs(tw - self.tw) > 1e-4:
            ops += num(tw) + b" Tw "
            self.tw = tw
        if abs(tc - self.tc) > 1e-4:
            ops += num(tc) + b" Tc "
            self.tc = tc
        ops += b"%s %s Td %s ET" % (num(x), num(y), show(s, font, size))
        self.emit(ops)

    def paragraph(self, text, font=BODY[0], size=BODY[1], lead=BODY[2], indent=None, skip=4.0):
        # English paragraphs are set flush left with a 4 pt skip (technical-book style);
        # Chinese ones get the customary 2 em first-line indent.
        if indent is None:
            indent = 2 * size if any(is_cjk(c) for c in text[:8]) else 0.0
        lines = break_lines(text, font, size, RIGHT - LEFT, self.rng, indent)
        for i, (s, w) in enumerate(lines):
            if not self.need(lead):
                return
            x = LEFT + (indent if i == 0 else 0.0)
            avail = RIGHT - x
            tw = tc = 0.0
            if i < len(lines) - 1:
                slack = avail - w
                if any(is_cjk(c) for c in s):
                    if len(s) > 1 and 0 < slack < size:
                        tc = slack / (len(s) - 1)
                else:
                    sp = s.count(" ")
                    if sp and 0 < slack < 3 * size:
                        tw = slack / sp
            self.text_line(x, self.y, s, font, size, tw, tc)
            self.y -= lead
        self.y -= skip

    def heading(self, level, title):
        sizes = {0: ("Helvetica-Bold", 17.0, 40.0), 1: ("Helvetica-Bold", 12.0, 26.0),
                 2: ("Times-Bold", 11.0, 20.0)}
        font, size, h = sizes[level]
        if level == 0:
            if not self.new_page():
                return
            self.pages[-1].opening = True
            self.y = TOP - 40
        elif not self.need(h + 3 * BODY[2]):
            return
        else:
            self.y -= h - size
        if self.full:
            return
        self.entries.append((level, title, len(self.pages) - 1, self.y + size + 2))
        self.text_line(LEFT, self.y, title, font, size)
        self.y -= size + (30 if level == 0 else 8)

    def code(self, lines):
        h = len(lines) * 11.0 + 8
        if not self.need(h + 6):
            return
        top = self.y + 9
        self.emit(b"q 0.93 g %s %s %s %s re f Q" % (num(LEFT), num(top - h), num(RIGHT - LEFT), num(h)))
        y = self.y - 2
        for s in lines:
            self.text_line(LEFT + 6, y, s, "Courier", 8.5)
            y -= 11.0
        self.y = top - h - 14

    def figure(self, caption, labels):
        h = 118.0
        if not self.need(h):
            return
        top = self.y + 6
        n = len(labels)
        bw, gap = 62.0, (RIGHT - LEFT - len(labels) * 62.0) / (n - 1)
        ops = [b"q 0.6 w 0.2 G"]
        for i, lab in enumerate(labels):
            x = LEFT + i * (bw + gap)
            ops.append(b"%s %s %s %s re S" % (num(x), num(top - 62), num(bw), num(36)))
            if i:
                ops.append(b"%s %s m %s %s l S" % (num(x - gap), num(top - 44), num(x), num(top - 44)))
                ops.append(b"%s %s m %s %s l %s %s l f" % (num(x), num(top - 44), num(x - 5),
                                                           num(top - 41), num(x - 5), num(top - 47)))
        ops.append(b"Q")
        self.emit(b" ".join(ops))
        for i, lab in enumerate(labels):
            x = LEFT + i * (bw + gap)
            self.text_line(x + (bw - text_width(lab, "Helvetica", 8)) / 2, top - 47, lab, "Helvetica", 8)
        self.y = top - 82
        for s, w in break_lines(caption, "Times-Italic", 9, RIGHT - LEFT, self.rng):
            self.text_line(LEFT + max(0.0, (RIGHT - LEFT - w) / 2), self.y, s, "Times-Italic", 9)
            self.y -= 11
        self.y -= 12

    # -- content ------------------------------------------------------------
    def build(self):
        g, r = self.gen, self.rng
        self.chapter_header = None
        ch = 0
        while not self.full:
            ch += 1
            zh = self.lang == "zh" or (self.lang == "mixed" and ch % 4 == 0)
            title = g.title_zh() if zh else g.title_en()
            full = ("第%d章 %s" % (ch, title)) if zh else ("%d  %s" % (ch, title))
            self.chapter_header = ("第%d章 %s" % (ch, title)) if zh else ("Chapter %d  %s" % (ch, title))
            self.heading(0, full)
            para = g.paragraph_zh if zh else g.paragraph_en
            for _ in range(r.randint(1, 2)):
                self.paragraph(para())
            for sec in range(1, r.randint(3, 7) + 1):
                if self.full:
                    break
                st = g.title_zh() if zh else g.title_en()
                self.heading(1, "%d.%d %s" % (ch, sec, st))
                nsub = r.choice([0, 0, 2, 3])
                for sub in range(0, nsub + 1):
                    if sub:
                        st = g.title_zh() if zh else g.title_en()
                        self.heading(2, "%d.%d.%d %s" % (ch, sec, sub, st))
                    for _ in range(r.randint(4, 10) if not nsub else r.randint(3, 6)):
                        if self.full:
                            break
                        x = r.random()
                        if x < 0.06:
                            self.code(g.code())
                        elif x < 0.10:
                            fig = "%d.%d" % (ch, r.randint(1, 9))
                            cap_ = (("图%s %s" % (fig, g.sentence_zh())) if zh else
                                    ("Figure %s: %s" % (fig, g.sentence_en())))
                            self.figure(cap_, r.sample(["input", "conv", "pool", "dense", "softmax",
                                                        "norm", "ReLU", "output"], r.randint(3, 5)))
                        self.paragraph(para())


def roman(n):
    vals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
            (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    s = ""
    for v, t in vals:
        while n >= v:
            s += t
            n -= v
    return s


TOC_LEAD = 13.0
TOC_LINES = int((TOP - BOTTOM) / TOC_LEAD) - 3


def make_book(pages, seed, lang):
    """Return (front_pages, body, title) with exactly `pages` pages in all."""
    title = "Patterns of %s Learning" % cap(random.Random(seed).choice(EN["adj"]))
    if pages < 6:
        b = Book(seed, lang, pages)
        b.build()
        return [], b, title
    toc = max(1, pages * 3 // 10 // TOC_LINES)
    while True:
        b = Book(seed, lang, pages - 2 - toc)
        b.build()
        need = max(1, -(-len(b.entries) // TOC_LINES))
        if need <= toc:
            break
        toc = need
    front = toc + 2 - need          # title page + preface pages, then the contents
    return front_matter(seed, lang, title, front, need, b), b, title


def front_matter(seed, lang, title, n_pre, n_toc, body):
    rng = random.Random(seed + 1)
    g = Gen(rng)
    out = []
    p = Page("title")
    y = 430
    for s, font, size in ((title, "Helvetica-Bold", 22), ("A Synthetic Textbook", "Times-Italic", 14),
                          ("深度学习的模式", "Times-Roman", 14), ("ragpipe benchmark edition", "Times-Roman", 11)):
        w = text_width(s, font, size)
        p.ops.append(b"BT %s %s Td %s ET" % (num((PAGE_W - w) / 2), num(y), show(s, font, size)))
        y -= size * 2.2
    out.append(p)
    # preface: reuse the body paragraph machinery on a throwaway book
    pb = Book(seed + 2, "en", n_pre - 1)
    pb.chapter_header = "Preface"
    if n_pre > 1:
        pb.new_page()
        pb.pages[-1].opening = True
        pb.y = TOP - 40
        pb.text_line(LEFT, pb.y, "Preface", "Helvetica-Bold", 17)
        pb.y -= 47
        while not pb.full:
            pb.paragraph(g.paragraph_en() + ("" if lang == "en" else " " + g.paragraph_zh()))
    for q in pb.pages:
        q.kind = "front"
        out.append(q)
    # contents with dot leaders
    first_body = len(out) + n_toc
    lines = [(lv, t, pg) for lv, t, pg, _ in body.entries]
    for k in range(n_toc):
        p = Page("toc")
        p.chapter = "Contents"
        y = TOP
        if k == 0:
            p.opening = True
            p.ops.append(b"BT %s %s Td %s ET" % (num(LEFT), num(TOP - 40), show("Contents", "Helvetica-Bold", 17)))
            y = TOP - 40 - 30
        for lv, t, pg in lines[k * TOC_LINES:(k + 1) * TOC_LINES]:
            if y < BOTTOM:
                break
            font = "Times-Bold" if lv == 0 else "Times-Roman"
            x = LEFT + 12 * lv
            pn = str(pg + 1)
            pw = text_width(pn, font, 10)
            tw = text_width(t, font, 10)
            dots = ""
            dw = text_width(" .", "Times-Roman", 10)
            ndots = int((RIGHT - pw - 2 - (x + tw)) / dw)
            if ndots > 0:
                dots = " ." * ndots
            p.ops.append(b"BT %s %s Td %s %s ET" % (num(x), num(y), show(t, font, 10),
                                                   show(dots, "Times-Roman", 10)))
            p.ops.append(b"BT %s %s Td %s ET" % (num(RIGHT - pw), num(y), show(pn, font, 10)))
            y -= TOC_LEAD
        out.append(p)
    assert len(out) == first_body
    return out


# ---------------------------------------------------------------------------
# PDF writer.

class Writer:
    def __init__(self, compress):
        self.objs = {}
        self.n = 0
        self.compress = compress

    def alloc(self):
        self.n += 1
        return self.n

    def put(self, num_, body):
        self.objs[num_] = body

    def stream(self, num_, data, extra=b""):
        if self.compress:
            data = zlib.compress(data, 6)
            extra += b" /Filter /FlateDecode"
        self.objs[num_] = b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"

    def write(self, path, root, info):
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offs = {}
        for i in range(1, self.n + 1):
            offs[i] = len(out)
            out += b"%d 0 obj\n" % i + self.objs[i] + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (self.n + 1)
        for i in range(1, self.n + 1):
            out += b"%010d 00000 n \n" % offs[i]
        out += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
                % (self.n + 1, root, info, b"5261677069706542656e6368", b"5261677069706542656e6368", xref))
        with open(path, "wb") as f:
            f.write(out)


def pdf_text_string(s):
    try:
        b = s.encode("ascii")
        return b"(" + b.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    except UnicodeEncodeError:
        return b"<feff" + s.encode("utf-16-be").hex().encode() + b">"


def decorate(page, label, title, index):
    """Running header (not on openings) and the page number in the footer."""
    ops = []
    if page.kind in ("body", "front", "toc") and not page.opening:
        text = title if index % 2 == 0 else (page.chapter or title)
        w = text_width(text, "Times-Italic", 8.5)
        x = LEFT if index % 2 == 0 else RIGHT - w
        ops.append(b"BT %s %s Td %s ET" % (num(x), num(HEAD_Y), show(text, "Times-Italic", 8.5)))
        ops.append(b"q 0.4 w %s %s m %s %s l S Q" % (num(LEFT), num(HEAD_Y - 5), num(RIGHT), num(HEAD_Y - 5)))
    if page.kind != "title":
        w = text_width(label, "Times-Roman", 9)
        ops.append(b"BT 0 Tw 0 Tc %s %s Td %s ET" % (num((PAGE_W - w) / 2), num(FOOT_Y),
                                                     show(label, "Times-Roman", 9)))
    # header first, then the body, then the footer: the order real producers use
    return ops[:-1] + page.ops + ops[-1:] if page.kind != "title" else page.ops


def main():
    ap = argparse.ArgumentParser(description="write a deterministic book-like PDF")
    ap.add_argument("-p", "--pages", type=int, required=True)
    ap.add_argument("-s", "--seed", type=int, default=1)
    ap.add_argument("--lang", choices=["mixed", "en", "zh"], default="mixed")
    ap.add_argument("--no-compress", action="store_true")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    if a.pages < 1:
        ap.error("--pages must be >= 1")

    front, body, title = make_book(a.pages, a.seed, a.lang)
    allp = front + body.pages
    while len(allp) < a.pages:                       # only if the body ran dry (never in practice)
        allp.append(Page("body"))
    nfront = len(front)

    w = Writer(not a.no_compress)
    catalog, pages_root, info, outlines, res = (w.alloc() for _ in range(5))
    font_ids = []
    for res_name, base in FONTS:
        i = w.alloc()
        w.put(i, b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base.encode())
        font_ids.append((res_name, i))
    cjk, cidf, desc = w.alloc(), w.alloc(), w.alloc()
    w.put(cjk, b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
               b"/DescendantFonts [%d 0 R] >>" % cidf)
    w.put(cidf, b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
                b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
                b"/FontDescriptor %d 0 R /DW 1000 /W [1 95 500] >>" % desc)
    w.put(desc, b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
                b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    fonts = b" ".join(b"/%s %d 0 R" % (n.encode(), i) for n, i in font_ids) + b" /%s %d 0 R" % (CJK_RES.encode(), cjk)
    w.put(res, b"<< /Font << %s >> /ProcSet [/PDF /Text] >>" % fonts)

    page_ids = []
    for idx, p in enumerate(allp):
        pid, cid = w.alloc(), w.alloc()
        page_ids.append(pid)
        label = roman(idx + 1) if idx < nfront else str(idx - nfront + 1)
        data = b"\n".join(decorate(p, label, title, idx if idx < nfront else idx - nfront + 1)) + b"\n"
        w.stream(cid, data)
        p.pid, p.cid = pid, cid

    # balanced page tree, at most 16 kids per node
    parents = {}

    def tree(node, kids, parent):
        if len(kids) <= 16:
            groups = [[k] for k in kids]
        else:
            size = -(-len(kids) // 16)
            groups = [kids[k:k + size] for k in range(0, len(kids), size)]
        ids = []
        for grp in groups:
            if len(grp) == 1 and len(kids) <= 16:
                parents[grp[0]] = node
                ids.append(grp[0])
            else:
                sub = w.alloc()
                tree(sub, grp, node)
                ids.append(sub)
        w.put(node, b"<< /Type /Pages%s /Kids [%s] /Count %d >>" % (
            b" /Parent %d 0 R" % parent if parent else b"",
            b" ".join(b"%d 0 R" % k for k in ids), len(kids)))

    tree(pages_root, page_ids, 0)
    for p in allp:
        w.put(p.pid, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources %d 0 R /Contents %d 0 R >>"
              % (parents[p.pid], PAGE_W, PAGE_H, res, p.cid))

    # outline: chapters > sections > subsections
    stack = []      # open outline items: [id, level, title, page id, y, children]
    top = []
    for lv, t, pg, y in body.entries:
        node = [w.alloc(), lv, t, page_ids[nfront + pg], y, []]
        while stack and stack[-1][1] >= lv:
            stack.pop()
        (stack[-1][5] if stack else top).append(node)
        stack.append(node)

    def count(n):
        return len(n[5]) + sum(count(c) for c in n[5])

    def link(siblings, parent):
        for k, n in enumerate(siblings):
            d = b"<< /Title %s /Parent %d 0 R /Dest [%d 0 R /XYZ %s %s null]" % (
                pdf_text_string(n[2]), parent, n[3], num(LEFT), num(n[4]))
            if k:
                d += b" /Prev %d 0 R" % siblings[k - 1][0]
            if k + 1 < len(siblings):
                d += b" /Next %d 0 R" % siblings[k + 1][0]
            if n[5]:
                d += b" /First %d 0 R /Last %d 0 R /Count %d" % (n[5][0][0], n[5][-1][0],
                                                                  count(n) if n[1] == 0 else -count(n))
                link(n[5], n[0])
            w.put(n[0], d + b" >>")

    link(top, outlines)
    if top:
        w.put(outlines, b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" %
              (top[0][0], top[-1][0], len(top) + sum(count(n) for n in top)))
    else:
        w.put(outlines, b"<< /Type /Outlines /Count 0 >>")
    labels = b"/PageLabels << /Nums [0 << /S /r >> %d << /S /D >>] >>" % nfront if nfront else b""
    w.put(catalog, b"<< /Type /Catalog /Pages %d 0 R /Outlines %d 0 R /PageMode /UseOutlines %s >>"
          % (pages_root, outlines, labels))
    w.put(info, b"<< /Title %s /Author (ragpipe bench) /Subject (synthetic book, %d pages, seed %d, %s) "
                b"/Producer (ragpipe bench/mkpdf.py) /CreationDate (D:20240101000000Z) >>"
          % (pdf_text_string(title), a.pages, a.seed, a.lang.encode()))
    w.write(a.output, catalog, info)


if __name__ == "__main__":
    sys.exit(main())
