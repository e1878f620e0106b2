"""The tour's HTML report and ``results.json``."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from freeenergy._io import atomic_write_text, dumps
from freeenergy.report.chapters.base import Section

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
h1 { border-bottom: 2px solid #ccc; } h2 { margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 1rem 0; }
td { border-bottom: 1px solid #ddd; padding: .3rem .8rem; } td:last-child { font-family: monospace; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #555; }
nav li { margin: .2rem 0; }
"""


def _section_html(section: Section) -> str:
    esc = html.escape
    parts = [f'<section id="{esc(section.slug)}"><h2>{esc(section.title)}</h2>']
    parts += [f"<p>{esc(p)}</p>" for p in section.paragraphs]
    if section.table:
        rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in section.table)
        parts.append(f"<table>{rows}</table>")
    for fig in section.figures:
        parts.append(
            f'<figure><img src="{esc(fig.file)}" alt="{esc(fig.caption)}">'
            f"<figcaption>{esc(fig.caption)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def render_html(sections: Sequence[Section], *, title: str, footer: str) -> str:
    """A self-contained HTML page (figures referenced by relative path)."""
    toc = "".join(
        f'<li><a href="#{html.escape(s.slug)}">{html.escape(s.title)}</a></li>' for s in sections
    )
    body = "\n".join(_section_html(s) for s in sections)
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><nav><ol>{toc}</ol></nav>\n{body}\n"
        f"<footer><p><small>{html.escape(footer)}</small></p></footer></body></html>\n"
    )


def write_report(
    sections: Sequence[Section], out: Path, *, title: str, footer: str, meta: dict
) -> tuple[Path, Path]:
    """Write ``out/report.html`` and ``out/results.json`` atomically; return both paths.

    Both texts are built before either file is written, so a failure leaves the previous pair.
    """
    page = render_html(sections, title=title, footer=footer)
    numbers = dumps({"meta": meta, "chapters": {s.slug: s.numbers for s in sections}}) + "\n"
    return atomic_write_text(out / "report.html", page), atomic_write_text(out / "results.json", numbers)
