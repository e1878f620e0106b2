"""A scikit-learn estimator around :func:`freeenergy.learn.train_rbm` whose scores are true
log-likelihoods.

:class:`BernoulliRBMEstimator` mirrors :class:`sklearn.neural_network.BernoulliRBM` (``fit``,
``partial_fit``, ``transform``, ``score_samples``, ``gibbs``, ``components_``, ...) with two
differences: training may use CD-k or PCD with any ``k``, and :meth:`BernoulliRBMEstimator.score_samples`
returns ``log p(v) = -F(v) - log Z`` with the exact ``log Z`` (or an AIS estimate of it),
where scikit-learn's returns a stochastic pseudo-likelihood.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from freeenergy._lazy import renamed_attributes
from freeenergy._params import InputError, check_int, check_real, fail
from freeenergy.estimate.ais import ais
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.learn import _kernels as K
from freeenergy.learn.cd import RBMTask
from freeenergy.learn.loop import Loop, Options
from freeenergy.learn.monitor import EXACT_MAX_UNITS
from freeenergy.models.rbm import BernoulliRBM as TorchRBM

__all__ = ["EXPECTED_FAILED_CHECKS", "BernoulliRBMEstimator"]

_OWNER = "BernoulliRBMEstimator"
_MAX_SEED = 2**31 - 1

_OUT_OF_RANGE = ("feeds data outside [0, 1] (values up to about 9 after the positive_only shift); "
                 "an RBM with Bernoulli visibles rejects it by design. The same check passes "
                 "for make_pipeline(MinMaxScaler(clip=True), BernoulliRBMEstimator(random_state=0)).")
#: scikit-learn 1.9 checks that fail only because their data lie outside [0, 1]; pass this to
#: ``check_estimator(..., expected_failed_checks=EXPECTED_FAILED_CHECKS)``.
EXPECTED_FAILED_CHECKS: dict[str, str] = {name: _OUT_OF_RANGE for name in (
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_readonly_memmap_input",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
)}


class BernoulliRBMEstimator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Bernoulli RBM trained by CD-k / PCD, scored by its exact (or AIS) log-likelihood.

    A scikit-learn transformer: ``transform`` gives the hidden-unit probabilities
    ``p(h_j = 1 | v)``. The model is ``E(v, h) = -a.v - b.h - v.W.h`` (see
    :class:`freeenergy.models.BernoulliRBM`) with ``W = components_.T``,
    ``a = intercept_visible_`` and ``b = intercept_hidden_``.

    Parameters
    ----------
    n_components : int, default 16
        Number of hidden units.
    learning_rate : float, default 0.05
        SGD step size (plain SGD, no momentum or weight decay, as in scikit-learn; use
        :func:`freeenergy.learn.train_rbm` for those).
    batch_size : int, default 10
        Rows per update; also the number of persistent chains for ``method="pcd"``.
    n_iter : int, default 10
        Epochs of :meth:`fit`; :meth:`partial_fit` does one epoch over its ``X``.
    method : {"cd", "pcd"}, default "cd"
        Contrastive divergence from the data, or persistent chains (scikit-learn's RBM uses
        PCD-1).
    k : int, default 1
        Gibbs sweeps per update.
    log_z_method : {"auto", "exact", "ais"}, default "auto"
        How ``log Z`` is found for :meth:`score_samples`: ``"exact"`` enumerates the smaller
        layer (at most 32 units); ``"ais"`` runs annealed importance sampling
        (:func:`freeenergy.estimate.ais.ais`, base model from the training marginals);
        ``"auto"`` is exact when ``min(n_features, n_components) <= 20`` and AIS otherwise.
    ais_chains : int, default 100
        AIS chains.
    ais_betas : array_like, optional
        AIS inverse temperatures (0 to 1); by default AIS's own 14,500-step schedule.
    random_state : int, RandomState instance or None
        Seeds the initial weights, the shuffling and sampling, and AIS: same value, same model.
    verbose : int, default 0
        Print the reconstruction error (and exact log-likelihood where cheap) each epoch.

    Attributes
    ----------
    components_ : ndarray, shape (n_components, n_features)
        ``W.T``.
    intercept_hidden_ : ndarray, shape (n_components,)
    intercept_visible_ : ndarray, shape (n_features,)
    h_samples_ : ndarray, shape (batch_size, n_components) or None
        Hidden states of the persistent chains (``method="pcd"``), else None.
    log_z_ : float
        ``log Z`` of the fitted model in nats (computed on first use, then cached; exact or AIS
        as ``log_z_method`` says).
    log_z_estimate_ : freeenergy.estimate.Estimate
        The full estimate behind ``log_z_`` (stderr, interval, method).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Notes
    -----
    Inputs must lie in [0, 1]: binary pixels, or grey levels read as probabilities during
    training. :meth:`score_samples` is a log-probability only for binary rows.

    scikit-learn's :func:`~sklearn.utils.estimator_checks.check_estimator` passes except for
    the 21 checks in :data:`EXPECTED_FAILED_CHECKS`, which feed data outside [0, 1] (shifted
    Gaussian blobs and normal features) that an RBM with Bernoulli visibles rejects by design:
    check_dict_unchanged, check_dont_overwrite_parameters, check_estimators_dtypes,
    check_estimators_fit_returns_self, check_estimators_overwrite_params,
    check_estimators_pickle, check_f_contiguous_array_estimator, check_fit2d_1feature,
    check_fit2d_1sample, check_fit2d_predict1d, check_fit_check_is_fitted,
    check_fit_idempotent, check_methods_sample_order_invariance,
    check_methods_subset_invariance, check_n_features_in, check_n_features_in_after_fitting,
    check_pipeline_consistency, check_readonly_memmap_input,
    check_transformer_data_not_an_array, check_transformer_general and
    check_transformer_preserve_dtypes. Every one of them passes for
    ``make_pipeline(MinMaxScaler(clip=True), BernoulliRBMEstimator(random_state=0))``, which is also the
    way to feed data of any range.

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.sklearn import BernoulliRBMEstimator
    >>> X = (np.random.default_rng(0).random((100, 8)) < 0.3).astype(float)
    >>> rbm = BernoulliRBMEstimator(n_components=4, n_iter=5, random_state=0).fit(X)
    >>> rbm.transform(X).shape, rbm.components_.shape
    ((100, 4), (4, 8))
    >>> log_p = rbm.score_samples(X)             # exact log p(v), nats
    >>> from itertools import product
    >>> everything = np.array(list(product([0.0, 1.0], repeat=8)))
    >>> round(float(np.exp(rbm.score_samples(everything)).sum()), 12)   # normalised
    1.0
    >>> bool(rbm.score(X) == log_p.mean())
    True
    """

    def __init__(self, n_components=16, *, learning_rate=0.05, batch_size=10, n_iter=10,
                 method="cd", k=1, log_z_method="auto", ais_chains=100, ais_betas=None,
                 random_state=None, verbose=0):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.method = method
        self.k = k
        self.log_z_method = log_z_method
        self.ais_chains = ais_chains
        self.ais_betas = ais_betas
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ validation
    def _config(self) -> K.Config:
        check_int("n_components", self.n_components, _OWNER, 1)
        check_int("n_iter", self.n_iter, _OWNER, 1)
        check_int("ais_chains", self.ais_chains, _OWNER, 1)
        check_int("verbose", self.verbose, _OWNER, 0)
        lr = check_real("learning_rate", self.learning_rate, _OWNER)
        if lr <= 0:
            raise fail("learning_rate", _OWNER, "a float > 0", self.learning_rate)
        if self.method not in ("cd", "pcd"):
            raise fail("method", _OWNER, "'cd' or 'pcd'", self.method)
        if self.log_z_method not in ("auto", "exact", "ais"):
            raise fail("log_z_method", _OWNER, "'auto', 'exact' or 'ais'", self.log_z_method)
        return K.Config(self.method, check_int("k", self.k, _OWNER, 1),
                        check_int("batch_size", self.batch_size, _OWNER, 1), lr, 0.0, 0.0)

    def _data(self, X, reset: bool) -> np.ndarray:
        X = validate_data(self, X, dtype=np.float64, reset=reset)
        if X.size and (X.min() < 0 or X.max() > 1):
            negative = "Negative values in data are not allowed. " if X.min() < 0 else ""
            raise InputError(
                f"{negative}The 'X' parameter of {_OWNER} must hold values in [0, 1] (Bernoulli "
                f"visible units: binary data or probabilities). Got values in [{X.min():g}, "
                f"{X.max():g}] instead; rescale it, e.g. with sklearn.preprocessing.MinMaxScaler"
                f"(clip=True)."
            )
        return X

    # ------------------------------------------------------------------ the torch model
    def _model(self) -> TorchRBM:
        model = TorchRBM(self.n_features_in_, self.n_components, seed=0)
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(self.components_.T))
            model.visible_bias.copy_(torch.from_numpy(self.intercept_visible_))
            model.hidden_bias.copy_(torch.from_numpy(self.intercept_hidden_))
        return model

    def _store(self, model: TorchRBM) -> None:
        self.components_ = model.weight.detach().numpy().T.copy()
        self.intercept_visible_ = model.visible_bias.detach().numpy().copy()
        self.intercept_hidden_ = model.hidden_bias.detach().numpy().copy()
        self._n_features_out = self.n_components
        self._log_z_cache = {}  # filled by log_z_estimate_ (a holder: scoring leaves __dict__ alone)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Fit the model to ``X`` (shape (n_samples, n_features), values in [0, 1]) for
        ``n_iter`` epochs, starting from fresh weights ``N(0, 0.01^2)``.

        Returns
        -------
        self
        """
        cfg = self._config()
        X = self._data(X, reset=True)
        self.random_state_ = check_random_state(self.random_state)
        model = TorchRBM(X.shape[1], self.n_components, seed=self._draw())
        self._visible_sum, self._n_seen = np.zeros(X.shape[1]), 0
        self._train(model, X, cfg, self.n_iter, None, f"{_OWNER}.fit")
        return self

    def partial_fit(self, X, y=None):
        """One epoch of training on ``X``, continuing from the current parameters (and PCD
        chains); the first call initialises the model.

        Returns
        -------
        self
        """
        cfg = self._config()
        first = not hasattr(self, "components_")
        X = self._data(X, reset=first)
        if first:
            self.random_state_ = check_random_state(self.random_state)
            model = TorchRBM(X.shape[1], self.n_components, seed=self._draw())
            self._visible_sum, self._n_seen, chains = np.zeros(X.shape[1]), 0, None
        else:
            model = self._model()
            chains = None if self.h_samples_ is None else torch.from_numpy(self.h_samples_.copy())
        self._train(model, X, cfg, 1, chains, f"{_OWNER}.partial_fit")
        return self

    @staticmethod
    def _report(epoch: int, model, history) -> None:
        print(f"[{_OWNER}] Iteration {epoch}, reconstruction error = "
              f"{history.reconstruction_error[-1]:.4f}, time = {history.seconds[-1]:.2f}s")

    def _draw(self) -> int:
        return int(self.random_state_.randint(_MAX_SEED))

    def _train(self, model, X, cfg: K.Config, epochs: int, chains, owner: str) -> None:
        """``epochs`` of CD / PCD by the trainers' loop (a TrainingError if it diverges)."""
        data = torch.from_numpy(X)
        task = RBMTask(model, data, None, cfg, epochs=epochs, exact_every=0, explosion=None,
                       owner=owner, lr_name="learning_rate", monitors=False)
        opts = Options(epochs=epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       callbacks=(self._report,) if self.verbose else (), checkpoint=None,
                       checkpoint_every=1, progress=False, quiet=False)
        run = Loop(task, model, data, opts)
        run.start(self._draw(), None)
        state = run.state
        if chains is not None and cfg.method == "pcd" and chains.shape == state.chains.shape:
            state.chains = chains
        run.loop()
        self._visible_sum = self._visible_sum + X.sum(0)
        self._n_seen += len(X)
        self.h_samples_ = None if state.chains is None else state.chains.numpy().copy()
        self._ais_seed = self._draw()
        self._store(model)

    # ------------------------------------------------------------------ using the model
    def get_feature_names_out(self, input_features=None):
        """``bernoullirbm0, bernoullirbm1, ...``: the output names of scikit-learn's BernoulliRBM,
        which this class replaces (``input_features`` is only checked against those seen in fit)."""
        names = super().get_feature_names_out(input_features)
        prefix = type(self).__name__.lower()
        return np.asarray([name.replace(prefix, "bernoullirbm", 1) for name in names], dtype=object)

    def transform(self, X):
        """Hidden-unit probabilities ``p(h_j = 1 | v)``, shape (n_samples, n_components)."""
        check_is_fitted(self)
        X = self._data(X, reset=False)
        return expit(X @ self.components_.T + self.intercept_hidden_)

    def _free_energy(self, X) -> np.ndarray:
        return -(X @ self.intercept_visible_) - np.logaddexp(
            0.0, X @ self.components_.T + self.intercept_hidden_).sum(1)

    @property
    def log_z_estimate_(self):
        """The :class:`~freeenergy.estimate.Estimate` of ``log Z`` (computed once per fit)."""
        check_is_fitted(self)
        cache = self._log_z_cache
        if "estimate" not in cache:
            cache["estimate"] = self._estimate_log_z()
        return cache["estimate"]

    @property
    def log_z_(self) -> float:
        """``log Z`` of the fitted model (nats)."""
        return self.log_z_estimate_.log_z

    def _estimate_log_z(self):
        model = self._model()
        method = self.log_z_method
        if method == "auto":
            exact = min(self.n_features_in_, self.n_components) <= EXACT_MAX_UNITS
            method = "exact" if exact else "ais"
        if method == "exact":
            return exact_log_partition(model)
        mean = (self._visible_sum / max(self._n_seen, 1))[None, :]
        return ais(model, n_chains=self.ais_chains, betas=self.ais_betas, base="data", data=mean,
                   seed=self._ais_seed)

    def score_samples(self, X):
        """Log-likelihood ``log p(v) = -F(v) - log Z`` of each row, in nats.

        ``F`` is exact; ``log Z`` is :attr:`log_z_` (exact for ``log_z_method="exact"``, or for
        ``"auto"`` when ``min(n_features, n_components) <= 20``; otherwise an AIS estimate, a
        stochastic lower bound, so these values are then slightly optimistic upper estimates).

        Returns
        -------
        ndarray of float64, shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._data(X, reset=False)
        return -self._free_energy(X) - self.log_z_

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of the rows of ``X`` (nats per sample)."""
        return float(np.mean(self.score_samples(X)))

    def gibbs(self, v):
        """One block-Gibbs sweep ``v -> h -> v'`` from each row of ``v``; returns ``v'``."""
        check_is_fitted(self)
        v = self._data(v, reset=False)
        gen = torch.Generator().manual_seed(self._draw())
        return self._model().gibbs(torch.from_numpy(v), 1, generator=gen).detach().numpy()

    def sample(self, n_samples=1, *, n_steps=1000, random_state=None):
        """Draw ``n_samples`` visible vectors by ``n_steps`` Gibbs sweeps from independent chains.

        ``random_state`` (int, RandomState or None) seeds the chains; None uses the
        estimator's own random state.
        """
        check_is_fitted(self)
        n_samples = check_int("n_samples", n_samples, f"{_OWNER}.sample", 1)
        n_steps = check_int("n_steps", n_steps, f"{_OWNER}.sample", 0)
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        seed = int(rng.randint(_MAX_SEED))
        return self._model().sample(n_samples, n_steps, seed=seed).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags


# ``BernoulliRBM`` until 0.2, a clash with :class:`freeenergy.models.BernoulliRBM`
__getattr__ = renamed_attributes(__name__, {"BernoulliRBM": "BernoulliRBMEstimator"})
