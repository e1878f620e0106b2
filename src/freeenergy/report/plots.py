"""Figures (PNG), written atomically.

Figures are made with matplotlib's object API, not pyplot: nothing is registered with pyplot,
so a failed drawing leaks no figure and the caller's backend is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from freeenergy._io import atomic_write
from freeenergy._params import InputError
from freeenergy.spectra.dos import DensityOfStates
from freeenergy.spectra.thermo import Thermodynamics

__all__ = ["plot_curves", "plot_dos", "plot_thermodynamics"]

_PANELS = (
    ("free_energy", "free energy F"),
    ("energy", "energy U = <E>"),
    ("entropy", "entropy S (nats)"),
    ("heat_capacity", "heat capacity C"),
)


def save(fig: Figure, path: str | os.PathLike) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def _subplots(*grid, figsize: tuple[float, float], **kwargs):
    """A new figure of ``figsize`` inches and its axes (``Figure.subplots`` arguments)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def plot_thermodynamics(
    th: Thermodynamics,
    path: str | os.PathLike,
    *,
    title: str = "",
    references: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    markers: Mapping[str, float] | None = None,
) -> Path:
    """F, U, S and C against T in four panels.

    Parameters
    ----------
    th : Thermodynamics
        The curves (per site or total, as the caller chose).
    path : path-like
        Output PNG.
    references : mapping, optional
        ``label -> (T, F)`` curves drawn dashed on the free-energy panel (e.g. Onsager).
    markers : mapping, optional
        ``label -> T`` vertical lines drawn on every panel (e.g. T_c).
    """
    fig, axes = _subplots(2, 2, figsize=(9, 6.5), sharex=True)
    for ax, (name, label) in zip(axes.ravel(), _PANELS, strict=True):
        ax.plot(th.T, getattr(th, name), lw=1.8, label="exact")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        for mark, t in (markers or {}).items():
            ax.axvline(t, color="0.5", ls=":", lw=1, label=mark)
    for label, (t, f) in (references or {}).items():
        axes[0, 0].plot(t, f, "--", lw=1.2, label=label)
    axes[0, 0].legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("temperature T")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_dos(
    dos: DensityOfStates,
    path: str | os.PathLike,
    *,
    n_sites: int = 1,
    title: str = "",
    references: Mapping[str, DensityOfStates] | None = None,
    label: str = "",
) -> Path:
    """Microcanonical entropy ``S(E) = log g(E)`` (per site when ``n_sites > 1``).

    ``references`` (``label -> DensityOfStates``) are drawn as lines under the points, e.g. the
    exact density of states beside a Wang-Landau estimate.
    """
    fig, ax = _subplots(figsize=(7, 4.5))
    for ref_label, ref in (references or {}).items():
        ok = ref.log_g > -np.inf
        ax.plot(ref.energies[ok] / n_sites, ref.log_g[ok] / n_sites, "-", lw=1, label=ref_label)
    ok = dos.log_g > -np.inf
    ax.plot(dos.energies[ok] / n_sites, dos.log_g[ok] / n_sites, ".", ms=3, label=label or None)
    per = " per site" if n_sites > 1 else ""
    ax.set_xlabel(f"energy E{per}")
    ax.set_ylabel(f"log g(E){per}")
    ax.grid(alpha=0.3)
    if references or label:
        ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return save(fig, path)


def plot_conjugate(
    x: np.ndarray,
    f: np.ndarray,
    envelope: np.ndarray,
    s: np.ndarray,
    f_star: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str = "",
    concave: bool = False,
) -> Path:
    """A function with its envelope (left) and its Legendre-Fenchel conjugate (right).

    ``envelope`` is the biconjugate on ``x``; ``concave`` only changes the labels (the caller
    passes the concave envelope and the concave conjugate then).
    """
    fig, (left, right) = _subplots(1, 2, figsize=(10, 4.2))
    kind = "concave" if concave else "convex"
    left.plot(x, f, ".", ms=3, label="f")
    keep = np.isfinite(envelope)
    left.plot(x[keep], envelope[keep], "-", lw=1.5, label=f"{kind} envelope f**")
    left.set_xlabel("x")
    left.legend(fontsize=8)
    right.plot(s, f_star, "-", lw=1.8)
    right.set_xlabel("slope s")
    right.set_ylabel(f"f*(s) ({kind} conjugate)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_curves(
    x: np.ndarray,
    curves: Mapping[str, np.ndarray],
    path: str | os.PathLike,
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    log: bool = False,
    markers: Mapping[str, float] | None = None,
) -> Path:
    """Several labelled curves against one x axis (log-log when ``log``; non-positive values
    are left out there). Labels starting with "--" are drawn dashed."""
    x = np.asarray(x, dtype=float)
    fig, ax = _subplots(figsize=(7, 4.5))
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise InputError(f"The curve {label!r} of plot_curves has shape {y.shape}; the x axis "
                             f"has shape {x.shape}.")
        keep = y > 0 if log else np.isfinite(y)
        dashed = label.startswith("--")
        ax.plot(x[keep], y[keep], "--" if dashed else "-", lw=1.2 if dashed else 1.8,
                label=label.removeprefix("--"))
    for mark, t in (markers or {}).items():
        ax.axvline(t, color="0.5", ls=":", lw=1, label=mark)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return save(fig, path)


def plot_entropy_hull(
    energies: np.ndarray,
    entropy: np.ndarray,
    hull: np.ndarray,
    marked: np.ndarray,
    path: str | os.PathLike,
    *,
    zoom: tuple[float, float],
    title: str = "",
) -> Path:
    """``S(E)`` with its concave hull, levels strictly below the hull marked, and a zoom panel.

    ``marked`` is a boolean mask over ``energies``; ``zoom = (E_lo, E_hi)`` is the energy window
    of the right panel, where the hull is drawn against ``S`` itself.
    """
    fig, (full, near) = _subplots(1, 2, figsize=(11, 4.3))
    ok = np.isfinite(entropy)
    for ax, window in ((full, None), (near, zoom)):
        keep = ok if window is None else ok & (energies >= window[0]) & (energies <= window[1])
        ax.plot(energies[keep], hull[keep], "-", lw=1.2, color="C1", label="concave hull S**(E)")
        ax.plot(energies[keep], entropy[keep], ".", ms=3 if window is None else 6, color="C0",
                label="S(E) = log g(E)")
        hit = keep & marked
        ax.plot(energies[hit], entropy[hit], "o", mfc="none", ms=8, color="C3",
                label="S < S** (ensembles inequivalent)")
        ax.set_xlabel("energy E per site")
        ax.grid(alpha=0.3)
    full.set_ylabel("entropy per site")
    near.set_title("near the ground state")
    near.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_image_grid(
    images: np.ndarray, shape: tuple[int, int], path: str | os.PathLike, *, title: str = "", columns: int = 0
) -> Path:
    """Flattened images (one per row, values in [0, 1]) drawn as a grey-scale grid."""
    images = np.asarray(images, dtype=float).reshape(-1, *shape)
    n = images.shape[0]
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    size = (cols * 0.9, rows * 0.9 + (0.4 if title else 0.0))
    fig, axes = _subplots(rows, cols, figsize=size, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img in zip(axes.ravel(), images, strict=False):
        ax.imshow(img, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=0.2)
    return save(fig, path)
