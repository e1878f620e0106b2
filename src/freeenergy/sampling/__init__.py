"""Monte Carlo samplers of exact reference systems: Wang-Landau density-of-states sampling
(:func:`~freeenergy.sampling.wang_landau.wang_landau`, numba kernels in ``_wl_kernels``).
"""
