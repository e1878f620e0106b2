"""What a tour chapter receives and returns."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm


@dataclass(frozen=True)
class Figure:
    """A PNG written by a chapter, with its caption (file name relative to the report)."""

    file: str
    caption: str


@dataclass
class Section:
    """One chapter's contribution to the report.

    Attributes
    ----------
    slug : str
        Identifier, used as the key in ``results.json`` and as the HTML anchor.
    title : str
    paragraphs : list of str
        Plain-text paragraphs (escaped when rendered).
    figures : list of Figure
    table : list of (label, value) pairs
        The headline numbers, already formatted for reading.
    numbers : dict
        Machine-readable results for ``results.json``.
    """

    slug: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    table: list[tuple[str, str]] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TourContext:
    """Settings shared by every chapter.

    Attributes
    ----------
    out : Path
        Directory of the report; figures go beside ``report.html``.
    quick : bool
        Smaller systems and grids, so the whole tour finishes in under a minute.
    progress : bool
        Show progress bars (on stderr).
    """

    out: Path
    quick: bool = False
    progress: bool = True

    def figure(self, name: str, caption: str, draw: Callable[[Path], object]) -> Figure:
        """Draw a figure into ``out/name`` and return its record for the section."""
        draw(self.out / name)
        return Figure(file=name, caption=caption)

    @contextlib.contextmanager
    def steps(self, desc: str, total: int) -> Iterator[Callable[[str], None]]:
        """A progress bar over a chapter's ``total`` named steps.

        Yields a function ``advance(label)``: call it as each step starts.
        """
        bar = tqdm(total=total, desc=desc, disable=not self.progress, leave=False, unit="step")
        started = False

        def advance(label: str) -> None:
            nonlocal started
            if started:
                bar.update(1)
            started = True
            bar.set_postfix_str(label)

        try:
            yield advance
            bar.update(1)
        finally:
            bar.close()


Chapter = Callable[[TourContext], Section]
