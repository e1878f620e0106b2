"""The tour's HTML page and results.json (freeenergy.report.html).

The page is read back with the standard library's HTML parser: every piece of text the sections
carry must come back exactly as given (so markup in it was escaped, not interpreted), and no
element may appear that the test did not expect. results.json is read with a parser that rejects
NaN and Infinity, and compared with numbers written in the test (non-finite floats as the
strings "nan", "inf", "-inf", as freeenergy._io.jsonable documents).
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from freeenergy.report.chapters.base import Figure, Section
from freeenergy.report.html import render_html, write_report

EVIL = '<script>alert("x")</script> & \'quotes\''


class Page(HTMLParser):
    """The elements of a page in order as (tag, attrs, text), text with entities decoded."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self._open = [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in ("meta", "img"):  # void elements
            self.elements.append((tag, dict(attrs), ""))
        else:
            self._open.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        assert self._open and self._open[-1][0] == tag, f"unbalanced </{tag}>"
        self.elements.append(tuple(self._open.pop()))

    def handle_data(self, data):
        if self._open:
            self._open[-1][2] += data

    def find(self, tag):
        return [(attrs, text) for t, attrs, text in self.elements if t == tag]

    def tags(self):
        return {t for t, _, _ in self.elements}


def sections():
    return [
        Section(slug="first", title="Ising <2D>",
                paragraphs=["F = U - TS & more", EVIL],
                figures=[Figure("a.png", "caption <b>bold</b>"), Figure('b "q".png', EVIL)],
                table=[("T_c", "2.269"), ("<k>", "a & b")],
                numbers={"T_c": 2.269}),
        Section(slug='sec"ond', title=EVIL, paragraphs=[], numbers={"n": 3}),
    ]


def test_page_escapes_every_text_and_attribute():
    """Markup in the title, footer and every section field comes back as the literal text given."""
    text = render_html(sections(), title=EVIL, footer="made by <me> & co")
    page = Page(text)
    assert "<script" not in text.lower() and "script" not in page.tags()
    assert page.tags() == {"html", "head", "meta", "title", "style", "body", "h1", "nav", "ol", "li",
                           "a", "section", "h2", "p", "table", "tr", "td", "figure", "img",
                           "figcaption", "footer", "small"}
    assert page.find("title")[0][1] == EVIL
    assert page.find("h1")[0][1] == EVIL
    assert page.find("small")[0][1] == "made by <me> & co"


def test_page_holds_the_sections_in_order():
    """Table of contents, headings, paragraphs, table cells and figures appear as given, in order."""
    page = Page(render_html(sections(), title="t", footer="f"))
    assert [a["href"] for a, _ in page.find("a")] == ["#first", '#sec"ond']
    assert [text for _, text in page.find("a")] == ["Ising <2D>", EVIL]
    assert [a["id"] for a, _ in page.find("section")] == ["first", 'sec"ond']
    assert [text for _, text in page.find("h2")] == ["Ising <2D>", EVIL]
    paragraphs = [text for _, text in page.find("p")]
    assert paragraphs == ["F = U - TS & more", EVIL, ""]  # the footer's <p> holds a <small>
    assert page.find("small") == [({}, "f")]
    assert [text for _, text in page.find("td")] == ["T_c", "2.269", "<k>", "a & b"]
    assert len(page.find("table")) == 1  # the second section has no table
    assert [(a["src"], a["alt"]) for a, _ in page.find("img")] == [
        ("a.png", "caption <b>bold</b>"), ('b "q".png', EVIL)]
    assert [text for _, text in page.find("figcaption")] == ["caption <b>bold</b>", EVIL]


def test_page_without_sections():
    """No sections: an empty table of contents and the page frame only."""
    text = render_html([], title="empty", footer="")
    assert text.startswith("<!DOCTYPE html>\n") and text.endswith("</html>\n")
    page = Page(text)
    assert page.find("ol") == [({}, "")]
    assert page.find("section") == []


def read_json(path):
    def reject(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def test_write_report_writes_both_files(tmp_path):
    """write_report returns out/report.html and out/results.json, and nothing else is left in out."""
    report, results = write_report(sections(), tmp_path, title=EVIL, footer="f", meta={"quick": True})
    assert (report, results) == (tmp_path / "report.html", tmp_path / "results.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.json"]
    page = Page(report.read_text(encoding="utf-8"))
    assert page.find("title")[0][1] == EVIL
    assert [text for _, text in page.find("h2")] == ["Ising <2D>", EVIL]
    assert results.read_text(encoding="utf-8").endswith("}\n")
    assert read_json(results) == {"meta": {"quick": True},
                                  "chapters": {"first": {"T_c": 2.269}, 'sec"ond': {"n": 3}}}


def test_results_json_is_standard_json(tmp_path):
    """NaN and infinities become strings, NumPy values plain numbers and lists, keys strings."""
    numbers = {
        "nan": math.nan, "inf": math.inf, "minus_inf": -np.inf, "np_nan": np.float64("nan"),
        "array": np.array([1.5, np.nan, -np.inf]), "ints": np.arange(3, dtype=np.int64),
        "scalar": np.float32(0.25), "int": np.int64(7), "flag": np.bool_(True),
        "pair": (1, 2.0), "nested": {1: [np.inf, {"x": np.float64(-0.0)}]}, "text": "<ok>",
    }
    _, results = write_report([Section(slug="s", title="S", numbers=numbers)], tmp_path, title="t",
                              footer="", meta={"seed": np.int64(3), "T": [np.float64(0.5)]})
    data = read_json(results)
    assert data["meta"] == {"seed": 3, "T": [0.5]}
    got = data["chapters"]["s"]
    assert got == {
        "nan": "nan", "inf": "inf", "minus_inf": "-inf", "np_nan": "nan",
        "array": [1.5, "nan", "-inf"], "ints": [0, 1, 2], "scalar": 0.25, "int": 7, "flag": True,
        "pair": [1, 2.0], "nested": {"1": ["inf", {"x": -0.0}]}, "text": "<ok>",
    }
    assert type(got["int"]) is int and type(got["scalar"]) is float and got["flag"] is True
    assert math.copysign(1.0, got["nested"]["1"][1]["x"]) == -1.0


def test_write_report_creates_the_directory_and_overwrites(tmp_path):
    """A missing out directory is created; a second report replaces the first completely."""
    out = tmp_path / "new" / "report"
    write_report(sections(), out, title="first run", footer="", meta={"run": 1})
    write_report([Section(slug="only", title="Only", numbers={"x": 1})], out, title="second run",
                 footer="", meta={"run": 2})
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.json"]
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    assert page.find("title")[0][1] == "second run"
    assert [text for _, text in page.find("h2")] == ["Only"]
    assert read_json(out / "results.json") == {"meta": {"run": 2}, "chapters": {"only": {"x": 1}}}


def test_failed_write_leaves_the_old_files(tmp_path, monkeypatch):
    """A write that dies half-way leaves the previous report.html as it was, and no temporary file."""
    write_report(sections(), tmp_path, title="old", footer="", meta={})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_write_text = Path.write_text

    def broken(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report([Section(slug="x", title="new")], tmp_path, title="new", footer="", meta={})
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_unserialisable_numbers_raise(tmp_path):
    """A number JSON cannot hold raises TypeError and leaves no results.json or temporary file."""
    with pytest.raises(TypeError):
        write_report([Section(slug="s", title="S", numbers={"x": object()})], tmp_path, title="t",
                     footer="", meta={})
    names = [p.name for p in tmp_path.iterdir()]
    assert "results.json" not in names and not any(n.startswith(".") for n in names)
