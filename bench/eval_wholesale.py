"""Persona engine on UCI Wholesale customers (dev set): ARI of the personas against Channel.

Reference (docs in /work/shared/eval/README.md): log + standardise then GaussianMixture(k=2) reaches
ARI .622 against Channel; KMeans(k=2) .520. The six annual spend columns are the features; Channel is
the label and Region is not a spend feature, so neither is given to the engine.

    .venv/bin/python bench/eval_wholesale.py [path/to/Wholesale_customers_data.csv]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from personapulse.personas import PersonaConfig, fit_personas

DEFAULT_PATH = (
    Path(__file__).resolve().parents[2] / "shared/eval/uci_wholesale/Wholesale_customers_data.csv"
)
SPEND = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


def main(path: Path = DEFAULT_PATH) -> None:
    data = pd.read_csv(path).drop(columns=["Customer ID"])
    label = data["Channel"].to_numpy()
    features = data[SPEND].astype(float)
    features.index = pd.Index([f"c{i}" for i in range(len(data))], name="person_id")

    baseline = StandardScaler().fit_transform(np.log(features.to_numpy()))
    gm = GaussianMixture(2, random_state=0).fit(baseline)
    print(
        f"plain GaussianMixture(k=2) on log+standardise: ARI {adjusted_rand_score(label, gm.predict(baseline)):.3f}"
    )

    runs = {
        "engine defaults (auto, k chosen in 2..8)": PersonaConfig(),
        "engine defaults but log all, no clipping (k chosen)": PersonaConfig(
            log_transform=True, clip_quantiles=None
        ),
        "engine, k=2 fixed, auto family": PersonaConfig(k=2),
        "engine, k=2, gmm": PersonaConfig(k=2, method="gmm"),
        "engine, k=2, kmeans": PersonaConfig(k=2, method="kmeans"),
        "engine, k=2, gmm, log all, no clipping": PersonaConfig(
            k=2, method="gmm", log_transform=True, clip_quantiles=None
        ),
        "engine, k=2, gmm full, log all, 1%/99% clipping": PersonaConfig(
            k=2,
            method="gmm",
            covariance_types=("full",),
            log_transform=True,
            clip_quantiles=(0.01, 0.99),
        ),
    }
    for name, config in runs.items():
        start = time.perf_counter()
        result = fit_personas(features, config=config)
        seconds = time.perf_counter() - start
        model = result.model
        ari = adjusted_rand_score(label, model.labels_)
        print(
            f"{name}: k={model.k_} {model.method_}/{model.covariance_type_} ARI {ari:.3f} "
            f"gate={'reliable' if result.gate.reliable else 'flagged'} "
            f"{result.gate.reasons} ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
