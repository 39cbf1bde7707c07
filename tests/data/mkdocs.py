#!/usr/bin/python3
"""Regenerate the test fixtures in tests/data/ and the demo set in tests/data/demo/.

    python3 tests/data/mkdocs.py          (from anywhere; writes next to this script)

Deterministic: running it twice gives byte-identical files.  Needs only the
Python 3 standard library (check the results with mupdf-tools:
`mutool draw -F txt FILE`, `mutool show FILE.pdf outline`).  Every text in
here was written for ragpipe.

The PDFs are written object by object (so that the outline, the ToUnicode map
and the page layout are exactly what the tests expect); the other formats are
small hand-written XML/HTML/zip/PalmDB files.
"""

import hashlib
import os
import random
import struct
import sys
import textwrap
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "demo")


def out(name, data, where=HERE):
    path = os.path.join(where, name)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    return path


# --------------------------------------------------------------------------
# A minimal PDF writer

def pdf_str(s):
    """A PDF literal string in WinAnsiEncoding."""
    b = s.encode("cp1252")
    b = b.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + b + b")"


def pdf_text_str(s):
    """A PDF text string (outline titles): PDFDocEncoding if ASCII, else UTF-16BE."""
    try:
        s.encode("ascii")
        return pdf_str(s)
    except UnicodeEncodeError:
        return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode() + b">"


class PDF:
    def __init__(self):
        self.objs = []          # bytes of each object body, index = number - 1

    def reserve(self):
        self.objs.append(None)
        return len(self.objs)

    def set(self, num, body):
        if isinstance(body, str):
            body = body.encode("latin-1")
        self.objs[num - 1] = body

    def add(self, body):
        n = self.reserve()
        self.set(n, body)
        return n

    def stream(self, data, extra=b""):
        if isinstance(data, str):
            data = data.encode("latin-1")
        return self.add(b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    def write(self, root, info, ident, user_password=None):
        """With user_password, encrypt with the standard security handler,
        RC4 128-bit (revision 3).  Only stream data is encrypted, so the
        objects must hold no strings outside streams."""
        docid = hashlib.md5(ident.encode()).digest()
        enc_key, trailer_extra = None, b""
        if user_password is not None:
            enc_key, encdict = rc4_security(user_password, "owner-" + user_password, docid)
            trailer_extra = b" /Encrypt %d 0 R" % self.add(encdict)
        buf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offs = []
        for i, body in enumerate(self.objs):
            offs.append(len(buf))
            if enc_key is not None and b"\nstream\n" in body and b"/Filter /Standard" not in body:
                head, rest = body.split(b"\nstream\n", 1)
                data, tail = rest.rsplit(b"\nendstream", 1)
                k = hashlib.md5(enc_key + struct.pack("<I", i + 1)[:3] + b"\0\0").digest()
                body = head + b"\nstream\n" + rc4(k, data) + b"\nendstream" + tail
            buf += b"%d 0 obj\n" % (i + 1) + body + b"\nendobj\n"
        xref = len(buf)
        buf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objs) + 1)
        for o in offs:
            buf += b"%010d 00000 n \n" % o
        h = docid.hex().upper().encode()
        buf += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>]%s >>\nstartxref\n%d\n%%%%EOF\n"
                % (len(self.objs) + 1, root, info, h, h, trailer_extra, xref))
        return bytes(buf)


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for b in data:
        i = (i + 1) & 255
        j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        out.append(b ^ s[(s[i] + s[j]) & 255])
    return bytes(out)


PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4_security(user, owner, docid, perms=-4):
    """The /Encrypt dictionary and file key of PDF 1.7 section 7.6.3 (R3, 128 bits)."""
    def pad(p):
        return (p.encode("latin-1") + PDF_PAD)[:32]

    def rounds(key, data):
        for i in range(20):
            data = rc4(bytes(b ^ i for b in key), data)
        return data
    # algorithm 3: the O value
    h = hashlib.md5(pad(owner)).digest()
    for _ in range(50):
        h = hashlib.md5(h).digest()
    o = rounds(h, pad(user))
    # algorithm 2: the file key
    h = hashlib.md5(pad(user) + o + struct.pack("<i", perms) + docid).digest()
    for _ in range(50):
        h = hashlib.md5(h).digest()
    key = h[:16]
    # algorithm 5: the U value
    u = rounds(key, hashlib.md5(PDF_PAD + docid).digest()) + bytes(16)
    d = (b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P %d /O <%s> /U <%s> >>"
         % (perms, o.hex().upper().encode(), u.hex().upper().encode()))
    return key, d


W, H = 612, 792          # US Letter
LEFT = 72


def build_pdf(pages, outline, fonts, title, ident, user_password=None):
    """pages: list of content-stream bytes; outline: list of (title, page_index,
    y, children) ; fonts: dict name -> font object builder(pdf) -> objnum."""
    pdf = PDF()
    font_refs = {name: make(pdf) for name, make in fonts.items()}
    res = b"<< /Font << " + b" ".join(b"/%s %d 0 R" % (n.encode(), r) for n, r in font_refs.items()) + b" >> >>"
    pages_num = pdf.reserve()
    page_nums = []
    for content in pages:
        c = pdf.stream(content)
        p = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources %s /Contents %d 0 R >>"
                    % (pages_num, W, H, res, c))
        page_nums.append(p)
    pdf.set(pages_num, b"<< /Type /Pages /Count %d /Kids [%s] >>"
            % (len(page_nums), b" ".join(b"%d 0 R" % p for p in page_nums)))

    # outline tree
    outlines_num = pdf.reserve()

    def items(entries, parent):
        nums = [pdf.reserve() for _ in entries]
        for i, (t, pg, y, kids) in enumerate(entries):
            d = b"<< /Title %s /Parent %d 0 R /Dest [%d 0 R /XYZ 0 %d null]" % (pdf_text_str(t), parent, page_nums[pg], y)
            if i > 0:
                d += b" /Prev %d 0 R" % nums[i - 1]
            if i + 1 < len(nums):
                d += b" /Next %d 0 R" % nums[i + 1]
            if kids:
                kn = items(kids, nums[i])
                d += b" /First %d 0 R /Last %d 0 R /Count %d" % (kn[0], kn[-1], len(kn))
            pdf.set(nums[i], d + b" >>")
        return nums

    top = items(outline, outlines_num) if outline else []
    if top:
        pdf.set(outlines_num, b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (top[0], top[-1], len(top)))
    else:
        pdf.set(outlines_num, b"<< /Type /Outlines /Count 0 >>")
    if user_password is None:
        info = pdf.add(b"<< /Title %s /Producer (ragpipe tests/data/mkdocs.py) >>" % pdf_text_str(title))
    else:
        assert not top, "encrypted PDFs carry no outline (strings are not encrypted here)"
        info = pdf.add(b"<< >>")
    root = pdf.add(b"<< /Type /Catalog /Pages %d 0 R /Outlines %d 0 R%s >>"
                   % (pages_num, outlines_num, b" /PageMode /UseOutlines" if top else b""))
    return pdf.write(root, info, ident, user_password)


def helvetica(base):
    def make(pdf):
        return pdf.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base)
    return make


class Page:
    """Lays out lines top to bottom with Helvetica; y is the baseline."""

    def __init__(self, number, header=None, footer=None):
        self.ops = []
        self.y = 720
        self.number = number
        self.footer = footer
        if header:
            self.line_at(header, LEFT, 750, "F1", 9)

    def line_at(self, text, x, y, font, size):
        self.ops.append(b"BT /%s %d Tf %d %d Td %s Tj ET" % (font.encode(), size, x, y, pdf_str(text)))

    def heading(self, text):
        self.y -= 6
        top = self.y + 16
        self.line_at(text, LEFT, self.y, "F2", 14)
        self.y -= 24
        return top

    def lines(self, lines, size=11, gap=8):
        for ln in lines:
            self.line_at(ln, LEFT, self.y, "F1", size)
            self.y -= size + 3
        self.y -= gap
        assert self.y > 60, "page overflow"

    def para(self, text, width=84):
        self.lines(textwrap.wrap(text, width))

    def content(self):
        if self.footer:         # drawn last, as typesetters do
            self.line_at(self.footer, W / 2 - 3 * len(self.footer), 40, "F1", 9)
            self.footer = None
        return b"\n".join(self.ops) + b"\n"


def english_pdf(spec, header_fmt, footer_fmt, title, ident, user_password=None):
    """spec: list of pages, each a list of ('h', text, outline_level|None) /
    ('p', text) / ('l', [lines]) items."""
    pages, outline = [], []
    for i, items in enumerate(spec):
        n = i + 1
        pg = Page(n, header_fmt and header_fmt.format(n=n), footer_fmt and footer_fmt.format(n=n))
        for it in items:
            if it[0] == "h":
                top = pg.heading(it[1])
                if it[2] == 1:
                    outline.append((it[1], i, top, []))
                elif it[2] == 2:
                    outline[-1][3].append((it[1], i, top, []))
            elif it[0] == "p":
                pg.para(it[1])
            elif it[0] == "l":
                pg.lines(it[1])
        pages.append(pg.content())
    return build_pdf(pages, outline, {"F1": helvetica(b"Helvetica"), "F2": helvetica(b"Helvetica-Bold")},
                     title, ident, user_password)


# --------------------------------------------------------------------------
# handbook.pdf: the English multi-page PDF with every cleaning problem

HANDBOOK = [
    [  # page 1: title page, before the first outline entry
        ("h", "The Fixture Handbook", None),
        ("p", "This small book exists only to exercise the ragpipe splitter. It was written for the test suite "
              "and says nothing that matters outside of it. Every page carries a running header with the page "
              "number and a bare page number at the bottom, so that the cleaning rules have something to remove."),
        ("p", "The title page has no entry in the outline. Text on it therefore belongs to no section, and the "
              "chunks cut from it carry no title at all."),
    ],
    [  # page 2: table of contents with dot leaders
        ("h", "Contents", 1),
        ("l", ["1 Introduction . . . . . . . . . . . . . . . . . . . . . . . . 3",
               "1.1 Purpose of the fixtures . . . . . . . . . . . . . . . . . 4",
               "1.2 Something else . . . . . . . . . . . . . . . . . . . . . 7",
               "2 Cleaning rules . . . . . . . . . . . . . . . . . . . . . . 5",
               "Intro ........ 5",
               "Summary ..................................... 6"]),
    ],
    [  # page 3
        ("h", "1 Introduction", 1),
        ("p", "A retrieval pipeline is only as good as the pieces of text it stores. When a book is cut into "
              "chunks, each chunk should read like ordinary prose: no page furniture, no broken words and no "
              "stray numbers. The introduction explains why the handbook looks the way it does."),
        ("p", "Marmalade is the marker word of the introduction. A test can look for it and check that the chunk "
              "that holds it starts on page three and carries the title of this section."),
        ("p", "Long paragraphs are split at sentence ends first. Short sentences keep the arithmetic simple. "
              "Each one ends with a full stop. None of them is longer than a line or two. The splitter may cut "
              "between any two of them without losing meaning."),
    ],
    [  # page 4: hyphenation across a line end
        ("h", "1.1 Purpose of the fixtures", 2),
        ("l", ["Typesetters break long words at the end of a line. A word that is hyphen-",
               "ated in print must come out whole, and so must a word like docu-",
               "ments, because nobody searches for half a word."]),
        ("p", "Quartz is the marker word of the purpose section. The purpose of a fixture is to fail loudly when "
              "the code it feeds goes wrong, and to stay small enough to read in one sitting."),
        ("p", "Fixtures are generated by a script so that anyone can rebuild them and see exactly what they "
              "contain. The script writes every object of this file by hand."),
    ],
    [  # page 5
        ("h", "2 Cleaning rules", 1),
        ("p", "Running headers and footers repeat on most pages with only the digits changing. They are removed "
              "before splitting. Lines that hold nothing but a page number are removed as well. Table of "
              "contents lines, which end in a row of dots and a page number, are dropped."),
        ("p", "Saffron is the marker word of the cleaning rules. Whitespace runs collapse to a single space, "
              "and the lines of one paragraph are joined with a space between them."),
    ],
    [  # page 6
        ("h", "3 Summary", 1),
        ("p", "Walnut is the marker word of the summary. The handbook has six pages, an outline with five "
              "entries, a contents page, a hyphenated word and furniture on every page."),
        ("p", "If the splitter is right, none of the furniture appears in its output, every word is whole, and "
              "each chunk knows the page it came from and the section it belongs to."),
    ],
]


def make_handbook():
    return english_pdf(HANDBOOK, "Fixture Handbook - page {n}", "{n}", "The Fixture Handbook", "handbook")


def make_mini(user_password=None):
    spec = [[("h", "A One Page Note", None if user_password else 1),
             ("p", "This note is a single page PDF. Copies of it are stored under misleading names so that "
                   "the splitter has to recognise the format by content and not by the file name."),
             ("p", "Its marker word is pumpernickel.")]]
    return english_pdf(spec, None, None, "A One Page Note", "mini", user_password)


# --------------------------------------------------------------------------
# zh.pdf: Chinese text with Kangxi radicals in the text layer

ZH_PAGES = [
    {"title": "第一章 动手实践", "paras": [
        "本文件只为测试中文切分而写。书名《动⼿学深度学习》里的“⼿”字在文本层中是康熙部首，切分器必须把它还原成普通汉字。",
        "卷积神经网络由许多层组成。每一层都从上一层读取特征图！这样的网络能学到什么？答案是：由浅入深的特征。",
        "老师说：“先读懂问题。”然后学生开始动⼿写代码。这一段用来检查引号与句号的位置；分号也算句子的结尾。"]},
    {"title": "第二章 切分规则", "paras": [
        "切分器先按段落切，再按句子切，最后才按字切。句号、问号和感叹号都是句子的结尾，逗号和顿号只是从句的分隔。",
        "每个块都不能超过规定的长度。相邻的块之间有一部分重叠，这样检索时不会丢掉跨越块边界的句子。",
        "目录中的点线行要删除，例如下面这一行。"],
     "toc": ["7.7.4 DenseNet模型 . . . . . . . . . 291", "前言 ........ 5"]},
    {"title": "第三章 小结", "paras": [
        "页眉和页脚在每一页都会重复，只有页码不同。切分器会把它们删掉，正文不受影响。",
        "最后一句话：测试到此结束！"]},
]

ZH_HEADER = "测试文档：中文切分"
ZH_FOOTER = "第 {n} 页 共 3 页"


class CJKFont:
    """A Type0 Identity-H font whose codes are assigned in order of first use;
    the ToUnicode CMap maps them back.  No font program is embedded (text
    extraction needs only the CMap)."""

    def __init__(self):
        self.codes = {}

    def encode(self, s):
        out = []
        for ch in s:
            if ch not in self.codes:
                self.codes[ch] = len(self.codes) + 1
            out.append(self.codes[ch])
        return b"<" + b"".join(b"%04X" % c for c in out) + b">"

    def make(self, pdf):
        entries = sorted(self.codes.items(), key=lambda kv: kv[1])
        cmap = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
                b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
                b"1 begincodespacerange", b"<0000> <FFFF>", b"endcodespacerange"]
        for i in range(0, len(entries), 100):
            block = entries[i:i + 100]
            cmap.append(b"%d beginbfchar" % len(block))
            for ch, code in block:
                cmap.append(b"<%04X> <%s>" % (code, ch.encode("utf-16-be").hex().upper().encode()))
            cmap.append(b"endbfchar")
        cmap += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
        tounicode = pdf.stream(b"\n".join(cmap))
        desc = pdf.add(b"<< /Type /FontDescriptor /FontName /RagpipeTestCJK /Flags 4 /FontBBox [0 -120 1000 880] "
                       b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>")
        cid = pdf.add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /RagpipeTestCJK "
                      b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                      b"/FontDescriptor %d 0 R /DW 1000 /CIDToGIDMap /Identity >>" % desc)
        return pdf.add(b"<< /Type /Font /Subtype /Type0 /BaseFont /RagpipeTestCJK /Encoding /Identity-H "
                       b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid, tounicode))


def make_zh(pages, header, footer, ident, title, per_line=34):
    font = CJKFont()
    contents, outline = [], []
    for i, pg in enumerate(pages):
        n = i + 1
        ops = []

        def show(text, x, y, size):
            ops.append(b"BT /F1 %d Tf %d %d Td %s Tj ET" % (size, x, y, font.encode(text)))
        if header:
            show(header, LEFT, 750, 9)
        y = 714
        show(pg["title"], LEFT, y, 16)
        outline.append((pg["title"], i, y + 18, []))
        y -= 30
        for para in pg["paras"]:
            for k in range(0, len(para), per_line):
                show(para[k:k + per_line], LEFT, y, 12)
                y -= 16
            y -= 10
        for line in pg.get("toc", []):
            show(line, LEFT, y, 10)
            y -= 26
        if footer:
            f = footer.format(n=n)
            show(f, int(W / 2 - 4.5 * len(f)), 40, 9)
        contents.append(b"\n".join(ops) + b"\n")
    return build_pdf(contents, outline, {"F1": font.make}, title, ident)


# --------------------------------------------------------------------------
# Text formats

PLAIN_TXT = """\
Plain text fixture

This file is ordinary UTF-8 text. Paragraphs are separated by blank lines,
and the lines inside a paragraph are wrapped at about seventy columns, as
a text editor would leave them.

The second paragraph talks about lighthouses. A lighthouse keeper trims
the wick, polishes the lens and writes the weather in a log book. The
log book is read by nobody until a ship is lost, and then by everybody.

The third paragraph is about bread. Dough rises when yeast eats sugar
and breathes out gas; the gas is trapped by the gluten, and the oven
sets the bubbles. A good loaf sounds hollow when you knock on its base.

Fourth and last: this paragraph ends the file with a single sentence.
"""

NOTES_MD = """\
Some words before the first heading have no title.

# Alpha section

The alpha section talks about apples. Apples grow on trees in orchards,
and an orchard needs bees in spring.

## Alpha details

Details of the alpha section mention apricots, which are stone fruit.

# Beta section

The beta section talks about boats. A boat floats because it pushes
aside its own weight of water.
"""

PAGE_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>HTML fixture</title></head>
<body>
<h1>Kettles</h1>
<p>This HTML page is a test fixture. It describes kettles: a kettle boils water,
and a whistling kettle tells you when it is done.</p>
<h2>Descaling</h2>
<p>Hard water leaves <b>limescale</b> inside a kettle. Vinegar or citric acid
dissolves it.</p>
<ul><li>Fill with vinegar and water.</li><li>Boil, wait, rinse.</li></ul>
</body>
</html>
"""

STORY_FB2 = """\
<?xml version="1.0" encoding="UTF-8"?>
<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0" xmlns:l="http://www.w3.org/1999/xlink">
<description>
<title-info>
<genre>prose</genre>
<author><first-name>Test</first-name><last-name>Fixture</last-name></author>
<book-title>The Lantern Story</book-title>
<lang>en</lang>
</title-info>
<document-info><id>ragpipe-fb2-fixture</id><version>1.0</version></document-info>
</description>
<body>
<section>
<title><p>Chapter One</p></title>
<p>The FictionBook fixture tells a very short story about a lantern.</p>
<p>The lantern was left on a windowsill and glowed all night long.</p>
</section>
<section>
<title><p>Chapter Two</p></title>
<p>In the morning a heron landed on the sill and looked at the lantern with suspicion.</p>
</section>
</body>
</FictionBook>
"""


# --------------------------------------------------------------------------
# Zip containers (fixed timestamps and order, so the bytes are reproducible)

def zip_bytes(members):
    """members: list of (name, bytes-or-str, stored?)"""
    import io
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for name, data, stored in members:
            zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zi.create_system = 3
            zi.external_attr = 0o644 << 16
            if isinstance(data, str):
                data = data.encode("utf-8")
            z.writestr(zi, data)
    return bio.getvalue()


def xhtml(title, body):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
            "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
            "<head><title>%s</title></head>\n<body>\n%s\n</body>\n</html>\n" % (title, body))


def make_epub():
    ch1 = xhtml("Chapter 1: Harbour", "<h1>Chapter 1: Harbour</h1>\n"
                "<p>The EPUB fixture begins in a harbour. Fishing boats come back at dawn and the gulls follow them.</p>\n"
                "<p>Nets are mended on the quay while the catch is sold.</p>")
    ch2 = xhtml("Chapter 2: Lighthouse", "<h1>Chapter 2: Lighthouse</h1>\n"
                "<p>The second chapter climbs the lighthouse. Its lamp turns once every twelve seconds.</p>\n"
                "<p>From the gallery one can count the islands on a clear day.</p>")
    nav = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
           "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
           "<head><title>Contents</title></head>\n<body>\n<nav epub:type=\"toc\" id=\"toc\"><ol>\n"
           "<li><a href=\"ch1.xhtml\">Chapter 1: Harbour</a></li>\n"
           "<li><a href=\"ch2.xhtml\">Chapter 2: Lighthouse</a></li>\n</ol></nav>\n</body>\n</html>\n")
    ncx = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\">\n"
           "<head><meta name=\"dtb:uid\" content=\"urn:uuid:00000000-0000-4000-8000-000000000001\"/></head>\n"
           "<docTitle><text>EPUB Fixture</text></docTitle>\n<navMap>\n"
           "<navPoint id=\"n1\" playOrder=\"1\"><navLabel><text>Chapter 1: Harbour</text></navLabel>"
           "<content src=\"ch1.xhtml\"/></navPoint>\n"
           "<navPoint id=\"n2\" playOrder=\"2\"><navLabel><text>Chapter 2: Lighthouse</text></navLabel>"
           "<content src=\"ch2.xhtml\"/></navPoint>\n</navMap>\n</ncx>\n")
    opf = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"2.0\" unique-identifier=\"uid\">\n"
           "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
           "<dc:identifier id=\"uid\">urn:uuid:00000000-0000-4000-8000-000000000001</dc:identifier>\n"
           "<dc:title>EPUB Fixture</dc:title>\n<dc:language>en</dc:language>\n</metadata>\n"
           "<manifest>\n"
           "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
           "<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>\n"
           "<item id=\"ch1\" href=\"ch1.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
           "<item id=\"ch2\" href=\"ch2.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
           "</manifest>\n<spine toc=\"ncx\">\n<itemref idref=\"ch1\"/>\n<itemref idref=\"ch2\"/>\n</spine>\n"
           "</package>\n")
    container = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
                 "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>"
                 "</rootfiles>\n</container>\n")
    return zip_bytes([("mimetype", "application/epub+zip", True),
                      ("META-INF/container.xml", container, False),
                      ("OEBPS/content.opf", opf, False),
                      ("OEBPS/nav.xhtml", nav, False),
                      ("OEBPS/toc.ncx", ncx, False),
                      ("OEBPS/ch1.xhtml", ch1, False),
                      ("OEBPS/ch2.xhtml", ch2, False)])


# --------------------------------------------------------------------------
# XPS.  Glyphs need a font part; a tiny TrueType font is built below (every
# glyph empty, a cmap for printable ASCII), enough for mupdf to load it and
# extract the UnicodeString.

def tiny_ttf():
    chars = list(range(0x20, 0x7F))
    nglyphs = len(chars) + 1          # glyph 0 = .notdef
    adv = 500

    def table_checksum(data):
        data += b"\0" * (-len(data) % 4)
        return sum(struct.unpack(">%dI" % (len(data) // 4), data)) & 0xFFFFFFFF

    head = struct.pack(">IIIIHHqqhhhhHHhhh", 0x00010000, 0x00010000, 0, 0x5F0F3CF5, 0x000B, 1000,
                       0, 0, 0, -200, 1000, 800, 0, 8, 2, 0, 0)
    hhea = struct.pack(">IhhhHhhhhhhhhhhhH", 0x00010000, 800, -200, 0, adv, 0, 0, adv, 1, 0, 0,
                       0, 0, 0, 0, 0, nglyphs)
    maxp = struct.pack(">IHHHHHHHHHHHHHH", 0x00010000, nglyphs, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)
    hmtx = struct.pack(">" + "Hh" * nglyphs, *([adv, 0] * nglyphs))
    loca = struct.pack(">" + "H" * (nglyphs + 1), *([0] * (nglyphs + 1)))
    glyf = b"\0\0\0\0"
    # cmap format 4, one segment for 0x20-0x7E plus the final 0xFFFF segment
    segs = [(0x20, 0x7E, 1 - 0x20), (0xFFFF, 0xFFFF, 1)]
    segx2 = len(segs) * 2
    sub = struct.pack(">HHHHHHH", 4, 0, 0, segx2, 4, 1, 0)
    sub += b"".join(struct.pack(">H", e) for _, e, _ in segs) + b"\0\0"
    sub += b"".join(struct.pack(">H", s) for s, _, _ in segs)
    sub += b"".join(struct.pack(">h", d if d < 0x8000 else d - 0x10000) for _, _, d in segs)
    sub += b"\0\0" * len(segs)
    sub = sub[:2] + struct.pack(">H", len(sub)) + sub[4:]
    cmap = struct.pack(">HHHHI", 0, 1, 3, 1, 12) + sub
    name_str = "RagpipeTest".encode("utf-16-be")
    recs = [(3, 1, 0x409, 1, name_str), (3, 1, 0x409, 4, name_str), (3, 1, 0x409, 6, name_str)]
    name = struct.pack(">HHH", 0, len(recs), 6 + 12 * len(recs))
    off = 0
    for p, e, l, nid, s in recs:
        name += struct.pack(">HHHHHH", p, e, l, nid, len(s), off)
        off += len(s)
    name += b"".join(r[4] for r in recs)
    post = struct.pack(">IIhhIIIII", 0x00030000, 0, -100, 50, 0, 0, 0, 0, 0)
    os2 = struct.pack(">HhHHHhhhhhhhhhh10sIIII4sHHHhhhHH", 1, adv, 400, 5, 0, 650, 600, 0, 75, 650, 600, 0, 350,
                      50, 250, b"\0" * 10, 1, 0, 0, 0, b"RGPT", 0x40, 0x20, 0x7E, 800, -200, 0, 800, 200)
    os2 += struct.pack(">II", 1, 0)
    tables = {b"OS/2": os2, b"cmap": cmap, b"glyf": glyf, b"head": head, b"hhea": hhea,
              b"hmtx": hmtx, b"loca": loca, b"maxp": maxp, b"name": name, b"post": post}
    tags = sorted(tables)
    n = len(tags)
    es = 1
    while (1 << es) <= n:
        es += 1
    es -= 1
    hdr = struct.pack(">IHHHH", 0x00010000, n, 16 << es, es, n * 16 - (16 << es))
    off = 12 + 16 * n
    dirent, body = b"", b""
    for t in tags:
        d = tables[t]
        dirent += struct.pack(">4sIII", t, table_checksum(d), off + len(body), len(d))
        body += d + b"\0" * (-len(d) % 4)
    font = bytearray(hdr + dirent + body)
    adj = (0xB1B0AFBA - table_checksum(bytes(font))) & 0xFFFFFFFF
    # head.checkSumAdjustment lives at offset 8 of the head table
    for t_i, t in enumerate(tags):
        if t == b"head":
            toff = struct.unpack(">I", dirent[t_i * 16 + 8:t_i * 16 + 12])[0]
            font[toff + 8:toff + 12] = struct.pack(">I", adj)
    return bytes(font)


def make_xps():
    lines = ["XPS fixture, page one.",
             "The XML Paper Specification stores each page as a FixedPage.",
             "This page mentions the word sandpiper."]
    lines2 = ["XPS fixture, page two.",
              "The second page mentions the word cormorant."]

    def fpage(ls):
        g = "".join('  <Glyphs FontUri="/Resources/tiny.ttf" FontRenderingEmSize="12" OriginX="72" OriginY="%d" '
                    'Fill="#ff000000" UnicodeString="%s"/>\n' % (100 + 20 * i, s) for i, s in enumerate(ls))
        return ('<FixedPage xmlns="http://schemas.microsoft.com/xps/2005/06" Width="816" Height="1056" '
                'xml:lang="en-US">\n' + g + '</FixedPage>\n')
    ct = ('<?xml version="1.0" encoding="utf-8"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\n'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\n'
          '<Default Extension="fdseq" ContentType="application/vnd.ms-package.xps-fixeddocumentsequence+xml"/>\n'
          '<Default Extension="fdoc" ContentType="application/vnd.ms-package.xps-fixeddocument+xml"/>\n'
          '<Default Extension="fpage" ContentType="application/vnd.ms-package.xps-fixedpage+xml"/>\n'
          '<Default Extension="ttf" ContentType="application/vnd.ms-opentype"/>\n'
          '</Types>\n')
    rels = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\n'
            '<Relationship Type="http://schemas.microsoft.com/xps/2005/06/fixedrepresentation" '
            'Target="/FixedDocumentSequence.fdseq" Id="R0"/>\n</Relationships>\n')
    fdseq = ('<FixedDocumentSequence xmlns="http://schemas.microsoft.com/xps/2005/06">\n'
             '<DocumentReference Source="/Documents/1/FixedDocument.fdoc"/>\n</FixedDocumentSequence>\n')
    fdoc = ('<FixedDocument xmlns="http://schemas.microsoft.com/xps/2005/06">\n'
            '<PageContent Source="/Documents/1/Pages/1.fpage"/>\n'
            '<PageContent Source="/Documents/1/Pages/2.fpage"/>\n</FixedDocument>\n')
    return zip_bytes([("[Content_Types].xml", ct, False),
                      ("_rels/.rels", rels, False),
                      ("FixedDocumentSequence.fdseq", fdseq, False),
                      ("Documents/1/FixedDocument.fdoc", fdoc, False),
                      ("Documents/1/Pages/1.fpage", fpage(lines), False),
                      ("Documents/1/Pages/2.fpage", fpage(lines2), False),
                      ("Resources/tiny.ttf", tiny_ttf(), False)])


# --------------------------------------------------------------------------
# MOBI: a PalmDB "BOOKMOBI" with a MOBI header and uncompressed
# (compression = 1) text records holding simple HTML.

def make_mobi():
    html = ("<html><head><guide></guide></head><body>"
            "<h1>Mobipocket fixture</h1>"
            "<p>This MOBI file holds uncompressed text records. It mentions the word kingfisher.</p>"
            "<p>A second paragraph mentions the word nightjar, so that two paragraphs come out.</p>"
            "<mbp:pagebreak/>"
            "<h2>Second part</h2>"
            "<p>The last paragraph of the MOBI fixture mentions the word woodpecker.</p>"
            "</body></html>").encode("utf-8")
    recsize = 4096
    text_recs = [html[i:i + recsize] for i in range(0, len(html), recsize)]
    title = b"MOBI Fixture"
    mobi_len = 0xE8
    full_name_off = 16 + mobi_len
    rec0 = bytearray()
    # PalmDOC header
    rec0 += struct.pack(">HHIHHHH", 1, 0, len(html), len(text_recs), recsize, 0, 0)
    # MOBI header
    mh = bytearray(mobi_len)
    struct.pack_into(">4sIII", mh, 0, b"MOBI", mobi_len, 2, 65001)        # type 2 = book, UTF-8
    struct.pack_into(">II", mh, 16, 0x52414750, 6)                         # unique id, file version
    for off in range(24, 64, 4):                                           # orthographic..extra indexes
        struct.pack_into(">I", mh, off, 0xFFFFFFFF)
    struct.pack_into(">I", mh, 64, len(text_recs) + 1)                     # first non-book record
    struct.pack_into(">II", mh, 68, full_name_off, len(title))             # full name offset, length
    struct.pack_into(">I", mh, 76, 9)                                      # locale: English
    struct.pack_into(">II", mh, 80, 0, 0)                                  # input/output language
    struct.pack_into(">I", mh, 88, 6)                                      # min version
    struct.pack_into(">I", mh, 92, 0xFFFFFFFF)                             # first image record
    struct.pack_into(">I", mh, 112, 0)                                     # EXTH flags: none
    struct.pack_into(">II", mh, 0xA8 - 16, 0xFFFFFFFF, 0)                  # DRM offset, count
    struct.pack_into(">HH", mh, 0xC0 - 16, 1, len(text_recs))              # first / last content record
    struct.pack_into(">I", mh, 0xC4 - 16, 1)
    struct.pack_into(">I", mh, 0xF0 - 16, 0)                               # extra record data flags
    struct.pack_into(">I", mh, 0xF4 - 16, 0xFFFFFFFF)                      # INDX record
    rec0 += mh + title + b"\0\0"
    rec0 += b"\0" * (-len(rec0) % 4)
    records = [bytes(rec0)] + text_recs + [b"\xe9\x8e\r\n"]               # EOF record
    nrec = len(records)
    hdr = bytearray(78)
    name = b"MOBI_Fixture"
    hdr[0:len(name)] = name
    struct.pack_into(">HHIII", hdr, 32, 0, 0, 0x65000000, 0x65000000, 0)   # attrs, version, dates
    struct.pack_into(">III", hdr, 48, 0, 0, 0)
    hdr[60:68] = b"BOOKMOBI"
    struct.pack_into(">IIH", hdr, 68, 0x52414750, 0, nrec)                 # uid seed, next list, count
    off = 78 + 8 * nrec + 2
    entries = bytearray()
    for i, r in enumerate(records):
        entries += struct.pack(">II", off, (2 * i) & 0xFFFFFF)
        off += len(r)
    return bytes(hdr + entries + b"\0\0" + b"".join(records))


# --------------------------------------------------------------------------
# The demo document set

DEMO_PDF = [
    [
        ("h", "Convolutional Network Architectures", None),
        ("p", "These notes were written for the ragpipe demo. They describe, in plain words, a few landmark "
              "convolutional network architectures for image recognition and the ideas that made each of them "
              "work."),
        ("h", "1 Convolutional networks", 1),
        ("p", "A convolutional network is a neural network whose early layers apply small learned filters that "
              "slide over the image. Each filter responds to a local pattern such as an edge or a texture, and "
              "stacking layers lets later filters respond to larger and more abstract patterns. Pooling layers or "
              "strided convolutions shrink the feature maps so that the network sees more of the image at once."),
        ("p", "Making such networks deeper used to make them harder to train: beyond a certain depth, adding "
              "layers made even the training error worse, because the signal and its gradient fade as they pass "
              "through many layers. The two architectures below address this problem in different ways."),
    ],
    [
        ("h", "2 ResNet", 1),
        ("p", "ResNet, short for residual network, is a convolutional network architecture built from residual "
              "blocks. A residual block computes a small correction F(x) with two or three convolution layers and "
              "adds it to its own input through a shortcut connection, so the block outputs x + F(x). If the best "
              "thing a block can do is nothing, it only has to learn F(x) = 0, which is easy."),
        ("p", "Because the shortcuts carry the signal and the gradient straight through, residual networks with "
              "a hundred or more layers can be trained. ResNet variants are named after their depth, for example "
              "ResNet-18, ResNet-50 and ResNet-152. Deeper variants use bottleneck blocks: a 1x1 convolution "
              "narrows the channels, a 3x3 convolution does the work and another 1x1 convolution widens them "
              "again."),
    ],
    [
        ("h", "3 DenseNet", 1),
        ("p", "DenseNet, short for densely connected convolutional network, is a convolutional network "
              "architecture in which every layer of a dense block receives the feature maps of all preceding "
              "layers of that block as its input, and passes its own feature maps on to all the layers that "
              "follow. Where ResNet adds a block's input to its output, DenseNet concatenates them along the "
              "channel dimension."),
        ("p", "Each layer of a dense block adds only a few new feature maps; this number is called the growth "
              "rate. Between dense blocks, transition layers with a 1x1 convolution and pooling reduce the number "
              "of channels and the size of the feature maps. Because features are reused rather than relearned, "
              "DenseNet reaches the accuracy of a ResNet with fewer parameters."),
        ("h", "4 Choosing between them", 1),
        ("p", "ResNet is the usual default and is cheap in memory. DenseNet is attractive when parameters are "
              "scarce, but the concatenated feature maps cost memory during training."),
    ],
]

DEMO_ZH_MD = """\
# 卷积神经网络简介

本文是为 ragpipe 演示而写的简短说明。卷积神经网络用小的卷积核在图像上滑动，每个卷积核对一种局部图案作出反应，例如边缘或纹理。层数越多，网络能识别的图案就越大、越抽象。

## 残差网络（ResNet）

残差网络由残差块组成。每个残差块先计算一个修正量，再通过捷径连接把它加到输入上。这样，信号和梯度可以直接穿过很多层，一百多层的网络也能训练。

## 稠密连接网络（DenseNet）

在稠密连接网络中，稠密块里的每一层都以前面所有层的特征图作为输入。它不是把输入和输出相加，而是沿通道维把它们拼接起来。每层只新增少量特征图，这个数量叫作增长率。

## 小结

残差网络是常用的默认选择。稠密连接网络参数更少，但训练时更占内存！
"""

DEMO_MANUAL_MD = """\
# quillsort(1) manual

quillsort is a made-up command-line tool that sorts the lines of a text file by how long they are. It exists only so that the ragpipe demo has a manual page to search.

## Synopsis

    quillsort [-r] [-k N] [FILE...]

## Description

quillsort reads each FILE, or standard input when no FILE is given, and prints its lines ordered from the shortest to the longest. Lines of equal length keep their original order, so the sort is stable.

## Options

-r reverses the order, so the longest line comes first.

-k N prints only the first N lines of the sorted output.

## Exit status

quillsort exits with status 0 when every file was read, 1 when a file could not be opened, and 2 when an option is not understood.

## Examples

To see the five longest lines of a log file, run quillsort -r -k 5 server.log.
"""


# --------------------------------------------------------------------------

def main():
    os.makedirs(DEMO, exist_ok=True)

    hb = make_handbook()
    out("handbook.pdf", hb)
    mini = make_mini()
    out("mini.pdf", mini)
    out("pdf-without-extension", mini)           # a PDF with no extension
    out("mini-pdf.txt", mini)                    # a PDF that claims to be text
    out("zh.pdf", make_zh(ZH_PAGES, ZH_HEADER, ZH_FOOTER, "zh", "中文测试文档"))

    # encrypted: user password "secret", owner password "owner-secret"
    out("encrypted.pdf", make_mini("secret"))

    # truncated: the handbook cut in half (the catalog and page tree are lost)
    out("truncated.pdf", hb[:len(hb) // 2])

    # not a document: deterministic pseudo-random bytes
    rng = random.Random(20240101)
    out("noise.bin", bytes(rng.getrandbits(8) for _ in range(4096)))

    out("blank.pdf", english_pdf([[]], None, None, "Blank", "blank"))   # one page, no text
    out("empty.txt", b"")
    out("bad-utf8.txt", b"First line is fine.\nSecond line too.\nThird line has bad bytes: \xff\xfe here"
                        b" and \xc3 there.\nFourth line is fine again.\n")
    out("plain.txt", PLAIN_TXT)
    out("crlf.txt", PLAIN_TXT.replace("\n", "\r\n"))
    out("notes.md", NOTES_MD)
    out("page.html", PAGE_HTML)
    out("story.fb2", STORY_FB2)
    epub = make_epub()
    out("book.epub", epub)
    out("epub-without-extension", epub)
    out("doc.xps", make_xps())
    out("book.mobi", make_mobi())

    out("cnn-architectures.pdf",
        english_pdf(DEMO_PDF, None, None, "Convolutional Network Architectures", "demo-cnn"), DEMO)
    out("cnn-zh.md", DEMO_ZH_MD, DEMO)
    out("quillsort.md", DEMO_MANUAL_MD, DEMO)


if __name__ == "__main__":
    sys.exit(main())
