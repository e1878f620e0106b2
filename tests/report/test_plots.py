"""The report's figures (freeenergy.report.plots): PNG files written atomically, holding the data given.

Every plotting function returns only the path, so the figure is caught on its way to ``plots.save``
(the real ``save`` still writes the file) and its lines are compared with the arrays the test
passed in, filtered by hand (``-inf`` levels, non-positive values on log axes, points outside a
zoom window). Atomicity is the promise of :mod:`freeenergy._io`: a failed plot leaves the file
that was at the path byte for byte, and no temporary file stays in the directory.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import freeenergy as fe
from freeenergy.report import plots

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after the backend, as the module does
from matplotlib.figure import Figure

PNG = b"\x89PNG\r\n\x1a\n"
OLD = b"the previous figure, which a failed plot must leave as it was"


@pytest.fixture
def drawn(monkeypatch):
    """The figures handed to ``plots.save``, in order (the real ``save`` still runs)."""
    figures = []
    real_save = plots.save

    def spy(fig, path):
        figures.append(fig)
        return real_save(fig, path)

    monkeypatch.setattr(plots, "save", spy)
    return figures


@pytest.fixture(autouse=True)
def no_figures_left_open():
    """Every test starts with no pyplot figure open and closes what it leaves (see the xfail)."""
    plt.close("all")
    yield
    plt.close("all")


def assert_png(path):
    """A complete PNG: the signature, a header chunk first and the end chunk last."""
    data = path.read_bytes()
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 50 and height > 50


def assert_only(directory, *names):
    """The directory holds exactly ``names`` (no temporary file left beside them)."""
    assert sorted(p.name for p in directory.iterdir()) == sorted(names)


def xy(line):
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def assert_line(line, x, y, linestyle=None, marker=None):
    got_x, got_y = xy(line)
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    if linestyle is not None:
        assert line.get_linestyle() == linestyle
    if marker is not None:
        assert line.get_marker() == marker


def legend_texts(ax):
    legend = ax.get_legend()
    return None if legend is None else [t.get_text() for t in legend.get_texts()]


def two_level(T):
    return fe.thermodynamics([0.0, 1.0], T=T)


# ---------------------------------------------------------------------------------- thermodynamics
def test_thermodynamics_writes_png_at_the_given_path(tmp_path, drawn):
    """plot_thermodynamics returns the path it was given and leaves exactly one PNG there."""
    path = tmp_path / "thermo.png"
    assert plots.plot_thermodynamics(two_level(np.linspace(0.2, 3.0, 7)), path) == path
    assert_png(path)
    assert_only(tmp_path, "thermo.png")
    assert plt.get_fignums() == []  # the figure was closed after saving


def test_thermodynamics_panels_hold_the_curves_given(tmp_path, drawn):
    """Each of the four panels draws its own quantity against T, plus references and markers."""
    T = np.linspace(0.2, 3.0, 7)
    th = two_level(T)
    ref_t, ref_f = np.array([0.5, 1.0, 2.0]), np.array([-0.1, -0.3, -0.9])
    plots.plot_thermodynamics(th, tmp_path / "t.png", title="Two levels",
                              references={"closed form": (ref_t, ref_f)}, markers={"T_c": 1.5})
    (fig,) = drawn
    axes = fig.axes
    assert len(axes) == 4
    expected = [(th.free_energy, "free energy F"), (th.energy, "energy U = <E>"),
                (th.entropy, "entropy S (nats)"), (th.heat_capacity, "heat capacity C")]
    for ax, (y, ylabel) in zip(axes, expected, strict=True):
        assert ax.get_ylabel() == ylabel
        lines = ax.get_lines()
        assert len(lines) == (3 if ax is axes[0] else 2)  # the reference only on the F panel
        curve, marker = lines[:2]
        assert_line(curve, T, y, linestyle="-")
        assert_line(marker, [1.5, 1.5], xy(marker)[1], linestyle=":")  # a vertical line at T_c
        assert marker.get_label() == "T_c"
    assert_line(axes[0].get_lines()[2], ref_t, ref_f, linestyle="--")
    assert legend_texts(axes[0]) == ["exact", "T_c", "closed form"]
    assert [ax.get_xlabel() for ax in axes] == ["", "", "temperature T", "temperature T"]
    assert fig.get_suptitle() == "Two levels"


def test_thermodynamics_without_title_has_no_suptitle(tmp_path, drawn):
    """No title given: no suptitle and no extra lines beyond the four curves."""
    plots.plot_thermodynamics(two_level(np.array([0.5, 1.0, 2.0])), tmp_path / "t.png")
    (fig,) = drawn
    assert fig.get_suptitle() == ""
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1, 1, 1]


# ---------------------------------------------------------------------------------- density of states
def test_dos_per_site_drops_empty_levels(tmp_path, drawn):
    """plot_dos divides E and log g by n_sites and leaves out the levels with log g = -inf."""
    dos = fe.DensityOfStates([-4.0, -2.0, 0.0, 2.0], [0.0, -np.inf, np.log(6.0), np.log(2.0)])
    ref = fe.DensityOfStates([-4.0, 0.0, 2.0], [-np.inf, 1.0, 3.0])
    path = plots.plot_dos(dos, tmp_path / "dos.png", n_sites=2, title="<g>",
                          references={"exact": ref}, label="Wang-Landau")
    assert_png(path)
    (fig,) = drawn
    (ax,) = fig.axes
    exact, points = ax.get_lines()
    assert_line(exact, [0.0, 1.0], [0.5, 1.5], linestyle="-")
    assert_line(points, [-2.0, 0.0, 1.0], [0.0, np.log(6.0) / 2, np.log(2.0) / 2], marker=".")
    assert ax.get_xlabel() == "energy E per site"
    assert ax.get_ylabel() == "log g(E) per site"
    assert ax.get_title() == "<g>"
    assert legend_texts(ax) == ["exact", "Wang-Landau"]


def test_dos_single_site_has_no_legend(tmp_path, drawn):
    """With n_sites = 1, no references and no label: raw values, plain axis labels, no legend."""
    dos = fe.DensityOfStates([1.0, -1.0], [np.log(3.0), 0.0])  # given unsorted
    plots.plot_dos(dos, tmp_path / "dos.png")
    (ax,) = drawn[0].axes
    (points,) = ax.get_lines()
    assert_line(points, [-1.0, 1.0], [0.0, np.log(3.0)])
    assert ax.get_xlabel() == "energy E" and ax.get_ylabel() == "log g(E)"
    assert ax.get_legend() is None


# ---------------------------------------------------------------------------------- conjugate
@pytest.mark.parametrize("concave", [False, True])
def test_conjugate_draws_function_envelope_and_conjugate(tmp_path, drawn, concave):
    """plot_conjugate: f as points, its finite envelope values as a line, f* on the right."""
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])
    f = np.array([1.0, 0.5, 2.0, 4.0, 7.0])
    envelope = np.array([np.inf, 0.5, np.nan, 4.0, -np.inf])  # non-finite entries are left out
    s = np.array([-2.0, 0.0, 3.0])
    f_star = np.array([1.0, -0.5, 2.0])
    path = plots.plot_conjugate(x, f, envelope, s, f_star, tmp_path / "c.png", title="LF",
                                concave=concave)
    assert_png(path)
    (fig,) = drawn
    left, right = fig.axes
    points, env = left.get_lines()
    assert_line(points, x, f, marker=".")
    assert_line(env, [0.0, 2.0], [0.5, 4.0], linestyle="-")
    (conj,) = right.get_lines()
    assert_line(conj, s, f_star)
    kind = "concave" if concave else "convex"
    assert legend_texts(left) == ["f", f"{kind} envelope f**"]
    assert right.get_ylabel() == f"f*(s) ({kind} conjugate)"
    assert right.get_xlabel() == "slope s" and left.get_xlabel() == "x"
    assert fig.get_suptitle() == "LF"


# ---------------------------------------------------------------------------------- curves
def test_curves_linear_drops_non_finite_and_dashes(tmp_path, drawn):
    """plot_curves keeps finite values, draws "--"-labelled curves dashed without the prefix."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    curves = {"model": [1.0, np.nan, -3.0, 4.0], "--reference": np.array([0.0, 1.0, np.inf, 2.0])}
    path = plots.plot_curves(x, curves, tmp_path / "c.png", xlabel="N", ylabel="error",
                             title="convergence", markers={"N*": 2.5})
    assert_png(path)
    (ax,) = drawn[0].axes
    model, reference, marker = ax.get_lines()
    assert_line(model, [1.0, 3.0, 4.0], [1.0, -3.0, 4.0], linestyle="-")
    assert_line(reference, [1.0, 2.0, 4.0], [0.0, 1.0, 2.0], linestyle="--")
    assert_line(marker, [2.5, 2.5], xy(marker)[1], linestyle=":")
    assert legend_texts(ax) == ["model", "reference", "N*"]
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("N", "error", "convergence")


def test_curves_log_drops_non_positive(tmp_path, drawn):
    """On log-log axes plot_curves leaves out the values <= 0 (and NaN)."""
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    plots.plot_curves(x, {"err": [0.5, 0.0, -1.0, 1e-3], "--slope": [1.0, np.nan, 1e-2, 1e-3]},
                      tmp_path / "c.png", xlabel="n", ylabel="e", log=True)
    (ax,) = drawn[0].axes
    err, slope = ax.get_lines()
    assert_line(err, [1.0, 1000.0], [0.5, 1e-3])
    assert_line(slope, [1.0, 100.0, 1000.0], [1.0, 1e-2, 1e-3], linestyle="--")
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")


# ---------------------------------------------------------------------------------- entropy hull
def test_entropy_hull_marks_points_and_zooms(tmp_path, drawn):
    """plot_entropy_hull: hull line, S(E) points and marked points, all cut to the zoom window."""
    energies = np.array([-2.0, -1.5, -1.0, -0.5, 0.0])
    entropy = np.array([0.0, -np.inf, 0.4, 0.5, 0.6])
    hull = np.array([0.0, 0.2, 0.45, 0.55, 0.6])
    marked = np.array([False, True, True, False, False])
    path = plots.plot_entropy_hull(energies, entropy, hull, marked, tmp_path / "h.png",
                                   zoom=(-1.5, -0.5), title="hull")
    assert_png(path)
    (fig,) = drawn
    full, near = fig.axes
    h, s, hit = full.get_lines()
    finite = [0, 2, 3, 4]  # the -inf level is left out
    assert_line(h, energies[finite], hull[finite], linestyle="-")
    assert_line(s, energies[finite], entropy[finite], marker=".")
    assert_line(hit, [-1.0], [0.4], marker="o")
    h, s, hit = near.get_lines()
    assert_line(h, [-1.0, -0.5], [0.45, 0.55])  # zoom window [-1.5, -0.5], ends included
    assert_line(s, [-1.0, -0.5], [0.4, 0.5])
    assert_line(hit, [-1.0], [0.4])
    assert near.get_title() == "near the ground state"
    assert full.get_ylabel() == "entropy per site"
    assert fig.get_suptitle() == "hull"


# ---------------------------------------------------------------------------------- image grid
@pytest.mark.parametrize(("columns", "grid"), [(0, (2, 3)), (5, (1, 5)), (2, (3, 2))])
def test_image_grid_draws_each_image(tmp_path, drawn, columns, grid):
    """plot_image_grid draws image i (reshaped) in cell i of a rows x cols grid, the rest blank."""
    images = np.linspace(0.0, 1.0, 5 * 6).reshape(5, 6)  # five 2x3 images, flattened
    path = plots.plot_image_grid(images, (2, 3), tmp_path / "g.png", columns=columns)
    assert_png(path)
    (fig,) = drawn
    assert len(fig.axes) == grid[0] * grid[1]
    for i, ax in enumerate(fig.axes):
        if i < 5:
            (im,) = ax.get_images()
            np.testing.assert_array_equal(im.get_array(), images[i].reshape(2, 3))
            assert im.get_clim() == (0.0, 1.0)
        else:
            assert ax.get_images() == []
        assert not ax.axison
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == grid


# ---------------------------------------------------------------------------------- atomic writes
def test_overwrites_an_existing_file_and_creates_directories(tmp_path):
    """A new plot replaces the old file; a missing parent directory is created; str paths work."""
    old = tmp_path / "old.png"
    old.write_bytes(OLD)
    plots.plot_dos(fe.DensityOfStates([0.0, 1.0], [0.0, 1.0]), str(old))
    assert_png(old)
    nested = tmp_path / "a" / "b" / "new.png"
    assert plots.plot_dos(fe.DensityOfStates([0.0, 1.0], [0.0, 1.0]), nested) == nested
    assert_png(nested)
    assert_only(tmp_path, "old.png", "a")
    assert_only(nested.parent, "new.png")


def bad_calls(path):
    """One call per plotting function that fails while drawing (mismatched lengths, bad TeX)."""
    short = np.arange(3.0)
    return {
        "thermodynamics": lambda: plots.plot_thermodynamics(
            two_level(np.array([0.5, 1.0])), path, references={"r": (short, np.arange(4.0))}),
        "dos": lambda: plots.plot_dos(fe.DensityOfStates([0.0, 1.0], [0.0, 1.0]), path,
                                      title=r"$\notacommand{$"),  # mathtext fails when drawn
        "conjugate": lambda: plots.plot_conjugate(short, np.arange(4.0), short, short, short, path),
        "curves": lambda: plots.plot_curves(short, {"y": np.arange(4.0)}, path, xlabel="", ylabel=""),
        "entropy_hull": lambda: plots.plot_entropy_hull(short, short, np.arange(4.0), short > 0, path,
                                                        zoom=(0.0, 1.0)),
        "image_grid": lambda: plots.plot_image_grid(np.zeros(7), (2, 3), path),
    }


@pytest.mark.parametrize("name", list(bad_calls(None)))
def test_failed_drawing_leaves_the_old_file(tmp_path, name):
    """Data that cannot be drawn raise, and the file already at the path is left unchanged."""
    path = tmp_path / "fig.png"
    path.write_bytes(OLD)
    with pytest.raises((ValueError, IndexError)):
        bad_calls(path)[name]()
    assert path.read_bytes() == OLD
    assert_only(tmp_path, "fig.png")


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    """A savefig that dies half-way through writing leaves the old file and no temporary file."""
    path = tmp_path / "fig.png"
    path.write_bytes(OLD)
    written = []

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(PNG + b"half a figure")
        written.append(fname)
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plots.plot_curves(np.arange(3.0), {"y": np.ones(3)}, path, xlabel="x", ylabel="y")
    assert len(written) == 1 and str(written[0]) != str(path)  # it wrote elsewhere, beside the target
    assert path.read_bytes() == OLD
    assert_only(tmp_path, "fig.png")
    assert plt.get_fignums() == []  # closed even though saving failed


def test_failed_drawing_leaves_no_figure_open(tmp_path):
    """A plot whose drawing fails leaves no pyplot figure open (the module never uses pyplot, so
    20 failures cannot end in matplotlib's 'More than 20 figures' warning)."""
    with pytest.raises(ValueError):
        plots.plot_curves(np.arange(3.0), {"y": np.arange(4.0)}, tmp_path / "f.png", xlabel="", ylabel="")
    assert plt.get_fignums() == []
