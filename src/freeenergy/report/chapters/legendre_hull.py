"""Chapter: Legendre, Legendre-Fenchel and the convex hull (exact and Wang-Landau Ising DOS)."""

from __future__ import annotations

import numpy as np

from freeenergy.report import plots
from freeenergy.report.chapters.base import Section, TourContext
from freeenergy.sampling.wang_landau import wang_landau
from freeenergy.spectra.ensembles import ensemble_inequivalence, saddle_point_gap
from freeenergy.spectra.legendre import convex_envelope, legendre_fenchel
from freeenergy.systems import IsingLattice, critical_temperature

_F_CHECK_T = (1.5, 2.269, 3.0)


def _beale_index(energies: np.ndarray, n_sites: int) -> list[int]:
    """Beale's level index k of the Ising torus: E = -2N + 4k."""
    return [int(k) for k in np.round((np.asarray(energies) + 2 * n_sites) / 4)]


def _runs(ks: list[int]) -> str:
    """Compress sorted odd indices into 'a..b' runs (step 2)."""
    parts, start = [], 0
    for i in range(1, len(ks) + 1):
        if i == len(ks) or ks[i] != ks[i - 1] + 2:
            parts.append(f"{ks[start]}" if i - 1 == start else f"{ks[start]}..{ks[i - 1]}")
            start = i
    return ", ".join(parts)


def _double_well() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-2.0, 2.0, 401)
    return x, (x**2 - 1) ** 2 + 0.3 * x


def chapter(ctx: TourContext) -> Section:
    """Concave hull of the 32 x 32 entropy, saddle-point F, a biconjugate, Wang-Landau DOS."""
    size = 32
    lattice = IsingLattice(size, size)
    n = lattice.n_sites
    tc = critical_temperature()
    temps = np.linspace(0.5, 5.0, 120 if ctx.quick else 400)
    wl_size, wl_ln_f = (8, 1e-6) if ctx.quick else (16, 1e-6)

    with ctx.steps("Legendre and the hull", total=5) as advance:
        advance("exact density of states")
        dos = lattice.density_of_states()
        ineq = ensemble_inequivalence(dos)
        advance("saddle point vs exact sum")
        gap = saddle_point_gap(dos, T=temps)
        at_tc = saddle_point_gap(dos, T=tc)
        advance("a non-convex function")
        x, f = _double_well()
        env = convex_envelope(x, f)
        s, f_star = legendre_fenchel(x, f)
        f_bi = legendre_fenchel(s, f_star, x).f_star  # f** on x, from the sampled conjugate
        advance(f"Wang-Landau {wl_size}x{wl_size}")
        wl_lattice = IsingLattice(wl_size, wl_size)
        wl = wang_landau(wl_lattice, ln_f_final=wl_ln_f, method="1/t", ground_degeneracy=2, seed=2026)
        wl_exact = wl_lattice.density_of_states()
        common = np.isin(wl.energies, wl_exact.energies) & np.isfinite(wl.log_g)
        ref = wl_exact.log_g[np.searchsorted(wl_exact.energies, wl.energies[common])]
        wl_rel_err = float(np.max(np.abs(wl.log_g[common] - ref) / ref))
        f_err = {
            str(t): float(abs(wl.dos.free_energy(T=t) - wl_exact.free_energy(T=t)) / wl_lattice.n_sites)
            for t in _F_CHECK_T
        }
        advance("figures")
        marked = np.zeros(dos.energies.size, dtype=bool)
        marked[ineq.indices] = True
        figures = [
            ctx.figure(
                "legendre_entropy_hull.png",
                f"The microcanonical entropy S(E) = log g(E) of the {size}x{size} torus (exact "
                "counts) and its concave hull S**(E), the Legendre-Fenchel biconjugate that the "
                "canonical ensemble sees. Circled levels lie strictly below the hull: at those "
                "energies the two ensembles disagree.",
                lambda p: plots.plot_entropy_hull(
                    dos.energies / n, dos.log_g / n, ineq.hull_entropy / n, marked, p,
                    zoom=(-2.0, -1.9), title=f"{size}x{size} Ising torus, per spin",
                ),
            ),
            ctx.figure(
                "legendre_saddle_point.png",
                "Free energy per spin from the exact sum over levels and from the saddle point "
                "min_E [E - T S(E)] (the Legendre transform of S). The saddle point lies above "
                "by at most T log(levels) / N; the gap (right axis of the next figure) is "
                "largest near T_c.",
                lambda p: plots.plot_curves(
                    temps, {"exact  -T log Z / N": gap.exact / n, "--saddle point / N": gap.saddle / n},
                    p, xlabel="temperature T", ylabel="F per spin", markers={"T_c": tc},
                    title="exact sum vs Legendre transform",
                ),
            ),
            ctx.figure(
                "legendre_saddle_gap.png",
                "Saddle-point minus exact free energy per spin (log scale): the Legendre "
                "transform is the large-N limit, off by O(log N / N).",
                lambda p: plots.plot_curves(
                    temps, {"F_saddle - F_exact per spin": gap.gap / n}, p, xlabel="temperature T",
                    ylabel="per spin", log=True, markers={"T_c": tc}, title="saddle-point gap",
                ),
            ),
            ctx.figure(
                "legendre_biconjugate.png",
                "A non-convex f(x) = (x^2 - 1)^2 + 0.3 x with its convex envelope f** (left) and "
                "its Legendre-Fenchel conjugate f*(s) (right): transforming twice fills the "
                "well between the tangent points with the common tangent.",
                lambda p: plots.plot_conjugate(x, f, env.values, s, f_star, p, title="f, f** and f*"),
            ),
            ctx.figure(
                "legendre_wang_landau.png",
                f"Wang-Landau (1/t schedule, ln f -> {wl_ln_f:g}) against the exact density of "
                f"states of the {wl_size}x{wl_size} torus.",
                lambda p: plots.plot_dos(
                    wl.dos, p, n_sites=wl_lattice.n_sites, references={"exact (Beale)": wl_exact},
                    label="Wang-Landau", title=f"{wl_size}x{wl_size}: Wang-Landau vs exact",
                ),
            ),
        ]

    k_off = _beale_index(ineq.energies, n)
    k_empty = _beale_index(ineq.empty_energies, n)
    biconj_err = float(np.max(np.abs(f_bi - env.values)))
    numbers = {
        "size": size,
        "inequivalent_levels_beale_k": k_off,
        "empty_levels_beale_k": k_empty,
        "max_entropy_gap_to_hull": float(ineq.gap.max()),
        "saddle_gap_per_site_at_Tc": float(at_tc.gap[0] / n),
        "saddle_gap_log_z_per_site_at_Tc": float(at_tc.log_z_gap[0] / n),
        "exact_free_energy_per_site_at_Tc": float(at_tc.exact[0] / n),
        "saddle_free_energy_per_site_at_Tc": float(at_tc.saddle[0] / n),
        "double_well_points_off_envelope": int(env.off.size),
        "max_abs_biconjugate_vs_envelope": biconj_err,
        "wang_landau_size": wl_size,
        "wang_landau_ln_f_final": wl.ln_f_final,
        "wang_landau_flips": wl.n_flips,
        "wang_landau_seconds": wl.seconds,
        "wang_landau_flips_per_second": wl.flips_per_second,
        "wang_landau_max_relative_error_log_g": wl_rel_err,
        "wang_landau_abs_free_energy_error_per_site": f_err,
    }
    table = [
        (f"{size}x{size} levels with S below its concave hull (Beale's k, E = -2N + 4k)", _runs(k_off)),
        ("levels with g = 0 inside the spectrum (k)", ", ".join(map(str, k_empty))),
        ("largest S** - S", f"{ineq.gap.max():.4f} nats"),
        ("saddle-point minus exact F per spin at T_c", f"{at_tc.gap[0] / n:.7f} "
         f"({at_tc.log_z_gap[0] / n:.7f} nats of log Z)"),
        (f"double well: points off the convex envelope; max |f** - envelope| from {s.size} sampled slopes",
         f"{env.off.size} of {x.size}; {biconj_err:.1e}"),
        (f"Wang-Landau {wl_size}x{wl_size}",
         f"{wl.n_flips:.3g} flips in {wl.seconds:.1f} s ({wl.flips_per_second:.3g} flips/s)"),
        ("Wang-Landau max relative error of log g", f"{wl_rel_err:.3g}"),
        ("Wang-Landau |F error| per spin at T = " + ", ".join(map(str, _F_CHECK_T)),
         ", ".join(f"{v:.1e}" for v in f_err.values())),
    ]
    paragraphs = [
        "The Legendre transform swaps the entropy S(E) for the temperature: beta F(beta) = "
        "min_E [beta E - S(E)]. Transforming back gives S**(E), the concave hull of S, so "
        "any part of S(E) that bulges below its hull is invisible to the canonical ensemble. "
        "Where S is not concave, the Legendre-Fenchel transform (a max over tangent lines) "
        "is the right one; its double application is the convex (or concave) envelope.",
        f"On the {size}x{size} torus the exact counts show it: just above the ground state a "
        "single flipped spin costs 8J but the first excitations come in pairs, so the odd "
        "levels near both ends of the spectrum sit below the hull: there, microcanonical "
        "and canonical ensembles disagree. The saddle point min_E [E - T S(E)] misses the "
        "sum over levels by O(log N / N) per spin: the Legendre transform is exact only as "
        "N -> infinity.",
        "Where exact counts are out of reach, Wang-Landau sampling estimates log g(E) by a "
        "random walk that visits every energy equally often; its free energies are compared "
        "here with the exact ones.",
    ]
    return Section(
        slug="legendre_hull",
        title="Legendre, Legendre-Fenchel and the convex hull",
        paragraphs=paragraphs,
        figures=figures,
        table=table,
        numbers=numbers,
    )
