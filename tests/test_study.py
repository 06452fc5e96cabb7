"""The layer x encoder study: the Study estimator, grid, folds, table, report files, bad input."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _micrographs import float_striped
from PIL import Image
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import (
    GridSearchCV,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)

from sklearn_cnntexture import (
    PAPER_LAYERS,
    GramEncoder,
    MaxPool,
    MeanPool,
    MultiLayerUnion,
    VGGLayerTransformer,
    VLADEncoder,
    backbone_image_count,
)
from sklearn_cnntexture.features.featurize import featurize
from sklearn_cnntexture.report import write_study
from sklearn_cnntexture.study import (
    RepeatedGroupSplits,
    Study,
    best_explainable,
    check_study_data,
    fill_cache,
    fit_progress,
    load_study,
    make_study,
    nested_study,
    study_config,
    study_cv,
    study_grid,
    study_network,
    study_results,
)

#: Random weights: the study's tests need no pretrained network.
RANDOM = VGGLayerTransformer(weights=None, random_state=0)


def random_vgg(cache=None):
    return VGGLayerTransformer(weights=None, random_state=0, cache=cache)


def textures(n_per_class, n_classes=3, size=32, seed=0):
    """Stripes of a different frequency per class, random phase and noise."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(n_classes):
        for _ in range(n_per_class):
            images.append(float_striped(rng, 0.2 + 0.4 * k, size))
            labels.append(f"class{k}")
    return images, np.array(labels)


def test_grid_holds_the_paper_study():
    grid = study_grid()
    pooled, vlad, union = grid
    assert pooled["vgg__layers"] == [*PAPER_LAYERS, "image"]
    assert [type(e).__name__ for e in pooled["encode"]] == ["MeanPool", "MaxPool", "GramEncoder"]
    assert isinstance(vlad["encode"][0], VLADEncoder) and vlad["vgg__resize"] == [255]
    assert union["vgg__layers"] == [list(PAPER_LAYERS)]
    assert isinstance(union["encode"][0], MultiLayerUnion)
    n_candidates = sum(
        len(part["vgg__layers"]) * len(part["encode"]) for part in grid
    )
    assert n_candidates == 6 * 4 + 1  # 5 layers + raw image, x 4 encoders, + union


def test_readme_grid_is_the_study_grid():
    """The grid the README writes out by hand is what study_grid builds."""
    layers = [*PAPER_LAYERS, "image"]
    by_hand = [
        {"vgg__layers": layers, "encode": [MeanPool(), MaxPool(), GramEncoder()]},
        {"vgg__layers": layers, "vgg__resize": [255], "encode": [VLADEncoder(random_state=0)]},
        {"vgg__layers": [list(PAPER_LAYERS)], "encode": [MultiLayerUnion(MeanPool())]},
    ]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert '"vgg__resize": [255], "encode": [VLADEncoder(random_state=0)]' in readme
    def as_text(grid):  # estimators have no ==; their reprs show every parameter
        return repr([sorted(part.items()) for part in grid])

    assert as_text(study_grid()) == as_text(by_hand)


def test_grid_options_and_errors():
    grid = study_grid(["C3_3"], ["gram"], raw_image=False, union=False, vlad_resize=None)
    assert grid == [{"vgg__layers": ["block3_conv3"], "encode": [GramEncoder()]}] or (
        grid[0]["vgg__layers"] == ["block3_conv3"] and len(grid) == 1
    )
    assert "vgg__resize" not in study_grid(["C3_3"], ["vlad"], vlad_resize=None)[0]
    with pytest.raises(ValueError, match="encoders must be among"):
        study_grid(encoders=["mean", "fisher"])
    with pytest.raises(ValueError, match="Unknown layer"):
        study_grid(["block9_conv1"])


def test_make_study_is_the_paper_setup():
    search = make_study(vgg=RANDOM)
    assert isinstance(search, GridSearchCV)
    assert isinstance(search.cv, RepeatedStratifiedKFold)
    assert search.cv.get_n_splits() == 30  # 3 folds x 10 repeats
    assert search.scoring == "f1_macro"
    forest = search.estimator.named_steps["model"]
    assert isinstance(forest, RandomForestClassifier) and forest.n_estimators == 400
    regression = make_study("regression", vgg=RANDOM)
    assert isinstance(regression.cv, RepeatedKFold) and regression.scoring == "r2"
    assert isinstance(regression.estimator.named_steps["model"], RandomForestRegressor)
    assert make_study(vgg=RANDOM, scoring="accuracy").scoring == "accuracy"


def test_grouped_folds_never_split_a_group():
    y = np.repeat([0, 1], 12)
    groups = np.repeat(np.arange(8), 3)  # 8 physical samples, 3 micrographs each
    cv = study_cv(n_splits=2, n_repeats=3, groups=True)
    assert isinstance(cv, RepeatedGroupSplits) and cv.cv is StratifiedGroupKFold
    splits = list(cv.split(np.zeros(24), y, groups))
    assert len(splits) == cv.get_n_splits() == 6
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    # repeats differ
    assert len({tuple(test) for _, test in splits}) > 2


def test_study_end_to_end_and_report(tmp_path):
    X, y = textures(4)
    before = backbone_image_count()
    result = Study(
        random_vgg(str(tmp_path / "cache")),
        layers=["block1_conv2", "block2_conv2"],
        n_repeats=1,
        n_estimators=10,
        vlad_resize=48,
    ).fit(X, y)
    # native size once, VLAD's resize once for descriptors, once for its codes
    assert backbone_image_count() - before == 3 * len(X)
    table = result.results_
    assert list(table.columns) == [
        "layer", "encoder", "model", "n_features", "f1_mean", "f1_std", "fit_score_s_per_fold",
        "params"
    ]
    assert set(table["model"]) == {"rf"}  # the paper's forest alone, by default
    assert list(table["layer"]) == ["image"] * 4 + ["block1_conv2"] * 4 + ["block2_conv2"] * 4 + [
        "union"
    ]
    assert list(table["encoder"][:4]) == ["mean", "max", "gram", "vlad"]
    n_features = dict(zip(zip(table["layer"], table["encoder"]), table["n_features"]))
    assert n_features["block2_conv2", "gram"] == 128 * 129 // 2
    assert n_features["block1_conv2", "vlad"] == 32 * 64
    assert n_features["union", "mean"] == 64 + 128
    assert table["f1_mean"].between(0, 1).all()
    assert result.best_["f1_mean"] == table["f1_mean"].max()
    # stripes are told apart by the CNN layers
    assert table.loc[table["layer"] == "block1_conv2", "f1_mean"].max() > 0.8

    paths = write_study(result, tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["results.csv", "study.json", "study.png", "study.svg", "union.png", "union.svg",
         "summary.md", "out_of_fold.csv", "index.html"]
    )
    saved = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(saved.columns) == ["layer", "encoder", "model", "n_features", "f1_mean",
                                  "f1_std", "fit_score_s_per_fold"]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Best configuration" in summary and "C1,2" in summary


def test_regression_study(tmp_path):
    X, labels = textures(4, n_classes=3)
    y = np.array([float(label[-1]) + 0.25 * i % 0.5 for i, label in enumerate(labels)])
    result = Study(
        random_vgg(str(tmp_path)),
        layers=["block1_conv2"],
        encoders=["mean"],
        union=False,
        n_repeats=1,
        n_estimators=10,
    ).fit(X, y)
    assert result.task_ == "regression" and result.metric_ == "r2"
    assert result.n_classes_ is None and result.chance_ == 0
    assert {"r2_mean", "r2_std"} <= set(result.results_.columns)
    assert result.results_.set_index("layer").loc["block1_conv2", "r2_mean"] > 0.5


def test_study_results_without_cache_matches_cached(tmp_path):
    X, y = textures(3)
    options = dict(layers=["block1_conv2"], encoders=["mean", "gram"], raw_image=False,
                   union=False, n_repeats=1, n_estimators=10)
    plain = make_study(vgg=RANDOM, **options).fit(X, y)
    cached = make_study(vgg=random_vgg(str(tmp_path)), **options).fit(X, y)
    a, b = study_results(plain), study_results(cached)
    np.testing.assert_allclose(a["f1_mean"], b["f1_mean"])


@pytest.mark.parametrize(
    "y, groups, message",
    [
        ([], None, "no images"),
        (["a"] * 6, None, "only one class"),
        (["a"] * 4 + ["b"] * 2, None, r"at least 3 images per class; too few in: 'b' \(2\)"),
        (["a"] * 3 + ["b"] * 3, [0, 0, 1, 2, 3, 4], r"at least 3 groups per class.*'a' \(2\)"),
        (["a"] * 3 + ["b"] * 2, None, "6 images but 5 labels"),
    ],
)
def test_bad_data_is_explained(y, groups, message):
    X = [] if not y else [np.zeros((32, 32))] * 6
    with pytest.raises(ValueError, match=message):
        check_study_data(X, y, groups=groups)


def test_an_unreadable_image_is_named(tmp_path):
    X, y = textures(3)
    paths = []
    for i, image in enumerate(X):
        path = tmp_path / f"img{i}.png"
        Image.fromarray((image * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    (tmp_path / "img4.png").write_bytes(b"this is not a PNG")
    with pytest.raises(ValueError, match="img4.png"):
        Study(random_vgg(str(tmp_path / "cache")), layers=["block1_conv2"], encoders=["mean"],
              raw_image=False, union=False, n_repeats=1, n_estimators=5).fit(paths, y)


def test_mixed_image_sizes_are_fine(tmp_path):
    X, y = textures(3)
    X = [im if i % 2 else np.pad(im, ((0, 8), (0, 4)), mode="reflect") for i, im in enumerate(X)]
    result = Study(random_vgg(str(tmp_path)), layers=["block2_conv2"],
                   encoders=["mean", "gram"], union=False, n_repeats=1,
                   n_estimators=10).fit(X, y)
    assert len(result.results_) == 4 and result.results_["f1_mean"].notna().all()


def test_union_candidate_uses_mean_of_each_layer(tmp_path):
    X, y = textures(3)
    search = make_study(layers=["block1_conv2", "block2_conv2"], encoders=["mean"],
                        raw_image=False, vgg=random_vgg(str(tmp_path)), n_repeats=1,
                        n_estimators=5).fit(X, y)
    table = study_results(search)
    union = table[table["layer"] == "union"].iloc[0]
    assert union["encoder"] == "mean" and union["n_features"] == 64 + 128
    assert isinstance(union["params"]["encode"], MultiLayerUnion)
    assert isinstance(union["params"]["encode"].encoder, MeanPool)


def test_one_layer_study_has_no_union_and_says_so(tmp_path):
    """Issue 10, item 1: the union of one layer was that layer again, a duplicate row."""
    X, y = textures(3)
    result = Study(random_vgg(str(tmp_path)), layers=["C1_2"], encoders=["mean"],
                   n_repeats=1, n_estimators=5).fit(X, y)
    table = result.results_
    assert not table.duplicated(["layer", "encoder"]).any()
    assert list(table["layer"]) == ["image", "block1_conv2"]
    assert any("No union of layers" in note for note in result.notes_)
    paths = write_study(result, tmp_path / "out")
    assert "union.png" not in {p.name for p in paths}
    assert "No union of layers" in (tmp_path / "out" / "summary.md").read_text()


def test_a_union_row_is_labelled_union_whatever_its_layers(tmp_path):
    X, y = textures(3)
    search = make_study(layers=["block1_conv2"], encoders=["mean"], raw_image=False,
                        union=False, vgg=random_vgg(str(tmp_path)), n_repeats=1, n_estimators=5)
    search.param_grid.append({"vgg__layers": [["block1_conv2"]],
                              "encode": [MultiLayerUnion(MeanPool())]})
    table = study_results(search.fit(X, y))
    assert list(table["layer"]) == ["block1_conv2", "union"]


@pytest.mark.parametrize("option, message", [
    ({"n_estimators": 0}, "'n_estimators' parameter of Study must be an int in the range"),
    ({"n_splits": 1}, "'n_splits' parameter of Study must be an int in the range"),
    ({"n_repeats": 0}, "'n_repeats' parameter of Study must be an int in the range"),
    ({"layers": "C1_2"}, "'layers' parameter of Study must be an instance of 'list'"),
    ({"encoders": ["mean", "fisher"]}, "encoders must be among"),
    ({"layers": ["C9_9"]}, "Unknown layer"),
    ({"layers": [], "raw_image": False}, "the study has no candidate"),
    ({"encoders": ["vlad"], "layers": ["C3_3"], "vlad_resize": 3},
     "vlad_resize=3 is too small for block3_conv3, which needs images of at least 4 x 4"),
    ({"encoders": ["vlad"], "vlad_resize": (40, 40, 3)}, "give one size or"),
    ({"models": ["rf", "forest"]}, "unknown model 'forest'"),
    ({"scoring": "f2_macro"}, "'f2_macro' is not a valid scoring value"),
    ({"nested": True, "n_splits": 3}, "nested CV with 3 folds needs at least 5 images"),
    ({"task": "ranking"}, "'task' parameter of Study must be a str among"),
])
def test_bad_settings_are_refused_before_any_image(option, message, tmp_path):
    X, y = textures(3)
    before = backbone_image_count()
    settings = {"layers": ["C1_2"], "encoders": ["mean"], "n_repeats": 1, **option}
    study = Study(random_vgg(str(tmp_path)), **settings)
    with pytest.raises(ValueError, match=message):
        study.fit(X, y)
    with pytest.raises(ValueError, match=message):
        study.validate(X, y)
    assert backbone_image_count() == before
    assert not hasattr(study, "results_") and not hasattr(study, "model_names_")


def test_a_study_is_a_scikit_learn_estimator(tmp_path):
    """Its settings are its parameters, clone gives an unfitted copy, fit changes none."""
    study = Study(random_vgg(str(tmp_path)), layers=["C1_2"], encoders=["mean"], n_repeats=1,
                  n_estimators=5)
    params = study.get_params(deep=False)
    copy = clone(study)
    assert copy.get_params(deep=False).keys() == params.keys()
    assert copy.vgg is not study.vgg and copy.vgg.get_params() == study.vgg.get_params()
    X, y = textures(3)
    fitted = study.fit(X, y)
    assert fitted is study and study.get_params(deep=False) == params
    assert study.vgg.cache_layers is None  # the search's copy has the study's layers
    assert study.search_.estimator.named_steps["vgg"].cache_layers == ["block1_conv2", "image"]
    assert not hasattr(clone(study), "results_")
    assert study.n_images_ == 9 and study.n_classes_ == 3 and study.chance_ == pytest.approx(1 / 3)
    assert study.task_ == "classification" and study.scoring_ == "f1_macro"
    assert study.model_names_ == ["rf"] and study.nested_ is None
    assert study.cv_description_ == "3 folds x 1 repeats"
    assert study.featurize_time_ > 0 and study.fit_time_ > 0
    assert study.provenance_["weights"] == "random (seed 0)"
    # A second fit on the same cache runs no network and gives the same table.
    before = backbone_image_count()
    again = clone(study).fit(X, y)
    assert backbone_image_count() == before
    pd.testing.assert_frame_equal(again.results_.drop(columns=["params", "fit_score_s_per_fold"]),
                                  study.results_.drop(columns=["params", "fit_score_s_per_fold"]))


def test_a_regression_target_of_whole_numbers_needs_the_task(tmp_path):
    """Whole numbers read as classes; task="regression" says otherwise."""
    X, _ = textures(4)
    y = np.arange(len(X), dtype=float) * 10  # whole numbers: "multiclass" to scikit-learn
    study = Study(random_vgg(str(tmp_path)), layers=["C1_2"], encoders=["mean"], n_repeats=1,
                  n_estimators=5, raw_image=False)
    with pytest.raises(ValueError, match="needs at least 3 images per class"):
        study.validate(X, y)
    assert study.set_params(task="regression").fit(X, y).metric_ == "r2"


def test_summary_names_weights_ties_vlad_size_and_the_time_unit(tmp_path):
    X, y = textures(3)
    result = Study(random_vgg(str(tmp_path / "cache")), layers=["C1_2", "C2_2"],
                   encoders=["mean", "vlad"], vlad_resize=40, n_repeats=1,
                   n_estimators=5).fit(X, y)
    write_study(result, tmp_path / "out")
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Weights: random (seed 0)" in summary and "scikit-learn" in summary
    assert "VLAD ran on images resized to 40" in summary
    assert "fit + score per fold (s)" in summary
    best = result.best_
    tied = result.results_[(result.results_["f1_mean"] >= best["f1_mean"] - best["f1_std"])]
    assert len(result.ties_) == len(tied) - 1
    if len(result.ties_):
        assert "Within one standard deviation" in summary


def test_study_folder_reads_back(tmp_path):
    X, y = textures(5)
    vgg = VGGLayerTransformer(weights=None, random_state=0, resize=(40, 36), crop=2,
                              cache=str(tmp_path / "cache"))
    result = Study(vgg, layers=["C1_2"], encoders=["mean", "max"], n_repeats=1,
                   n_estimators=5, models=["rf", "rf-balanced"], nested=True).fit(X, y)
    write_study(result, tmp_path / "out")
    study = load_study(tmp_path / "out")
    params = study.vgg.get_params()
    assert params["resize"] == (40, 36) and params["crop"] == 2
    assert params["cache"] == str(tmp_path / "cache") and params["weights"] is None
    assert list(study.results["layer"]) == list(result.results_["layer"])
    assert study.config["provenance"]["weights"] == "random (seed 0)"
    assert study.config["format"] == 2 and study.config["nested"] is True
    assert study.config["nested_estimate"]["scores"] == pytest.approx(
        result.nested_.scores.tolist())
    # The study that made the folder, rebuilt from its parameters: the same settings.
    rebuilt = study.study
    assert rebuilt.vgg is study.vgg
    expected = {**result.get_params(deep=False), "task": "classification",
                "scoring": "f1_macro", "layers": ["block1_conv2"]}
    for name, value in rebuilt.get_params(deep=False).items():
        if name != "vgg":
            assert value == (list(expected[name]) if isinstance(expected[name], tuple)
                             else expected[name]), name


def test_a_study_folder_of_the_first_format_reads_back(tmp_path):
    """study.json as written before the Study estimator: "nested" held the estimate."""
    folder = tmp_path / "old"
    folder.mkdir()
    pd.DataFrame({"layer": ["block1_conv2"], "encoder": ["mean"], "model": ["rf"],
                  "n_features": [64], "f1_mean": [0.9], "f1_std": [0.1],
                  "fit_score_s_per_fold": [0.1]}).to_csv(folder / "results.csv", index=False)
    config = {"task": "classification",
              "vgg": {"weights": None, "crop": None, "resize": [40, 36], "float_scale": 255.0,
                      "precision": "float32", "pixel_size": None,
                      "batch_size": 8, "cache": None, "random_state": 0},
              "layers": ["block1_conv2"], "encoders": ["mean"], "raw_image": False,
              "union": True, "vlad_resize": [255, 255], "n_splits": 3, "n_repeats": 1,
              "n_estimators": 5, "scoring": "f1_macro", "random_state": 0, "models": ["rf"],
              "nested": {"mean": 0.8, "std": 0.1, "winners": ["mean of block1_conv2, rf"],
                         "time": 1.0, "description": "3 outer folds", "scores": [0.8]},
              "provenance": {"weights": "random (seed 0)"}}
    (folder / "study.json").write_text(json.dumps(config))
    study = load_study(folder)
    assert study.config["nested"] is True and study.config["nested_estimate"]["mean"] == 0.8
    assert study.vgg.resize == (40, 36) and study.study.vlad_resize == (255, 255)
    assert study.study.nested is True and study.study.n_estimators == 5
    # A folder without study.json: only its table.
    (folder / "study.json").unlink()
    assert load_study(folder).study is None
    (folder / "study.json").write_text("{not json")
    with pytest.raises(ValueError, match="study.json is not JSON"):
        load_study(folder)


def test_study_config_is_the_parameters_as_json(tmp_path):
    X, y = textures(3)
    study = Study(random_vgg(), layers=("C1_2",), encoders=("mean",), raw_image=False,
                  vlad_resize=(32, 30), n_repeats=1, n_estimators=5).fit(X, y)
    config = study_config(study)
    assert json.loads(json.dumps(config)) == config  # JSON as it stands
    assert config["layers"] == ["block1_conv2"] and config["vlad_resize"] == [32, 30]
    assert config["vgg"]["weights"] is None and config["models"] == ["rf"]
    assert set(study.get_params(deep=False)) <= set(config)
    with pytest.raises(ValueError, match="not fitted"):
        study_config(clone(study))


def test_best_explainable_skips_gram_vlad_and_the_raw_image():
    table = pd.DataFrame({
        "layer": ["image", "block1_conv2", "block2_conv2", "block2_conv2", "union"],
        "encoder": ["mean", "mean", "max", "gram", "mean"],
        "f1_mean": [0.99, 0.5, 0.8, 0.95, 0.7], "f1_std": [0.0] * 5,
    })
    choice = best_explainable(table)
    assert (choice.layers, choice.encoder, choice.metric) == (["block2_conv2"], "max", "f1")
    table.loc[4, "f1_mean"] = 0.9
    assert best_explainable(table).layers == ["block1_conv2", "block2_conv2"]
    with pytest.raises(ValueError, match="no mean or max"):
        best_explainable(table[table["encoder"] == "gram"])


def test_every_phase_has_a_labelled_progress_bar(tmp_path, capsys):
    """Issue 10, item 13: each pass says what it is, and the grid search counts its fits."""
    X, y = textures(3)
    Study(random_vgg(str(tmp_path)), layers=["C1_2"], encoders=["mean", "vlad"],
          raw_image=False, vlad_resize=40, n_repeats=1, n_estimators=5, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    assert "VGG16 at native size" in err
    assert "VGG16 at 40 x 40 for VLAD descriptors" in err
    assert "VLAD codes of 3 fold dictionaries" in err
    assert "Grid search: fits (candidates x folds)" in err and "6/6" in err


def test_write_study_takes_a_fitted_study(tmp_path):
    from sklearn.utils import Bunch

    with pytest.raises(ValueError, match="This Study instance is not fitted yet"):
        write_study(Study(), tmp_path / "out")
    with pytest.raises(ValueError, match="'study' parameter of write_study must be an instance"):
        write_study(Bunch(results=None), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # refused before any folder is made


@pytest.mark.parametrize("call, parameter", [
    (lambda: study_cv(n_splits=1), "'n_splits' parameter of study_cv"),
    (lambda: study_cv("ranking"), "'task' parameter of study_cv"),
    (lambda: make_study(n_estimators=0), "'n_estimators' parameter of make_study"),
    (lambda: make_study(layers="C1_2"), "'layers' parameter of make_study"),
    (lambda: study_grid(vlad_resize=0), "'vlad_resize' parameter of study_grid"),
    (lambda: fill_cache("search", []), "'search' parameter of fill_cache"),
    (lambda: nested_study(make_study(vgg=RANDOM), [], [], n_splits=1),
     "'n_splits' parameter of nested_study"),
    (lambda: check_study_data([], [], n_splits=0), "'n_splits' parameter of check_study_data"),
    (lambda: fit_progress(3), "'search' parameter of fit_progress"),
    (lambda: load_study(3), "'directory' parameter of load_study"),
    (lambda: study_network(None), "'study' parameter of study_network"),
    (lambda: featurize([np.zeros((8, 8))], RANDOM, "fisher"), "'encoder' parameter of featurize"),
    (lambda: featurize([np.zeros((8, 8))], RANDOM, chunk_size=0),
     "'chunk_size' parameter of featurize"),
])
def test_public_functions_validate_their_parameters(call, parameter):
    """scikit-learn's validate_params: the parameter named, before any work."""
    before = backbone_image_count()
    with pytest.raises(ValueError, match=parameter):
        call()
    assert backbone_image_count() == before


def test_a_callable_scoring_is_the_score_column(tmp_path):
    from sklearn.metrics import accuracy_score, make_scorer

    X, y = textures(3)
    study = Study(random_vgg(str(tmp_path / "cache")), layers=["C1_2"], encoders=["mean"],
                  n_repeats=1, n_estimators=5, scoring=make_scorer(accuracy_score)).fit(X, y)
    assert study.metric_ == "score" and study.chance_ is None
    assert {"score_mean", "score_std"} <= set(study.results_.columns)
    assert study_config(study)["scoring"] is None  # a function is not JSON
    names = {p.name for p in write_study(study, tmp_path / "out")}
    assert "summary.md" in names and load_study(tmp_path / "out").study.scoring is None


@pytest.mark.parametrize("grouped", [False, True])
def test_out_of_fold_predictions_are_the_best_rows_first_repeat(tmp_path, grouped):
    """Each image predicted once, by the folds of the table's first repeat: same scores."""
    from sklearn.metrics import f1_score

    X, y = textures(4)
    groups = np.repeat(np.arange(6), 2) if grouped else None
    study = Study(random_vgg(str(tmp_path)), layers=["C1_2", "C2_2"], encoders=["mean"],
                  n_repeats=2, n_splits=2, n_estimators=5, verbose=False).fit(X, y, groups)
    oof = study.oof_predictions_
    assert oof["image"].tolist() == list(range(12)) and oof["true"].tolist() == y.tolist()
    assert sorted(oof["fold"].unique()) == [0, 1]
    if grouped:  # a sample is never split between folds
        assert oof.groupby(groups)["fold"].nunique().max() == 1
    proba = oof[[f"probability_class{k}" for k in range(3)]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert (oof["predicted"] == np.array(["class0", "class1", "class2"])[proba.argmax(1)]).all()
    # The table's best row scored these very folds in its first repeat.
    cv = study.search_.cv_results_
    best = next(i for i, p in enumerate(cv["params"]) if p == study.best_["params"])
    for k in (0, 1):
        rows = oof[oof["fold"] == k]
        assert f1_score(rows["true"], rows["predicted"], average="macro") == pytest.approx(
            cv[f"split{k}_test_score"][best])
