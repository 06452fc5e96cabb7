"""The model as a dimension of the study: registry, grid, table, groups, figures, CLI names."""

import warnings

import numpy as np
import pandas as pd
import pytest
from _micrographs import float_striped
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_cnntexture import VGGLayerTransformer
from sklearn_cnntexture.plotting import plot_models, plot_study
from sklearn_cnntexture.report import write_study
from sklearn_cnntexture.study import Study, make_study, study_config, study_grid
from sklearn_cnntexture.study.models import (
    MODELS,
    check_models,
    macro_f1,
    make_model,
    model_name,
)


def textures(n_per_class, n_classes=3, size=32, seed=0):
    """Stripes of a different frequency per class, random phase and noise."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(n_classes):
        for _ in range(n_per_class):
            images.append(float_striped(rng, 0.2 + 0.4 * k, size))
            labels.append(f"class{k}")
    return images, np.array(labels)


@pytest.mark.parametrize("name", ["rf", "rf-balanced", "logreg", "logreg-balanced"])
def test_every_classifier_name_builds_and_is_named_back(name):
    model = make_model(name, n_estimators=7, n_jobs=1, random_state=3)
    assert model_name(model) == name  # whatever its trees, cores and seed
    assert name in MODELS


def test_registry_models_are_what_the_docs_say():
    rf, balanced = make_model("rf"), make_model("rf-balanced")
    assert isinstance(rf, RandomForestClassifier) and rf.n_estimators == 400
    assert rf.class_weight is None and balanced.class_weight == "balanced"
    logreg = make_model("logreg")
    assert [type(step).__name__ for _, step in logreg.steps] == [
        "StandardScaler", "LogisticRegressionCV"]
    scoring = logreg[-1].scoring  # macro F1, as a scorer without pos_label
    assert scoring._score_func is macro_f1 and scoring._kwargs == {}
    y_true, y_pred = ["a", "b", "b", "c"], ["a", "b", "c", "c"]
    assert macro_f1(y_true, y_pred) == f1_score(y_true, y_pred, average="macro")
    assert type(make_model("logreg", groups=True)[-1].cv).__name__ == "StratifiedGroupKFold"
    assert model_name(make_model("rf", "regression")) == "rf"
    assert model_name(make_model("ridge", "regression")) == "ridge"


def test_any_estimator_by_object_and_bad_names():
    assert model_name(SVC()) == "SVC"
    assert model_name(Pipeline([("s", StandardScaler()), ("svc", SVC())])) == "SVC"
    assert model_name(RandomForestClassifier(max_depth=3)) == "RandomForestClassifier"
    assert check_models(["rf", SVC()]) == ["rf", "SVC"]
    with pytest.raises(ValueError, match="unknown model 'forest'.*choose among"):
        make_model("forest")
    with pytest.raises(ValueError, match="unknown model 'logreg' for regression"):
        make_model("logreg", "regression")
    with pytest.raises(ValueError, match="appear more than once"):
        check_models(["rf", RandomForestClassifier(n_estimators=5)])
    with pytest.raises(ValueError, match="models is empty"):
        check_models([])
    with pytest.raises(ValueError, match="'model' parameter of make_model must be"):
        make_model(42)
    with pytest.raises(ValueError, match="'n_estimators' parameter of make_model must be"):
        make_model("rf", n_estimators=0)


def test_the_grid_contains_the_models_asked_for():
    vgg = VGGLayerTransformer(weights=None)
    search = make_study(vgg=vgg, models=["rf", "rf-balanced", "logreg"])
    for part in search.param_grid:
        assert [model_name(m) for m in part["model"]] == ["rf", "rf-balanced", "logreg"]
    n_candidates = sum(len(p["vgg__layers"]) * len(p["encode"]) * len(p["model"])
                       for p in search.param_grid)
    assert n_candidates == 3 * (6 * 4 + 1)
    # The default is the paper's grid, with the paper's forest as the pipeline's model.
    default = make_study(vgg=vgg)
    assert all("model" not in part for part in default.param_grid)
    assert model_name(default.estimator.named_steps["model"]) == "rf"
    assert "model" not in study_grid()[0]


def test_table_report_and_figures_show_every_model(tmp_path):
    X, y = textures(5)
    result = Study(VGGLayerTransformer(weights=None, random_state=0,
                                       cache=str(tmp_path / "cache")),
                   layers=["C1_2", "C2_2"], encoders=["mean"], n_repeats=1, n_estimators=10,
                   models=["rf", "logreg"]).fit(X, y)
    table = result.results_
    assert list(table["model"]) == ["rf"] * 4 + ["logreg"] * 4
    assert list(table["layer"][:4]) == ["image", "block1_conv2", "block2_conv2", "union"]
    assert result.model_names_ == ["rf", "logreg"]
    assert study_config(result)["models"] == ["rf", "logreg"]
    names = {p.name for p in write_study(result, tmp_path / "out")}
    assert {"study.png", "union.png", "models.png", "models.svg"} <= names
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Best cell of each model" in summary and "rf (the paper's protocol)" in summary
    assert "| logreg |" in summary
    saved = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(saved["model"]) == list(table["model"])


def test_figures_pick_one_model_or_one_panel_each():
    table = pd.DataFrame({
        "layer": ["block1_conv2", "block3_conv3"] * 2, "encoder": "mean",
        "model": ["logreg", "logreg", "rf", "rf"], "f1_mean": [0.8, 0.95, 0.7, 0.9],
        "f1_std": 0.02})
    ax = plot_study(table).axes[0]  # the paper's rf, though logreg is listed first
    (line,) = [c for c in ax.containers]
    np.testing.assert_allclose(sorted(line.lines[0].get_ydata()), [0.7, 0.9])
    assert [a.get_title() for a in plot_models(table).axes] == ["model: logreg", "model: rf"]
    with pytest.raises(ValueError, match="no rows of model 'svm'"):
        plot_study(table, model="svm")


class SpyGroupKFold(GroupKFold):
    """GroupKFold that records whether it got groups and whether any fold split one."""

    calls = []

    def split(self, X, y=None, groups=None):
        for train, test in super().split(X, y, groups):
            SpyGroupKFold.calls.append(not set(groups[train]) & set(groups[test]))
            yield train, test


def test_a_model_with_its_own_inner_cv_gets_the_groups(tmp_path):
    """The logistic regression's choice of C keeps each physical sample whole too."""
    X, y = textures(8)
    groups = np.repeat(np.arange(12), 2)  # 4 samples per class, 2 micrographs each
    SpyGroupKFold.calls.clear()
    model = Pipeline([("s", StandardScaler()),
                      ("lr", LogisticRegressionCV(Cs=2, cv=SpyGroupKFold(2), l1_ratios=(0.0,),
                                                  scoring="f1_macro",
                                                  use_legacy_attributes=False))])
    result = Study(VGGLayerTransformer(weights=None, random_state=0, cache=str(tmp_path)),
                   layers=["C1_2"], encoders=["mean"], raw_image=False, n_repeats=1,
                   models=[model]).fit(X, y, groups=groups)
    assert SpyGroupKFold.calls and all(SpyGroupKFold.calls)
    assert result.results_["f1_mean"].notna().all()
    # The registry's logistic regression takes a group-aware inner CV in a grouped study.
    search = make_study(vgg=VGGLayerTransformer(weights=None), groups=True, models=["logreg"])
    assert type(search.estimator.named_steps["model"][-1].cv).__name__ == "StratifiedGroupKFold"


def test_a_grouped_grid_of_several_models_fits_every_candidate(tmp_path):
    """scikit-learn cannot route groups to one candidate's inner CV when another candidate's
    pipeline does not consume them: C is then chosen on stratified folds, and the study
    says so; every candidate is scored (no NaN), on folds that keep groups whole."""
    X, y = textures(8)
    groups = np.repeat(np.arange(12), 2)
    result = Study(VGGLayerTransformer(weights=None, random_state=0, cache=str(tmp_path)),
                   layers=["C1_2"], encoders=["mean"], raw_image=False, n_repeats=1,
                   n_estimators=5, models=["rf", "logreg"]).fit(X, y, groups=groups)
    assert result.results_["f1_mean"].notna().all()
    logreg = result.search_.param_grid[0]["model"][1]
    assert type(logreg[-1].cv).__name__ == "StratifiedKFold"
    assert any("may split a group" in note for note in result.notes_)
    assert result.cv_description_ == "3 folds x 1 repeats (grouped)"


@pytest.mark.tf  # the command line runs the pretrained network
def test_cli_study_models_and_nested(tmp_path, capsys):
    from PIL import Image

    from sklearn_cnntexture.cli import main

    root = tmp_path / "data"
    X, y = textures(5)
    for i, (image, label) in enumerate(zip(X, y)):
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255).astype(np.uint8)).save(root / label / f"img{i}.png")
    out = tmp_path / "study"
    code = main(["study", str(root), "--out", str(out), "--weights", "hed-bsds500",
                 "--layers", "C1_2", "--encoders", "mean", "--no-raw", "--repeats", "1",
                 "--trees", "5", "--models", "rf,rf-balanced", "--nested"])
    assert code == 0
    table = pd.read_csv(out / "results.csv")
    assert list(table["model"]) == ["rf", "rf-balanced"]
    printed = capsys.readouterr().out
    assert "nested CV estimate" in printed and (out / "models.png").is_file()
    assert main(["study", str(root), "--out", str(tmp_path / "bad"), "--weights", "hed-bsds500",
                 "--models", "rf,forest"]) == 2
    assert "unknown model 'forest'" in capsys.readouterr().err
    assert main(["study", str(root), "--out", str(tmp_path / "bad"), "--weights", "hed-bsds500",
                 "--folds", "4", "--nested"]) == 2
    assert "nested CV with 4 folds needs at least 6 images per class" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["logreg", "logreg-balanced"])
def test_logistic_regression_fits_two_classes(name):
    """scikit-learn's f1_macro scorer breaks LogisticRegressionCV on binary labels,
    and f1_score's own warns, per fold and C, that the pos_label it is given is ignored."""
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 4)), np.array(["ferrite", "pearlite"])[np.arange(30) % 2]
    X[:, 0] += y == "pearlite"  # something to learn; class names, as the CLI gives them
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = make_model(name).fit(X, y)
    assert model.score(X, y) > 0.8


def test_one_builder_for_every_model():
    """fit's pipeline, the study's grid and explain's forest are make_model's models."""
    from sklearn_cnntexture.model.predict import configuration_pipeline

    vgg = VGGLayerTransformer(weights=None, random_state=0)
    for name in ("rf", "logreg"):
        built = configuration_pipeline(vgg, "C1_2", model=name, n_estimators=7)[-1]
        assert model_name(built) == name
    forest = configuration_pipeline(vgg, "C1_2", task="regression", n_estimators=7)[-1]
    assert type(forest).__name__ == "RandomForestRegressor" and forest.n_estimators == 7
    study = make_study(vgg=vgg, models=["rf"], n_estimators=7)
    assert (repr(study.estimator.named_steps["model"])
            == repr(make_model("rf", n_estimators=7, n_jobs=-1)))
