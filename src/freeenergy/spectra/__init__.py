"""Functions of a spectrum, NumPy only: thermodynamics of energy levels, samples or a density of
states (:mod:`~freeenergy.spectra.thermo`, :mod:`~freeenergy.spectra.dos`), Legendre and
Legendre-Fenchel transforms (:mod:`~freeenergy.spectra.legendre`), entropy <-> free energy and
ensemble inequivalence (:mod:`~freeenergy.spectra.ensembles`) and the Laplace transform between
the density of states and the partition function (:mod:`~freeenergy.spectra.laplace`).

The lowest layer of the package: it imports no other part of it (only the shared argument checks).
"""
