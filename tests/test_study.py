"""The layer x encoder study: grid, folds, table, report files, bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
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
from sklearn_cnntexture.report import write_study
from sklearn_cnntexture.study import (
    RepeatedGroupSplits,
    best_explainable,
    check_study_data,
    load_study,
    make_study,
    run_study,
    study_cv,
    study_grid,
    study_results,
)

#: Random weights: the study's tests need no pretrained network.
RANDOM = VGGLayerTransformer(weights=None, random_state=0)


def random_vgg(cache=None):
    return VGGLayerTransformer(weights=None, random_state=0, cache=cache)


def textures(n_per_class, n_classes=3, size=32, seed=0):
    """Stripes of a different frequency per class, random phase and noise."""
    rng = np.random.default_rng(seed)
    x = np.arange(size)
    images, labels = [], []
    for k in range(n_classes):
        for _ in range(n_per_class):
            phase = rng.random() * 6
            stripes = np.sin((0.2 + 0.4 * k) * x[None, :] + phase) * np.ones((size, 1))
            noise = 0.1 * rng.random((size, size))
            images.append((0.5 + 0.3 * stripes + noise).astype(np.float32))
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


def test_run_study_end_to_end_and_report(tmp_path):
    X, y = textures(4)
    before = backbone_image_count()
    result = run_study(
        X,
        y,
        layers=["block1_conv2", "block2_conv2"],
        vgg=random_vgg(str(tmp_path / "cache")),
        n_repeats=1,
        n_estimators=10,
        vlad_resize=48,
        verbose=False,
    )
    # native size once, VLAD's resize once for descriptors, once for its codes
    assert backbone_image_count() - before == 3 * len(X)
    table = result.results
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
    assert result.best["f1_mean"] == table["f1_mean"].max()
    # stripes are told apart by the CNN layers
    assert table.loc[table["layer"] == "block1_conv2", "f1_mean"].max() > 0.8

    paths = write_study(result, tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["results.csv", "study.json", "study.png", "study.svg", "union.png", "union.svg",
         "summary.md"]
    )
    saved = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(saved.columns) == ["layer", "encoder", "model", "n_features", "f1_mean",
                                  "f1_std", "fit_score_s_per_fold"]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Best configuration" in summary and "C1,2" in summary


def test_regression_study(tmp_path):
    X, labels = textures(4, n_classes=3)
    y = np.array([float(label[-1]) + 0.25 * i % 0.5 for i, label in enumerate(labels)])
    result = run_study(
        X,
        y,
        layers=["block1_conv2"],
        encoders=["mean"],
        union=False,
        vgg=random_vgg(str(tmp_path)),
        n_repeats=1,
        n_estimators=10,
        verbose=False,
    )
    assert result.task == "regression" and result.metric == "r2"
    assert {"r2_mean", "r2_std"} <= set(result.results.columns)
    assert result.results.set_index("layer").loc["block1_conv2", "r2_mean"] > 0.5


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
        run_study(paths, y, layers=["block1_conv2"], encoders=["mean"], raw_image=False,
                  union=False, vgg=random_vgg(str(tmp_path / "cache")), n_repeats=1,
                  n_estimators=5, verbose=False)


def test_mixed_image_sizes_are_fine(tmp_path):
    X, y = textures(3)
    X = [im if i % 2 else np.pad(im, ((0, 8), (0, 4)), mode="reflect") for i, im in enumerate(X)]
    result = run_study(X, y, layers=["block2_conv2"], encoders=["mean", "gram"], union=False,
                       vgg=random_vgg(str(tmp_path)), n_repeats=1, n_estimators=10,
                       verbose=False)
    assert len(result.results) == 4 and result.results["f1_mean"].notna().all()


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
    result = run_study(X, y, layers=["C1_2"], encoders=["mean"], vgg=random_vgg(str(tmp_path)),
                       n_repeats=1, n_estimators=5, verbose=False)
    table = result.results
    assert not table.duplicated(["layer", "encoder"]).any()
    assert list(table["layer"]) == ["image", "block1_conv2"]
    assert any("No union of layers" in note for note in result.notes)
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
    ({"n_estimators": 0}, "at least 1 tree"),
    ({"n_splits": 1}, "at least 2 folds"),
    ({"n_repeats": 0}, "at least once"),
])
def test_bad_settings_are_refused_before_any_image(option, message, tmp_path):
    X, y = textures(3)
    before = backbone_image_count()
    settings = {"layers": ["C1_2"], "encoders": ["mean"], "n_repeats": 1, **option}
    with pytest.raises(ValueError, match=message):
        run_study(X, y, vgg=random_vgg(str(tmp_path)), verbose=False, **settings)
    assert backbone_image_count() == before


def test_summary_names_weights_ties_vlad_size_and_the_time_unit(tmp_path):
    X, y = textures(3)
    result = run_study(X, y, layers=["C1_2", "C2_2"], encoders=["mean", "vlad"],
                       vgg=random_vgg(str(tmp_path / "cache")), vlad_resize=40, n_repeats=1,
                       n_estimators=5, verbose=False)
    write_study(result, tmp_path / "out")
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Weights: random (seed 0)" in summary and "scikit-learn" in summary
    assert "VLAD ran on images resized to 40" in summary
    assert "fit + score per fold (s)" in summary
    best = result.best
    tied = result.results[(result.results["f1_mean"] >= best["f1_mean"] - best["f1_std"])]
    assert len(result.ties) == len(tied) - 1
    if len(result.ties):
        assert "Within one standard deviation" in summary


def test_study_folder_reads_back(tmp_path):
    X, y = textures(3)
    vgg = VGGLayerTransformer(weights=None, random_state=0, resize=(40, 36), crop=2,
                              cache=str(tmp_path / "cache"))
    result = run_study(X, y, layers=["C1_2"], encoders=["mean"], vgg=vgg, n_repeats=1,
                       n_estimators=5, verbose=False)
    write_study(result, tmp_path / "out")
    study = load_study(tmp_path / "out")
    params = study.vgg.get_params()
    assert params["resize"] == (40, 36) and params["crop"] == 2
    assert params["cache"] == str(tmp_path / "cache") and params["weights"] is None
    assert list(study.results["layer"]) == list(result.results["layer"])
    assert study.config["provenance"]["weights"] == "random (seed 0)"


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
    run_study(X, y, layers=["C1_2"], encoders=["mean", "vlad"], raw_image=False,
              vgg=random_vgg(str(tmp_path)), vlad_resize=40, n_repeats=1, n_estimators=5,
              verbose=True)
    err = capsys.readouterr().err
    assert "VGG16 at native size" in err
    assert "VGG16 at 40 x 40 for VLAD descriptors" in err
    assert "VLAD codes of 3 fold dictionaries" in err
    assert "Grid search: fits (candidates x folds)" in err and "6/6" in err
