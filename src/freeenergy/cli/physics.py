"""``freeenergy thermo | ising | legendre | dos``: thermodynamics of spectra and of the exact Ising
lattice, Legendre-Fenchel conjugates of tables, densities of states."""

from __future__ import annotations

import sys

import numpy as np

from freeenergy.cli._common import (
    FORMATTER,
    CLIError,
    output_args,
    parse_range,
    print_table,
    temperature_args,
    temperatures,
    write_plot,
)


def _emit(th, args, extra: dict[str, np.ndarray] | None = None, meta: dict | None = None) -> None:
    from freeenergy._io import dumps

    columns = {
        "T": th.T,
        "log_Z": th.log_z,
        "F": th.free_energy,
        "U": th.energy,
        "S": th.entropy,
        "C": th.heat_capacity,
        **(extra or {}),
    }
    if args.json:
        print(dumps({**(meta or {}), **th.as_dict(), **(extra or {})}))
    else:
        print_table(columns)
    if args.plot:
        from freeenergy.report import plots

        refs = {k: (th.T, v) for k, v in (extra or {}).items()}
        write_plot(lambda p: plots.plot_thermodynamics(th, p, references=refs), args.plot)


def _cmd_thermo(args) -> int:
    from freeenergy.data import load_spectrum
    from freeenergy.spectra.thermo import thermodynamics

    energies, log_g = load_spectrum(args.file)
    th = thermodynamics(energies, log_degeneracy=log_g, **temperatures(args))
    _emit(th, args, meta={"file": args.file, "levels": len(energies)})
    return 0


def _cmd_ising(args) -> int:
    from freeenergy.systems import IsingLattice, onsager_free_energy

    if args.size < 2:
        raise CLIError(f"--size must be an integer >= 2; got {args.size}")
    lattice = IsingLattice(args.size, args.size, J=args.J)
    th = lattice.thermodynamics(**temperatures(args), per_site=args.per_site)
    f_inf = onsager_free_energy(th.T, J=args.J)
    label = "F_Onsager" if args.per_site else "N*F_Onsager"
    extra = {label: f_inf if args.per_site else f_inf * lattice.n_sites}
    meta = {"size": args.size, "J": args.J, "per_site": args.per_site}
    _emit(th, args, extra=extra, meta=meta)
    return 0


def _cmd_legendre(args) -> int:
    from freeenergy._io import dumps
    from freeenergy.data import load_table
    from freeenergy.spectra.legendre import concave_envelope, convex_envelope, legendre_fenchel

    table = load_table(args.file, (2,), "x, f")
    x, f = table[:, 0], table[:, 1]
    if np.any(np.diff(x) <= 0):
        raise CLIError(f"{args.file}: the x column must be strictly increasing")
    # The concave conjugate min_x [s x - f(x)] is -(-f)*(-s): one convex transform serves both.
    sign = -1.0 if args.concave else 1.0
    slopes = None if args.s is None else sign * parse_range(args.s, "s", nonnegative=False)
    s, g_star, touch = legendre_fenchel(x, sign * f, slopes, return_argmax=True)
    s, f_star = sign * s, sign * g_star + 0.0  # + 0.0 prints -0.0 as 0
    env = (concave_envelope if args.concave else convex_envelope)(x, f)
    kind = "concave" if args.concave else "convex"
    if args.json:
        print(dumps({
            "file": args.file, "kind": kind, "s": s, "f_star": f_star, "x_touch": x[touch],
            "x": x, "f": f, "envelope": env.values, "gap": env.gap, "off_envelope": env.off,
        }))
    elif args.envelope:
        print_table({"x": x, "f": f, f"{kind}_envelope": env.values, "gap": env.gap})
        print(f"# {env.off.size} of {x.size} points lie strictly off the {kind} envelope", file=sys.stderr)
    else:
        print_table({"s": s, "f_star": f_star, "x_touch": x[touch]})
    if args.plot:
        from freeenergy.report import plots

        write_plot(lambda p: plots.plot_conjugate(x, f, env.values, s, f_star, p, concave=args.concave,
                                                   title=args.file), args.plot)
    return 0


def _cmd_dos(args) -> int:
    from freeenergy._io import dumps
    from freeenergy.sampling.wang_landau import wang_landau
    from freeenergy.systems import IsingLattice
    from freeenergy.systems.ising import DOS_MAX_SITES

    if args.size < 2:
        raise CLIError(f"--size must be an integer >= 2; got {args.size}")
    lattice = IsingLattice(args.size, args.size)
    exact_ok = lattice.n_sites <= DOS_MAX_SITES
    if args.method == "exact" and not exact_ok:
        raise CLIError(f"--method exact handles L <= {int(DOS_MAX_SITES**0.5)}; use --method wang-landau")
    exact = lattice.density_of_states() if exact_ok else None
    meta: dict = {"size": args.size, "method": args.method}
    if args.method == "exact":
        dos = exact
    else:
        if args.walks < 1:
            raise CLIError(f"--walks must be an integer >= 1; got {args.walks}")
        res = wang_landau(lattice, ln_f_final=args.ln_f_final, method=args.schedule, seed=args.seed,
                          n_walks=args.walks, ground_degeneracy=2, progress=not args.no_progress)
        dos = res.dos
        meta.update(seed=args.seed, schedule=args.schedule, ln_f_final=res.ln_f_final,
                    sweeps=res.n_sweeps, flips=res.n_flips, seconds=res.seconds,
                    flips_per_second=res.flips_per_second, stages=res.n_iterations)
        print(f"# Wang-Landau: {res.n_flips:.3g} flips in {res.seconds:.2f} s "
              f"({res.flips_per_second:.3g} flips/s), {res.n_iterations} stages", file=sys.stderr)
    columns = {"E": dos.energies, "log_g": dos.log_g}
    if args.method != "exact" and args.walks > 1:
        columns["log_g_stderr"] = res.log_g_stderr
    if args.method != "exact" and exact is not None:
        at = np.clip(np.searchsorted(exact.energies, dos.energies), 0, exact.energies.size - 1)
        ref = np.where(exact.energies[at] == dos.energies, exact.log_g[at], -np.inf)
        ok = np.isfinite(dos.log_g) & np.isfinite(ref) & (ref > 0)
        columns["log_g_exact"] = ref
        meta["max_relative_error_log_g"] = float(np.max(np.abs(dos.log_g[ok] - ref[ok]) / ref[ok]))
        print(f"# max |log g - exact| / exact = {meta['max_relative_error_log_g']:.3g}", file=sys.stderr)
    if args.json:
        print(dumps({**meta, **columns}))
    else:
        print_table(columns)
    if args.plot:
        from freeenergy.report import plots

        refs = {"exact (Beale)": exact} if args.method != "exact" and exact is not None else None
        label = "Wang-Landau" if args.method != "exact" else ""
        write_plot(lambda p: plots.plot_dos(dos, p, n_sites=lattice.n_sites, references=refs, label=label,
                                             title=f"{args.size}x{args.size} Ising torus"), args.plot)
    return 0


def register(sub) -> None:
    """Add ``thermo``, ``ising``, ``legendre`` and ``dos`` to the main parser's subcommands."""
    p = sub.add_parser(
        "thermo",
        help="log Z, F, U, S, C of a spectrum read from a file",
        description="Thermodynamics of the energy levels in a file (.npy, .txt, .csv): one "
        "column of energies, or two columns (energy, degeneracy).",
        epilog="example:\n  freeenergy thermo levels.txt --T 0.1:10:50 --plot thermo.png",
        formatter_class=FORMATTER,
    )
    p.add_argument("file", help="energies file")
    temperature_args(p, default=None)
    output_args(p)
    p.set_defaults(run=_cmd_thermo)

    p = sub.add_parser(
        "ising",
        help="exact thermodynamics of the periodic L x L Ising lattice",
        description="Exact F, U, S, C of the L x L periodic Ising lattice at h = 0, from its "
        "exact density of states, beside Onsager's infinite-lattice free energy.",
        epilog="example:\n  freeenergy ising --size 32 --T 1:4:100 --per-site --plot ising.png",
        formatter_class=FORMATTER,
    )
    p.add_argument("--size", type=int, default=32, help="linear size L (default 32)")
    p.add_argument("--J", type=float, default=1.0, help="coupling J > 0 (default 1)")
    p.add_argument("--per-site", action="store_true", help="divide extensive quantities by L^2")
    temperature_args(p, default="1:4:100")
    output_args(p)
    p.set_defaults(run=_cmd_ising)

    p = sub.add_parser(
        "legendre",
        help="Legendre-Fenchel conjugate and convex (concave) envelope of sampled x, f",
        description="The convex conjugate f*(s) = max_x [s x - f(x)] of the samples in FILE (two "
        "columns x, f with x strictly increasing; +inf marks points outside the domain), with the "
        "touching point of each slope; or, with --envelope, the convex envelope f** on x and "
        "where f lies off it. --concave uses min_x [s x - f(x)] and the concave envelope "
        "(entropy S(E) -> beta F(beta)).",
        epilog="examples:\n  freeenergy legendre curve.txt --plot conj.png\n"
        "  freeenergy legendre entropy.csv --concave --envelope --json",
        formatter_class=FORMATTER,
    )
    p.add_argument("file", help="table with columns x, f (.npy, .txt, .csv)")
    p.add_argument("--envelope", action="store_true", help="print the envelope on x instead of f*")
    p.add_argument("--concave", action="store_true", help="concave conjugate and envelope")
    p.add_argument("--s", metavar="RANGE", help="slopes START:STOP:COUNT or a comma list, "
                   "written --s=-1:1:5 when it starts with a minus (default: the hull's slope range)")
    output_args(p, "draw f with its envelope, and f*")
    p.set_defaults(run=_cmd_legendre)

    p = sub.add_parser(
        "dos",
        help="density of states of the L x L Ising lattice: exact or Wang-Landau",
        description="log g(E) of the periodic L x L Ising lattice (J = 1): exact integer counts "
        "(Beale, L <= 64) or a Wang-Landau estimate (normalised to g(E_0) = 2), compared with "
        "the exact counts where those are available.",
        epilog="examples:\n  freeenergy dos --size 32 --plot dos.png\n"
        "  freeenergy dos --size 16 --method wang-landau --ln-f-final 1e-6 --seed 1 --plot wl.png",
        formatter_class=FORMATTER,
    )
    p.add_argument("--size", type=int, default=16, help="linear size L (default 16)")
    p.add_argument("--method", choices=["exact", "wang-landau"], default="exact")
    p.add_argument("--schedule", choices=["standard", "1/t"], default="1/t",
                   help="Wang-Landau ln f schedule (default 1/t)")
    p.add_argument("--ln-f-final", type=float, default=1e-6, help="Wang-Landau final ln f (default 1e-6)")
    p.add_argument("--seed", type=int, default=0, help="Wang-Landau seed (default 0)")
    p.add_argument("--walks", type=int, default=1, metavar="N",
                   help="independent Wang-Landau walks; with N >= 2 their mean and its standard "
                   "error per level (default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    output_args(p, "draw log g(E) per spin")
    p.set_defaults(run=_cmd_dos)
