"""Feature preprocessing for clustering: impute, winsorise, tame heavy tails, standardise — and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["FeaturePreprocessor"]


def _skewness(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size < 3:
        return 0.0
    centred = values - values.mean()
    sd = np.sqrt(np.mean(centred**2))
    if sd == 0:
        return 0.0
    return float(np.mean(centred**3) / sd**3)


class FeaturePreprocessor(TransformerMixin, BaseEstimator):
    """Impute (median), winsorise, log1p heavy-tailed non-negative features, standardise.

    Parameters
    ----------
    log_transform : "auto" applies log1p to a feature when fit finds it non-negative with skewness
        above ``skew_threshold``; True / False force it on / off for all non-negative features.
    skew_threshold : skewness above which "auto" logs a feature.
    clip_quantiles : (low, high) quantiles of the fitted data each feature is clipped to; None
        disables winsorising.

    Input: a DataFrame (columns are remembered by name; missing ones at transform time are imputed)
    or a 2-D array. Output of ``transform``: float ndarray (n, n_features) with mean 0 and unit
    variance on the fitted data. ``inverse_transform`` maps standardised rows back to plain units
    (clipped values stay clipped, which is what profiles want).

    Fitted: ``feature_names_in_``, ``medians_``, ``clip_low_``, ``clip_high_`` (plain units),
    ``log_mask_``, ``mean_``, ``scale_`` (of the transformed values).
    """

    def __init__(
        self,
        log_transform: str | bool = "auto",
        skew_threshold: float = 1.0,
        clip_quantiles: tuple[float, float] | None = (0.005, 0.995),
    ) -> None:
        self.log_transform = log_transform
        self.skew_threshold = skew_threshold
        self.clip_quantiles = clip_quantiles

    def _as_array(self, X: Any, *, fitting: bool) -> np.ndarray:
        if isinstance(X, Mapping):
            X = pd.DataFrame([X])
        if isinstance(X, pd.DataFrame):
            if fitting:
                self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            else:
                X = X.reindex(columns=list(self.feature_names_in_))
            return X.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        array = np.asarray(X, dtype=float)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if fitting:
            self.feature_names_in_ = np.asarray(
                [f"x{i}" for i in range(array.shape[1])], dtype=object
            )
        elif array.shape[1] != len(self.feature_names_in_):
            raise ValueError(
                f"expected {len(self.feature_names_in_)} features, got {array.shape[1]}"
            )
        return array

    def fit(self, X: Any, y: Any = None) -> FeaturePreprocessor:
        values = self._as_array(X, fitting=True)
        values = np.where(np.isfinite(values), values, np.nan)
        # A feature nobody has (all NaN) gets median 0 rather than a NaN warning.
        observed = ~np.all(np.isnan(values), axis=0)
        medians = np.zeros(values.shape[1])
        if len(values) and observed.any():
            medians[observed] = np.nanmedian(values[:, observed], axis=0)
        imputed = np.where(np.isnan(values), medians, values)
        if self.clip_quantiles is not None:
            low, high = self.clip_quantiles
            self.clip_low_ = np.quantile(imputed, low, axis=0)
            self.clip_high_ = np.quantile(imputed, high, axis=0)
        else:
            self.clip_low_ = np.full(imputed.shape[1], -np.inf)
            self.clip_high_ = np.full(imputed.shape[1], np.inf)
        clipped = np.clip(imputed, self.clip_low_, self.clip_high_)
        non_negative = clipped.min(axis=0) >= 0 if len(clipped) else np.zeros(0, dtype=bool)
        if self.log_transform == "auto":
            skew = np.array([_skewness(clipped[:, j]) for j in range(clipped.shape[1])])
            self.log_mask_ = non_negative & (skew > self.skew_threshold)
        else:
            self.log_mask_ = non_negative & bool(self.log_transform)
        transformed = np.where(self.log_mask_, np.log1p(np.maximum(clipped, 0)), clipped)
        self.medians_ = medians
        self.mean_ = transformed.mean(axis=0)
        scale = transformed.std(axis=0)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        values = self._as_array(X, fitting=False)
        values = np.where(np.isfinite(values), values, self.medians_)
        clipped = np.clip(values, self.clip_low_, self.clip_high_)
        transformed = np.where(self.log_mask_, np.log1p(np.maximum(clipped, 0)), clipped)
        return (transformed - self.mean_) / self.scale_

    def inverse_transform(self, Z: Any) -> np.ndarray:
        Z = np.asarray(Z, dtype=float)
        if Z.ndim == 1:
            Z = Z.reshape(1, -1)
        plain = Z * self.scale_ + self.mean_
        plain[:, self.log_mask_] = np.expm1(plain[:, self.log_mask_])
        return plain

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        return np.asarray(self.feature_names_in_, dtype=object)

    def to_state(self) -> dict[str, Any]:
        """Fitted parameters as plain JSON types (infinite clip bounds become None)."""

        def bounds(values: np.ndarray) -> list[float | None]:
            return [float(v) if np.isfinite(v) else None for v in values]

        return {
            "feature_names": [str(n) for n in self.feature_names_in_],
            "medians": self.medians_.tolist(),
            "clip_low": bounds(self.clip_low_),
            "clip_high": bounds(self.clip_high_),
            "log_mask": [bool(v) for v in self.log_mask_],
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "params": {
                "log_transform": self.log_transform,
                "skew_threshold": self.skew_threshold,
                "clip_quantiles": list(self.clip_quantiles) if self.clip_quantiles else None,
            },
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FeaturePreprocessor:
        params = dict(state.get("params", {}))
        if params.get("clip_quantiles") is not None:
            params["clip_quantiles"] = tuple(params["clip_quantiles"])
        pre = cls(**params)
        pre.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)
        pre.n_features_in_ = len(pre.feature_names_in_)
        pre.medians_ = np.asarray(state["medians"], dtype=float)
        pre.clip_low_ = np.array(
            [-np.inf if v is None else v for v in state["clip_low"]], dtype=float
        )
        pre.clip_high_ = np.array(
            [np.inf if v is None else v for v in state["clip_high"]], dtype=float
        )
        pre.log_mask_ = np.asarray(state["log_mask"], dtype=bool)
        pre.mean_ = np.asarray(state["mean"], dtype=float)
        pre.scale_ = np.asarray(state["scale"], dtype=float)
        return pre
