"""Tests of freeenergy.report.chapters.base: Figure, Section, TourContext and the Chapter type."""

import dataclasses
import json
from collections.abc import Callable
from typing import ClassVar

import pytest

from freeenergy.report import chapters as chapters_pkg
from freeenergy.report.chapters import base
from freeenergy.report.chapters.base import Chapter, Figure, Section, TourContext
from freeenergy.report.tour import run_tour


class FakeBar:
    """Records what TourContext.steps does to its progress bar."""

    made: ClassVar[list] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.n = 0
        self.postfix = []
        self.closed = False
        FakeBar.made.append(self)

    def update(self, k):
        self.n += k

    def set_postfix_str(self, label):
        self.postfix.append(label)

    def close(self):
        self.closed = True


@pytest.fixture
def fake_bar(monkeypatch):
    FakeBar.made = []
    monkeypatch.setattr(base, "tqdm", FakeBar)
    return FakeBar


def test_figure_fields_and_frozen():
    """Figure keeps file and caption, compares by value and cannot be modified."""
    fig = Figure(file="a.png", caption="A caption")
    assert (fig.file, fig.caption) == ("a.png", "A caption")
    assert fig == Figure("a.png", "A caption") and hash(fig) == hash(Figure("a.png", "A caption"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fig.file = "b.png"


def test_section_requires_slug_and_title():
    """Section cannot be built without its slug and title."""
    with pytest.raises(TypeError):
        Section()
    with pytest.raises(TypeError):
        Section("only-slug")


def test_section_defaults_are_empty_and_not_shared():
    """Section's paragraphs, figures, table and numbers start empty and are fresh per instance."""
    a, b = Section("a", "A"), Section(slug="b", title="B")
    assert (a.paragraphs, a.figures, a.table, a.numbers) == ([], [], [], {})
    a.paragraphs.append("p")
    a.figures.append(Figure("f.png", "c"))
    a.table.append(("x", "1"))
    a.numbers["x"] = 1
    assert (b.paragraphs, b.figures, b.table, b.numbers) == ([], [], [], {})
    assert [f.name for f in dataclasses.fields(Section)] == [
        "slug",
        "title",
        "paragraphs",
        "figures",
        "table",
        "numbers",
    ]


def test_section_is_mutable():
    """Section (unlike Figure and TourContext) can be filled in after construction."""
    s = Section("s", "S")
    s.title = "New"
    assert s.title == "New"


def test_tour_context_defaults_and_frozen(tmp_path):
    """TourContext defaults to quick=False, progress=True and cannot be modified."""
    ctx = TourContext(out=tmp_path)
    assert (ctx.out, ctx.quick, ctx.progress) == (tmp_path, False, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.quick = True
    with pytest.raises(TypeError):
        TourContext()


def test_figure_draws_into_out_and_returns_record(tmp_path):
    """ctx.figure calls draw(out / name) once and returns Figure(name, caption)."""
    ctx = TourContext(out=tmp_path, progress=False)
    calls = []

    def draw(path):
        calls.append(path)
        path.write_bytes(b"png")

    fig = ctx.figure("plot.png", "The caption", draw)
    assert calls == [tmp_path / "plot.png"]
    assert (tmp_path / "plot.png").read_bytes() == b"png"
    assert fig == Figure(file="plot.png", caption="The caption")


def test_figure_propagates_draw_errors(tmp_path):
    """An exception in draw reaches the chapter instead of yielding a Figure."""
    ctx = TourContext(out=tmp_path)

    def draw(path):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        ctx.figure("x.png", "c", draw)


@pytest.mark.parametrize("progress", [True, False])
def test_steps_bar_settings(tmp_path, fake_bar, progress):
    """steps makes one bar with the given desc and total, disabled when progress is False."""
    with TourContext(out=tmp_path, progress=progress).steps("Chapter", total=3) as advance:
        assert callable(advance)
    (bar,) = fake_bar.made
    assert bar.kwargs["desc"] == "Chapter"
    assert bar.kwargs["total"] == 3
    assert bar.kwargs["disable"] is (not progress)
    assert bar.kwargs["leave"] is False


def test_steps_counts_completed_steps(tmp_path, fake_bar):
    """Each advance completes the previous step, leaving the block completes the last: n == total."""
    with TourContext(out=tmp_path).steps("d", total=3) as advance:
        (bar,) = fake_bar.made
        advance("one")
        assert bar.n == 0 and bar.postfix == ["one"]
        advance("two")
        assert bar.n == 1
        advance("three")
        assert bar.n == 2
    assert bar.n == 3
    assert bar.postfix == ["one", "two", "three"]
    assert bar.closed


def test_steps_closes_bar_on_error(tmp_path, fake_bar):
    """An exception inside steps propagates, closes the bar and does not count the failed step."""
    with pytest.raises(ValueError, match="bad"), TourContext(out=tmp_path).steps("d", total=2) as advance:
        advance("first")
        raise ValueError("bad")
    (bar,) = fake_bar.made
    assert bar.closed and bar.n == 0


def test_steps_real_tqdm_progress_on_stderr(tmp_path, capsys):
    """With the real tqdm, progress=True draws on stderr and progress=False prints nothing."""
    with TourContext(out=tmp_path, progress=False).steps("quiet-bar", total=2) as advance:
        advance("a")
        advance("b")
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    with TourContext(out=tmp_path, progress=True).steps("loud-bar", total=2) as advance:
        advance("a")
        advance("b")
    loud = capsys.readouterr()
    assert loud.out == "" and "loud-bar" in loud.err


def test_chapter_type_and_reexports():
    """Chapter is Callable[[TourContext], Section]; the chapters package re-exports base's types."""
    assert Chapter == Callable[[TourContext], Section]
    assert chapters_pkg.Chapter is Chapter
    assert chapters_pkg.Figure is Figure
    assert chapters_pkg.Section is Section
    assert chapters_pkg.TourContext is TourContext
    assert chapters_pkg.CHAPTERS and all(callable(c) for c in chapters_pkg.CHAPTERS)


def test_toy_chapter_runs_in_tour(tmp_path):
    """A Chapter built from these types runs in the tour: numbers keyed by slug, figure in the page."""

    def toy(ctx: TourContext) -> Section:
        with ctx.steps("toy", total=1) as advance:
            advance("draw")
            fig = ctx.figure("toy.png", "Toy <caption>", lambda p: p.write_bytes(b"\x89PNG"))
        return Section(
            "toy-slug", "Toy", paragraphs=["Hello"], figures=[fig], table=[("k", "v")], numbers={"x": 1}
        )

    result = run_tour(tmp_path, progress=False, chapters=[toy])
    assert [s.slug for s in result.sections] == ["toy-slug"]
    assert json.loads(result.results.read_text())["chapters"] == {"toy-slug": {"x": 1}}
    page = result.report.read_text()
    assert 'id="toy-slug"' in page and "toy.png" in page and "Hello" in page
    assert (tmp_path / "toy.png").exists()
