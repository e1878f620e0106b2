"""Tests of freeenergy.cli.physics: `freeenergy thermo | ising | legendre | dos` against the library."""

import json

import numpy as np

import freeenergy as fe
from cli_helpers import run


def test_thermo_table_and_json(tmp_path, capsys):
    path = tmp_path / "levels.txt"
    path.write_text("# energy degeneracy\n0 1\n1 3\n")
    code, out, _ = run(["thermo", str(path), "--T", "0.5,1"], capsys)
    assert code == 0
    assert "log_Z" in out and len(out.strip().splitlines()) == 3
    code, out, _ = run(["thermo", str(path), "--T", "0.5:1:2", "--json"], capsys)
    data = json.loads(out)
    expected = fe.free_energy([0.0, 1.0], T=[0.5, 1.0], log_degeneracy=np.log([1, 3]))
    np.testing.assert_allclose(data["free_energy"], expected, rtol=1e-15)


def test_thermo_reads_npy_and_csv(tmp_path, capsys):
    np.save(tmp_path / "e.npy", np.array([0.0, 2.0]))
    (tmp_path / "e.csv").write_text("0,1\n2,1\n")
    _, out_npy, _ = run(["thermo", str(tmp_path / "e.npy"), "--beta", "1", "--json"], capsys)
    _, out_csv, _ = run(["thermo", str(tmp_path / "e.csv"), "--beta", "1", "--json"], capsys)
    assert json.loads(out_npy)["log_z"] == json.loads(out_csv)["log_z"]


def test_thermo_zero_temperature_json_is_standard(tmp_path, capsys):
    path = tmp_path / "e.txt"
    path.write_text("-1\n0\n")
    _, out, _ = run(["thermo", str(path), "--T", "0", "--json"], capsys)
    data = json.loads(out)
    assert data["log_z"] == ["inf"] and data["free_energy"] == [-1.0]


def test_ising_matches_library_and_plots(tmp_path, capsys):
    png = tmp_path / "ising.png"
    code, out, err = run(
        ["ising", "--size", "4", "--T", "2,3", "--per-site", "--json", "--plot", str(png)], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    th = fe.IsingLattice(4, 4).thermodynamics(T=[2.0, 3.0], per_site=True)
    np.testing.assert_allclose(data["free_energy"], th.free_energy, rtol=1e-14)
    np.testing.assert_allclose(data["F_Onsager"], fe.onsager_free_energy(np.array([2.0, 3.0])))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _double_well(tmp_path):
    x = np.linspace(-2.0, 2.0, 81)
    path = tmp_path / "well.txt"
    np.savetxt(path, np.c_[x, (x**2 - 1) ** 2])
    return path, x


def test_legendre_conjugate_matches_library_and_touching_points(tmp_path, capsys):
    path, x = _double_well(tmp_path)
    code, out, _ = run(["legendre", str(path), "--s=-1,0,2", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    expected = fe.legendre_fenchel(x, (x**2 - 1) ** 2, [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(data["f_star"], expected.f_star, rtol=1e-15)
    f = (x**2 - 1) ** 2
    np.testing.assert_allclose(np.array(data["s"]) * data["x_touch"] - np.interp(data["x_touch"], x, f),
                               data["f_star"], rtol=1e-12, atol=1e-15)


def test_legendre_envelope_fills_the_double_well(tmp_path, capsys):
    path, x = _double_well(tmp_path)
    code, out, err = run(["legendre", str(path), "--envelope"], capsys)
    assert code == 0
    rows = np.array([[float(v) for v in line.split()] for line in out.strip().splitlines()[1:]])
    assert rows.shape == (81, 4)
    inside = np.abs(x) < 1 - 1e-9
    np.testing.assert_allclose(rows[inside, 2], 0.0, atol=1e-12)  # the hull is flat between the wells
    assert f"{int(inside.sum())} of 81 points lie strictly off the convex envelope" in err


def test_legendre_concave_is_minus_conjugate_of_minus_f(tmp_path, capsys):
    path, x = _double_well(tmp_path)
    code, out, _ = run(["legendre", str(path), "--concave", "--s", "0.5,1", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    f = (x**2 - 1) ** 2
    brute = [np.min(s * x - f) for s in (0.5, 1.0)]
    np.testing.assert_allclose(data["f_star"], brute, rtol=1e-14)
    assert data["kind"] == "concave"


def test_legendre_plot_and_bad_files(tmp_path, capsys):
    path, _ = _double_well(tmp_path)
    code, _, err = run(["legendre", str(path), "--plot", str(tmp_path / "c.png")], capsys)
    assert code == 0 and (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    unsorted = tmp_path / "unsorted.txt"
    unsorted.write_text("1 0\n0 1\n")
    code, _, err = run(["legendre", str(unsorted)], capsys)
    assert code == 2 and "strictly increasing" in err and len(err.strip().splitlines()) == 1
    three = tmp_path / "three.txt"
    three.write_text("1 0 3\n2 1 4\n")
    code, _, err = run(["legendre", str(three)], capsys)
    assert code == 2 and "x, f" in err


def test_dos_exact_matches_library(capsys):
    code, out, _ = run(["dos", "--size", "4", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    exact = fe.IsingLattice(4, 4).density_of_states()
    np.testing.assert_array_equal(data["E"], exact.energies)
    np.testing.assert_allclose(data["log_g"], exact.log_g, rtol=1e-15)


def test_dos_wang_landau_is_seeded_and_compared_with_exact(tmp_path, capsys):
    argv = ["dos", "--size", "4", "--method", "wang-landau", "--ln-f-final", "1e-6", "--seed", "3",
            "--no-progress", "--json"]
    code, out, err = run(argv, capsys)
    assert code == 0 and "flips/s" in err
    first = json.loads(out)
    assert first["max_relative_error_log_g"] < 0.1
    _, again, _ = run(argv, capsys)
    assert json.loads(again)["log_g"] == first["log_g"]
    code, _, _ = run([*argv[:-1], "--plot", str(tmp_path / "wl.png")], capsys)
    assert code == 0 and (tmp_path / "wl.png").exists()


def test_dos_wang_landau_walks_give_a_standard_error(capsys):
    """--walks 4 prints log g with its standard error, equal to the library's for the same seed."""
    from freeenergy.sampling.wang_landau import wang_landau

    argv = ["dos", "--size", "4", "--method", "wang-landau", "--ln-f-final", "1e-4", "--seed", "2",
            "--walks", "4", "--no-progress", "--json"]
    code, out, _ = run(argv, capsys)
    data = json.loads(out)
    res = wang_landau(fe.IsingLattice(4, 4), ln_f_final=1e-4, method="1/t", seed=2, n_walks=4,
                      ground_degeneracy=2)
    assert code == 0
    np.testing.assert_array_equal(np.asarray(data["log_g"], dtype=float), res.log_g)
    ok = res.visited[1:]
    np.testing.assert_array_equal(np.asarray(data["log_g_stderr"], dtype=float)[1:][ok],
                                  res.log_g_stderr[1:][ok])
    code, _, err = run([*argv[:-1], "--walks", "0"], capsys)
    assert code == 2 and "--walks must be an integer >= 1" in err


def test_dos_rejects_lattices_beyond_exact_counts(capsys):
    code, _, err = run(["dos", "--size", "65"], capsys)
    assert code == 2 and "wang-landau" in err
