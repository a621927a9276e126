"""PersonaModel: choose the number of personas, fit them, and gate the result statistically."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from personapulse.features import EXPOSURE_TOTALS
from personapulse.personas.preprocess import FeaturePreprocessor

__all__ = [
    "STATE_FORMAT",
    "GateResult",
    "PersonaModel",
    "gaussian_log_joint",
    "parallel_analysis",
    "relative_entropy",
]

STATE_FORMAT = "personapulse.persona_model/1"


@dataclass
class GateResult:
    """Whether a persona set is statistically defensible, and why not when it is not."""

    reliable: bool
    reasons: list[str] = field(default_factory=list)
    entropy: float = float("nan")
    min_share: float = float("nan")
    replicated: bool = False
    stability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def relative_entropy(proba: np.ndarray) -> float:
    """1 − Σ −p log p / (N log K): 1 when every user sits clearly in one persona, 0 when none does."""
    proba = np.asarray(proba, dtype=float)
    n, k = proba.shape
    if k < 2 or n == 0:
        return 1.0
    p = np.clip(proba, 1e-300, 1.0)
    return float(1.0 - (-(p * np.log(p)).sum()) / (n * np.log(k)))


def gaussian_log_joint(
    Z: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
) -> np.ndarray:
    """log(weight_k) + log N(z | mean_k, cov_k) for every row of ``Z`` (n, d) and component k.

    ``covariances`` is (k, d, d) for "full", (k, d) for "diag", (k,) for "spherical". Returns (n, k).
    Implemented here (not via sklearn) so a model restored from JSON scores exactly as fitted.
    """
    n, d = Z.shape
    k = len(weights)
    out = np.empty((n, k))
    log_2pi = d * np.log(2 * np.pi)
    for j in range(k):
        diff = Z - means[j]
        if covariance_type == "full":
            chol = np.linalg.cholesky(covariances[j])
            solved = solve_triangular(chol, diff.T, lower=True)
            maha = np.einsum("ij,ij->j", solved, solved)
            log_det = 2.0 * np.log(np.diag(chol)).sum()
        elif covariance_type == "diag":
            var = covariances[j]
            maha = (diff**2 / var).sum(axis=1)
            log_det = np.log(var).sum()
        elif covariance_type == "spherical":
            var = float(covariances[j])
            maha = (diff**2).sum(axis=1) / var
            log_det = d * np.log(var)
        else:
            raise ValueError(f"unknown covariance_type {covariance_type!r}")
        out[:, j] = np.log(max(weights[j], 1e-300)) - 0.5 * (log_2pi + log_det + maha)
    return out


def parallel_analysis(
    Z: np.ndarray, rng: np.random.Generator, *, reps: int = 20, quantile: float = 0.95
) -> tuple[int, np.ndarray]:
    """Horn's parallel analysis: how many principal components carry structure, and which.

    Input: ``Z`` (n, d), columns standardised. The eigenvalues of its correlation matrix are
    compared with the ``quantile`` of those of ``reps`` copies whose columns were permuted
    independently (same marginals, no joint structure). Returns (m, components): m = the number of
    leading eigenvalues above that reference, components (m, d) = their unit eigenvectors (sign
    fixed so the largest loading is positive).
    """
    n, d = Z.shape
    if n < 3 or d < 2:
        return d, np.eye(d)
    corr = np.corrcoef(Z, rowvar=False)
    values, vectors = np.linalg.eigh(corr)
    values, vectors = values[::-1], vectors[:, ::-1]
    m = d
    if reps > 0:  # reps=0: every component, no test
        null = np.empty((int(reps), d))
        for r in range(int(reps)):
            permuted = np.column_stack([rng.permutation(column) for column in Z.T])
            null[r] = np.linalg.eigvalsh(np.corrcoef(permuted, rowvar=False))[::-1]
        above = values > np.quantile(null, quantile, axis=0)
        m = d if above.all() else int(np.argmin(above))
    components = vectors.T.copy()
    for row in components:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return m, components


def _posterior(log_joint: np.ndarray) -> np.ndarray:
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))


def _n_parameters(method: str, covariance_type: str, k: int, d: int) -> int:
    if method == "kmeans":  # spherical mixture with one shared variance
        return k * d + 1 + (k - 1)
    cov = {"full": k * d * (d + 1) // 2, "diag": k * d, "spherical": k}[covariance_type]
    return k * d + cov + (k - 1)


@dataclass
class _Fit:
    method: str
    covariance_type: str
    k: int
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    start_log_likelihoods: list[float]
    converged: bool

    def log_joint(self, Z: np.ndarray) -> np.ndarray:
        cov_type = "spherical" if self.method == "kmeans" else self.covariance_type
        return gaussian_log_joint(Z, self.weights, self.means, self.covariances, cov_type)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


class PersonaModel(BaseEstimator):
    """Gaussian-mixture / k-means personas with model selection and a reliability gate.

    Parameters
    ----------
    method : "auto" | "kmeans" | "gmm". "auto" fits both families and applies the rule in
        ``docs/personas.md`` (GMM finalist by BIC, k-means finalist by silhouette; same k → GMM,
        else the one passing more gate checks, then the higher silhouette).
    k : fixed number of personas, or None to choose in [k_min, k_max].
    covariance_types : GMM covariance structures tried ("full", "diag", "spherical").
    n_init : random starts per candidate; the best log-likelihood must be reached by ≥ 2 of them
        (within ``replicate_tol`` nats per user) to count as replicated.
    bic_margin : mixtures whose BIC is within this of the lowest count as equally good; the one
        with the fewest parameters is chosen (2 = Kass & Raftery's "bare mention").
    max_starts : while the best log-likelihood is not replicated, candidates get further random
        starts, one at a time, up to this many in all (the LPA practice of adding starts until the
        best solution is found again).
    sample_size : fit on a random sample this large when there are more users; everyone is then
        assigned in batches of ``batch_size``.
    selection_size : candidates (every k and family) are compared on a subsample this large; the
        chosen candidate is then refit on the whole fit sample (``final_fit_`` holds its row).
    bootstrap, bootstrap_size : number of refits on resamples (with replacement, at most
        ``bootstrap_size`` rows) whose labels on the fit data are compared (ARI) with the model's.
    min_share, min_entropy, min_stability : gate thresholds.
    reg_covar : added to covariance diagonals (standardised units) so that near-constant features
        inside a persona cannot make the likelihood explode.
    cluster_exclude : feature names or fnmatch patterns kept out of the clustering space (default:
        the totals that grow with tenure, ``personapulse.features.EXPOSURE_TOTALS``); they are still
        standardised and profiled.
    reduce_dimensions : "parallel" fits the mixtures on the principal components of the clustering
        space that Horn's parallel analysis retains (``parallel_analysis``); an int keeps that many
        components; None clusters on the features themselves.
    max_missing_share : a feature missing (NaN before imputation) for more than this share of users
        is kept out of the clustering space too; constant features always are.
    preprocessor : an unfitted transformer with fit / transform / inverse_transform / to_state
        (default ``FeaturePreprocessor()``).

    Input to ``fit`` / ``predict_proba``: a features DataFrame (rows = users), a 2-D array, or (for
    prediction) a single dict of feature values; missing features are imputed.

    Fitted: ``k_``, ``method_``, ``covariance_type_``, ``labels_`` (n,), ``proba_`` (n, k),
    ``centroids_`` (k, d, standardised space: probability-weighted means of every feature),
    ``cluster_features_`` (the features the mixture is fitted on), ``weights_``, ``means_``,
    ``covariances_`` (in the clustering space),
    ``candidates_`` (DataFrame, one row per candidate), ``gate_`` (GateResult),
    ``selection_reason_``, ``preprocessor_``, ``feature_names_in_``, ``standardised_`` (n, d).
    """

    def __init__(
        self,
        method: str = "auto",
        k: int | None = None,
        k_min: int = 2,
        k_max: int = 8,
        covariance_types: tuple[str, ...] = ("diag", "full"),
        n_init: int = 5,
        max_starts: int = 20,
        bic_margin: float = 2.0,
        random_state: int | None = None,
        sample_size: int = 50_000,
        selection_size: int = 10_000,
        bootstrap: int = 10,
        bootstrap_size: int = 10_000,
        min_share: float = 0.05,
        min_entropy: float = 0.8,
        min_stability: float = 0.8,
        replicate_tol: float = 1e-3,
        reg_covar: float = 1e-3,
        max_iter: int = 200,
        silhouette_sample: int = 3_000,
        batch_size: int = 100_000,
        cluster_exclude: tuple[str, ...] = EXPOSURE_TOTALS,
        max_missing_share: float = 0.5,
        reduce_dimensions: str | int | None = "parallel",
        preprocessor: Any = None,
    ) -> None:
        self.method = method
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.covariance_types = covariance_types
        self.n_init = n_init
        self.max_starts = max_starts
        self.bic_margin = bic_margin
        self.random_state = random_state
        self.sample_size = sample_size
        self.selection_size = selection_size
        self.bootstrap = bootstrap
        self.bootstrap_size = bootstrap_size
        self.min_share = min_share
        self.min_entropy = min_entropy
        self.min_stability = min_stability
        self.replicate_tol = replicate_tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.silhouette_sample = silhouette_sample
        self.batch_size = batch_size
        self.cluster_exclude = cluster_exclude
        self.max_missing_share = max_missing_share
        self.reduce_dimensions = reduce_dimensions
        self.preprocessor = preprocessor

    # ------------------------------------------------------------------ fitting
    def _fit_one(
        self,
        Z: np.ndarray,
        method: str,
        cov: str,
        k: int,
        seeds: np.ndarray,
        *,
        adaptive: bool = False,
    ) -> _Fit:
        """Best of ``n_init`` starts; ``adaptive`` keeps adding starts from ``seeds`` (up to
        ``max_starts``) while the best log-likelihood has not been reached twice."""
        best: _Fit | None = None
        lls: list[float] = []
        converged_all = True
        n, d = Z.shape
        first = max(int(self.n_init), 1)
        tol = self.replicate_tol * n
        for i, seed in enumerate(seeds):
            if i >= first and (
                not adaptive
                or i >= self.max_starts
                or np.sum(np.asarray(lls) >= max(lls) - tol) >= 2
            ):
                break
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                if method == "kmeans":
                    km = KMeans(
                        n_clusters=k, n_init=1, random_state=int(seed), max_iter=self.max_iter
                    ).fit(Z)
                    counts = np.bincount(km.labels_, minlength=k).astype(float)
                    variance = max(km.inertia_ / (n * d), 1e-12) + self.reg_covar
                    fit = _Fit(
                        method,
                        "spherical",
                        k,
                        np.maximum(counts, 1.0) / max(counts.sum(), 1.0),
                        km.cluster_centers_.copy(),
                        np.full(k, variance),
                        [],
                        bool(km.n_iter_ < self.max_iter),
                    )
                else:
                    gm = GaussianMixture(
                        n_components=k,
                        covariance_type=cov,
                        reg_covar=self.reg_covar,
                        max_iter=self.max_iter,
                        n_init=1,
                        init_params="k-means++",
                        random_state=int(seed),
                    ).fit(Z)
                    fit = _Fit(
                        method,
                        cov,
                        k,
                        gm.weights_.copy(),
                        gm.means_.copy(),
                        gm.covariances_.copy(),
                        [],
                        bool(gm.converged_),
                    )
            ll = float(logsumexp(fit.log_joint(Z), axis=1).sum())
            lls.append(ll)
            converged_all &= fit.converged
            if best is None or ll > max(lls[:-1]):
                best = fit
        assert best is not None
        best.start_log_likelihoods = lls
        best.converged = converged_all
        return best

    def _candidate_row(
        self, fit: _Fit, Z: np.ndarray, sil_index: np.ndarray
    ) -> tuple[dict[str, Any], np.ndarray]:
        n, d = Z.shape
        log_joint = fit.log_joint(Z)
        ll = float(logsumexp(log_joint, axis=1).sum())
        proba = _posterior(log_joint)
        labels = proba.argmax(axis=1)
        shares = np.bincount(labels, minlength=fit.k) / n
        p = _n_parameters(fit.method, fit.covariance_type, fit.k, d)
        lls = np.asarray(fit.start_log_likelihoods)
        n_replicated = int(np.sum(lls >= lls.max() - self.replicate_tol * n))
        n_labels = len(np.unique(labels))
        sil_labels = labels[sil_index]
        silhouette = (
            float(silhouette_score(Z[sil_index], sil_labels))
            if 2 <= len(np.unique(sil_labels)) < len(sil_index)
            else float("nan")
        )
        davies = float(davies_bouldin_score(Z, labels)) if n_labels >= 2 else float("nan")
        row = {
            "method": fit.method,
            "covariance_type": fit.covariance_type,
            "k": fit.k,
            "log_likelihood": ll,
            "bic": -2 * ll + p * np.log(n),
            "aic": -2 * ll + 2 * p,
            "n_parameters": p,
            "replicated": bool(n_replicated >= 2),
            "n_replicated": n_replicated,
            "n_starts": len(lls),
            "entropy": relative_entropy(proba),
            "min_share": float(shares.min()),
            "silhouette": silhouette,
            "davies_bouldin": davies,
            "converged": fit.converged,
        }
        return row, labels

    def _choose(self, table: pd.DataFrame) -> tuple[int, str]:
        """Index of the selected candidate and a sentence saying why (rule in docs/personas.md)."""
        # A persona below min_share is of no use to a marketer, and an optimum the random starts
        # do not reproduce is not an optimum to report; BIC on behavioural data happily adds both.
        adequate = (table["min_share"] >= self.min_share) & table["replicated"]

        def pool(method: str) -> pd.DataFrame:
            rows = table[table["method"] == method]
            good = rows[adequate[rows.index]]
            return good if len(good) else rows

        gmm, km = pool("gmm"), pool("kmeans")
        gmm_best = None
        if len(gmm):
            # Kass & Raftery (1995): a BIC difference below 2 is "not worth more than a bare
            # mention", so among mixtures that close to the lowest BIC the simplest one is kept.
            close = gmm[gmm["bic"] <= gmm["bic"].min() + self.bic_margin]
            gmm_best = close.sort_values(["n_parameters", "bic"]).index[0]
        km_best = None
        if len(km):
            ranked = km.assign(
                _sil=km["silhouette"].fillna(-np.inf), _db=km["davies_bouldin"].fillna(np.inf)
            ).sort_values(["_sil", "_db"], ascending=[False, True])
            km_best = ranked.index[0]
        if km_best is None:
            return int(gmm_best), "lowest BIC among adequate Gaussian mixtures"
        if gmm_best is None:
            return int(km_best), "highest silhouette among adequate k-means solutions"
        g, m = table.loc[gmm_best], table.loc[km_best]
        if g["k"] == m["k"]:
            return int(gmm_best), f"BIC (mixtures) and silhouette (k-means) agree on k={g['k']}"
        g_ok = bool(adequate[gmm_best]) and g["entropy"] >= self.min_entropy
        m_ok = bool(adequate[km_best]) and m["entropy"] >= self.min_entropy
        if g_ok:
            # BIC compares whole probability models and is consistent for the number of
            # components; silhouette is a geometric heuristic that favours fewer, rounder groups.
            # So an adequate mixture decides; k-means only steps in when no mixture is adequate.
            return int(gmm_best), (
                f"BIC picks k={g['k']}, silhouette picks k={m['k']}; the mixture passes the "
                "share, replication and entropy checks, so BIC decides"
            )
        if m_ok:
            return int(km_best), (
                f"BIC picks k={g['k']}, silhouette picks k={m['k']}; only k-means passes the "
                "share, replication and entropy checks"
            )
        g_sil = g["silhouette"] if np.isfinite(g["silhouette"]) else -np.inf
        m_sil = m["silhouette"] if np.isfinite(m["silhouette"]) else -np.inf
        winner = gmm_best if g_sil >= m_sil else km_best
        return int(winner), (
            f"BIC picks k={g['k']} (silhouette {g_sil:.3f}), silhouette picks k={m['k']} "
            f"({m_sil:.3f}); neither passes every check, the higher silhouette wins"
        )

    def fit(self, X: Any, y: Any = None) -> PersonaModel:
        # Many small matrix products: multi-threaded BLAS / OpenMP only add contention (30x slower
        # on a loaded 2-core machine in our measurements), so one thread per fit.
        with threadpool_limits(limits=1):
            return self._fit(X)

    def _fit(self, X: Any) -> PersonaModel:
        if self.method not in ("auto", "kmeans", "gmm"):
            raise ValueError(f"method must be 'auto', 'kmeans' or 'gmm', not {self.method!r}")
        self.preprocessor_ = (
            clone(self.preprocessor) if self.preprocessor is not None else (FeaturePreprocessor())
        )
        Z_full = np.asarray(self.preprocessor_.fit_transform(X), dtype=float)
        self.feature_names_in_ = np.asarray(self.preprocessor_.feature_names_in_, dtype=object)
        self.cluster_index_ = self._cluster_columns(X, Z_full)
        self.cluster_features_ = self.feature_names_in_[self.cluster_index_]
        Z_all = Z_full[:, self.cluster_index_]
        n_all, d = Z_all.shape
        if self.k is not None:
            ks = [int(self.k)]
        else:
            ks = list(range(int(self.k_min), int(self.k_max) + 1))
        ks = [k for k in ks if 1 <= k < n_all]
        if not ks:
            raise ValueError(f"cannot fit personas on {n_all} users")
        rng = np.random.default_rng(self.random_state)
        seeds = rng.integers(0, 2**31 - 1, size=max(int(self.n_init), int(self.max_starts), 1))
        self.components_ = self._projection(Z_all, rng)
        if self.components_ is not None:
            Z_all = Z_all @ self.components_.T
        if n_all > self.sample_size:
            fit_index = np.sort(rng.choice(n_all, size=int(self.sample_size), replace=False))
        else:
            fit_index = np.arange(n_all)
        Z = Z_all[fit_index]
        # Candidates are compared on a smaller subsample; only the chosen one is refit on all of Z.
        if len(Z) > self.selection_size:
            Z_select = Z[rng.choice(len(Z), size=int(self.selection_size), replace=False)]
        else:
            Z_select = Z
        sil_select = rng.choice(
            len(Z_select), size=min(len(Z_select), self.silhouette_sample), replace=False
        )

        families = {"auto": ["kmeans", "gmm"], "kmeans": ["kmeans"], "gmm": ["gmm"]}[self.method]
        fits: list[_Fit] = []
        rows: list[dict[str, Any]] = []
        for k in ks:
            for family in families:
                for cov in self.covariance_types if family == "gmm" else ("spherical",):
                    fit = self._fit_one(Z_select, family, cov, k, seeds, adaptive=True)
                    row, _ = self._candidate_row(fit, Z_select, sil_select)
                    row["n_users"] = len(Z_select)
                    fits.append(fit)
                    rows.append(row)
        table = pd.DataFrame(rows)
        chosen, reason = self._choose(table)
        table["selected"] = False
        table.loc[chosen, "selected"] = True
        self.candidates_ = table
        self.selection_reason_ = reason
        best = fits[chosen]
        final_row = table.loc[chosen]
        if Z_select is not Z:
            best = self._fit_one(Z, best.method, best.covariance_type, best.k, seeds, adaptive=True)
            sil_index = rng.choice(len(Z), size=min(len(Z), self.silhouette_sample), replace=False)
            row, _ = self._candidate_row(best, Z, sil_index)
            final_row = pd.Series({**row, "n_users": len(Z)})
        self.final_fit_ = {k: _jsonable(v) for k, v in final_row.items() if k != "selected"}

        self.method_ = best.method
        self.k_ = best.k
        self.covariance_type_ = best.covariance_type
        self.weights_ = best.weights
        self.means_ = best.means
        self.covariances_ = best.covariances
        self.standardised_ = Z_full
        self.proba_ = self._proba_clustering(Z_all)
        self.labels_ = self.proba_.argmax(axis=1)
        # Centroids in the whole standardised space (every feature, also those kept out of the
        # clustering space): identity matching and profiles compare personas on all of them.
        mass = self.proba_.sum(axis=0)
        self.centroids_ = (self.proba_.T @ Z_full) / np.maximum(mass, 1e-12)[:, None]
        self.gate_ = self._gate(final_row, best, Z, seeds, rng)
        return self

    def _gate(
        self,
        row: pd.Series,
        best: _Fit,
        Z: np.ndarray,
        seeds: np.ndarray,
        rng: np.random.Generator,
    ) -> GateResult:
        reference = best.log_joint(Z).argmax(axis=1)
        scores = []
        for _ in range(int(self.bootstrap)):
            sample = rng.choice(len(Z), size=min(len(Z), self.bootstrap_size), replace=True)
            refit = self._fit_one(Z[sample], best.method, best.covariance_type, best.k, seeds)
            scores.append(adjusted_rand_score(reference, refit.log_joint(Z).argmax(axis=1)))
        stability = float(np.mean(scores)) if scores else None
        shares = np.bincount(self.labels_, minlength=self.k_) / len(self.labels_)
        entropy = relative_entropy(self.proba_)
        min_share = float(shares.min())
        replicated = bool(row["replicated"])
        reasons = []
        if entropy < self.min_entropy:
            reasons.append(f"entropy {entropy:.2f} is below {self.min_entropy:.2f}")
        if min_share < self.min_share:
            reasons.append(
                f"smallest persona holds {min_share:.1%} of users, below {self.min_share:.0%}"
            )
        if not replicated:
            reasons.append(
                "only one random start was run"
                if int(row["n_starts"]) < 2
                else "best log-likelihood was not replicated across random starts"
            )
        if stability is None:
            reasons.append("bootstrap stability not measured (bootstrap=0)")
        elif stability < self.min_stability:
            reasons.append(
                f"bootstrap stability (mean ARI) {stability:.2f} is below {self.min_stability:.2f}"
            )
        return GateResult(
            reliable=not reasons,
            reasons=reasons,
            entropy=entropy,
            min_share=min_share,
            replicated=replicated,
            stability=stability,
        )

    def _cluster_columns(self, X: Any, Z: np.ndarray) -> np.ndarray:
        """Indices of the features the mixture is fitted on (rule in docs/personas.md)."""
        names = [str(n) for n in self.feature_names_in_]
        if isinstance(X, pd.DataFrame):
            missing = X.reindex(columns=names).isna().mean(axis=0).to_numpy(dtype=float)
        else:
            values = np.asarray(X, dtype=float)
            missing = (~np.isfinite(values)).mean(axis=0) if len(values) else np.zeros(len(names))
        excluded = np.array(
            [any(fnmatch.fnmatchcase(n, p) for p in self.cluster_exclude) for n in names],
            dtype=bool,
        )
        constant = Z.std(axis=0) < 1e-12 if len(Z) else np.zeros(len(names), dtype=bool)
        keep = ~excluded & ~constant & (missing <= self.max_missing_share)
        if not keep.any():  # nothing left: cluster on every non-constant feature
            keep = ~constant if (~constant).any() else np.ones(len(names), dtype=bool)
        return np.flatnonzero(keep)

    def _projection(self, Z: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        """Principal axes (m, d) the mixtures are fitted on, or None to use the features as is."""
        option = self.reduce_dimensions
        n, d = Z.shape
        if option is None or d < 2:
            return None
        if option != "parallel" and not isinstance(option, int | np.integer):
            raise ValueError(
                f"reduce_dimensions must be 'parallel', an int or None, not {option!r}"
            )
        rows = (
            rng.choice(n, size=int(self.selection_size), replace=False)
            if n > self.selection_size
            else slice(None)
        )
        if option == "parallel":
            m, components = parallel_analysis(Z[rows], rng)
        else:
            m = int(option)
            _, components = parallel_analysis(Z[rows], rng, reps=0)
        if m < 1 or m >= d:  # no correlation structure to summarise, or nothing to drop
            return None
        return components[:m]

    # --------------------------------------------------------------- assigning
    def _proba_standardised(self, Z: np.ndarray) -> np.ndarray:
        """Persona probabilities for rows of the whole standardised space (n, d) -> (n, k)."""
        Z = Z[:, self.cluster_index_]
        if self.components_ is not None:
            Z = Z @ self.components_.T
        return self._proba_clustering(Z)

    def _proba_clustering(self, Z: np.ndarray) -> np.ndarray:
        cov_type = "spherical" if self.method_ == "kmeans" else self.covariance_type_
        parts = []
        for start in range(0, len(Z), max(int(self.batch_size), 1)):
            block = Z[start : start + self.batch_size]
            parts.append(
                _posterior(
                    gaussian_log_joint(
                        block, self.weights_, self.means_, self.covariances_, cov_type
                    )
                )
            )
        return np.vstack(parts) if parts else np.empty((0, self.k_))

    def standardise(self, X: Any) -> np.ndarray:
        """Features (DataFrame, array or one dict) in the model's standardised space, (n, d)."""
        return np.asarray(self.preprocessor_.transform(X), dtype=float)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each persona (columns in component order) for each row of X, (n, k)."""
        with threadpool_limits(limits=1):
            return self._proba_standardised(self.standardise(X))

    def predict(self, X: Any) -> np.ndarray:
        """Most probable persona index per row, (n,)."""
        return self.predict_proba(X).argmax(axis=1)

    # ---------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """Everything needed to score new users, as plain JSON types (no pickle)."""
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "preprocessor"}
        return _jsonable(
            {
                "format": STATE_FORMAT,
                "method": self.method_,
                "k": self.k_,
                "covariance_type": self.covariance_type_,
                "feature_names": [str(n) for n in self.feature_names_in_],
                "cluster_features": [str(n) for n in self.cluster_features_],
                "centroids": self.centroids_,
                "projection": self.components_,
                "preprocessor": self.preprocessor_.to_state(),
                "weights": self.weights_,
                "means": self.means_,
                "covariances": self.covariances_,
                "params": params,
            }
        )

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PersonaModel:
        """Rebuild a model that scores exactly like the one ``to_state`` came from."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a persona model state (format {state.get('format')!r})")
        params = dict(state.get("params", {}))
        for name in ("covariance_types", "cluster_exclude"):
            if name in params:
                params[name] = tuple(params[name])
        model = cls(**params)
        model.preprocessor_ = FeaturePreprocessor.from_state(state["preprocessor"])
        model.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)
        model.method_ = state["method"]
        model.k_ = int(state["k"])
        model.covariance_type_ = state["covariance_type"]
        model.weights_ = np.asarray(state["weights"], dtype=float)
        model.means_ = np.asarray(state["means"], dtype=float)
        model.covariances_ = np.asarray(state["covariances"], dtype=float)
        # States written before the clustering space existed clustered on every feature.
        names = [str(n) for n in model.feature_names_in_]
        cluster = state.get("cluster_features") or names
        model.cluster_index_ = np.array([names.index(n) for n in cluster], dtype=int)
        model.cluster_features_ = np.asarray(cluster, dtype=object)
        projection = state.get("projection")
        model.components_ = np.asarray(projection, dtype=float) if projection is not None else None
        centroids = state.get("centroids")
        model.centroids_ = (
            np.asarray(centroids, dtype=float) if centroids is not None else model.means_
        )
        return model
