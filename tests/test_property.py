"""Tests of the property explanation (issue 21): the textures that rise and fall
with a numeric target, their stability over folds, heat maps on the lowest and
highest micrographs, characteristic textures by quantile, and the folder written.

Synthetic micrographs: vertical stripes whose frequency rises with the target,
so that some filters' mean activations rise and others fall with it. Random
VGG16 weights (weights=None, seeded): the filters are not the paper's, but the
signs of their correlations still follow the data. Expected numbers are
computed here with scipy, scikit-learn's folds and VGGLayerTransformer +
MeanPool, not with the module's helpers.
"""

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from PIL import Image
from scipy.stats import spearmanr
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_cnntexture import MeanPool, VGGLayerTransformer
from sklearn_cnntexture.exceptions import InputError
from sklearn_cnntexture.explain import activation_heatmap, explain_property
from sklearn_cnntexture.features import _backbone
from sklearn_cnntexture.io import DataWarning
from sklearn_cnntexture.report import write_property_explanation

pytest.importorskip("keras")

LAYERS = ["C1_2", "C2_2"]
SMALL = {"n_splits": 4, "size": 32, "steps": 3, "n_textures": 2, "per_quantile": 1}


@pytest.fixture(scope="module")
def stripes(tmp_path_factory):
    """16 striped PNGs, 2 per frequency; target = 500 x frequency; a group per frequency."""
    folder = tmp_path_factory.mktemp("stripes")
    rng = np.random.default_rng(0)
    frequencies = np.repeat(np.linspace(0.3, 1.8, 8), 2)
    # Shuffled, so that the lowest and highest targets are not the first and last files.
    order = rng.permutation(len(frequencies))
    paths, y, groups = [], [], []
    for i, k in enumerate(order):
        paths.append(str(folder / f"m{i:02d}.png"))
        Image.fromarray(striped(rng, frequencies[k], 48)).save(paths[-1])
        y.append(500.0 * frequencies[k])
        groups.append(f"specimen{k // 2}")
    return paths, np.array(y), np.array(groups), folder


def network(cache=None, **kwargs):
    return VGGLayerTransformer(LAYERS, weights=None, random_state=0, cache=cache, **kwargs)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def explained(stripes, cache):
    paths, y, _, _ = stripes
    return explain_property(paths, y, vgg=network(cache), target_name="temperature", **SMALL)


def features_of(paths):
    """Mean activation of every filter, independently of the module: VGG + MeanPool."""
    vgg = network()
    names, columns = [], []
    for layer in vgg.layers:
        acts = VGGLayerTransformer(layer, weights=None, random_state=0).transform(paths)
        pool = MeanPool().fit(acts)
        columns.append(pool.transform(acts))
        names += list(pool.get_feature_names_out())
    return np.hstack(columns), names


def test_correlations_are_spearman_over_all_images_and_folds(stripes, explained):
    paths, y, _, _ = stripes
    features, names = features_of(paths)
    table = explained.correlations.set_index("feature")
    assert len(table) == 64 + 128 and list(table["rank"]) == list(range(1, 193))
    folds = list(KFold(4, shuffle=True, random_state=0).split(paths))
    for j in [0, 5, 70, 150]:
        row = table.loc[names[j]]
        r = spearmanr(features[:, j], y).statistic
        assert row["r"] == pytest.approx(r, abs=1e-9)
        assert row["direction"] == ("rises" if r > 0 else "falls")
        per_fold = [spearmanr(features[train, j], y[train]).statistic for train, _ in folds]
        assert row["r_fold_mean"] == pytest.approx(np.mean(per_fold), abs=1e-9)
        assert row["r_fold_std"] == pytest.approx(np.std(per_fold), abs=1e-9)
    assert table.loc["block2_conv2__mean__7", "texture"] == "C2,2 #7"


def test_rising_and_falling_textures_follow_the_data(stripes, explained):
    paths, y, _, _ = stripes
    rising, falling = explained.rising, explained.falling
    assert len(rising) == len(falling) == 2
    assert (rising["r"] > 0.8).all() and (falling["r"] < -0.8).all()
    # A filter that rises with the target fires more on the highest micrograph.
    assert (rising["activation_high"] > rising["activation_low"]).all()
    assert (falling["activation_high"] < falling["activation_low"]).all()
    features, names = features_of(paths)
    high, low = explained.examples["high"].index, explained.examples["low"].index
    for row in rising.itertuples():
        j = names.index(row.feature)
        assert row.activation_high == pytest.approx(features[high, j], rel=1e-5)
        assert row.activation_low == pytest.approx(features[low, j], rel=1e-5)
    for layer, f in [*zip(rising["layer"], rising["filter"]),
                     *zip(falling["layer"], falling["filter"])]:
        texture = explained.textures[(layer, int(f))]
        assert texture.shape == (32, 32, 3) and 0 <= texture.min() and texture.max() <= 1
    assert explained.color == "gray"


def test_reversing_the_target_swaps_rising_and_falling(stripes, cache, explained):
    paths, y, _, _ = stripes
    reverse = explain_property(paths, -y, vgg=network(cache), **SMALL)
    a = explained.correlations.set_index("feature")
    b = reverse.correlations.set_index("feature").loc[a.index]
    np.testing.assert_allclose(b["r"], -a["r"], atol=1e-12)
    np.testing.assert_array_equal(b["stability"], a["stability"])
    assert list(reverse.rising["feature"]) == list(explained.falling["feature"])
    assert list(reverse.falling["feature"]) == list(explained.rising["feature"])
    assert reverse.examples["low"].index == explained.examples["high"].index


def test_the_ranking_is_by_stability_then_size_of_r(explained):
    table = explained.correlations
    keys = list(zip(-table["stability"], -table["r"].abs()))
    assert keys == sorted(keys)
    assert set(np.unique(table["stability"])) <= {0, 0.25, 0.5, 0.75, 1.0}


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
def test_stability_counts_the_folds_a_filter_is_in_its_directions_top_k(stripes, cache):
    """Recomputed here: per fold, the top_k largest r (rising) and lowest r (falling)."""
    paths, y, groups, _ = stripes
    e = explain_property(paths, y, vgg=network(cache), groups=groups, top_k=3, **SMALL)
    features, names = features_of(paths)
    folds = list(GroupKFold(4).split(paths, y, groups))
    counts = np.zeros(len(names))
    r_all = np.array([spearmanr(features[:, j], y).statistic for j in range(len(names))])
    for train, _ in folds:
        r = np.array([spearmanr(features[train, j], y[train]).statistic
                      for j in range(len(names))])
        r = np.nan_to_num(r)  # a filter constant on the training part has no rank order
        for direction in (1, -1):
            top = np.argsort(-direction * r, kind="stable")[:3]
            for j in top:
                if np.sign(r[j]) == direction == np.sign(r_all[j]):
                    counts[j] += 1
    expected = dict(zip(names, counts / len(folds)))
    got = dict(zip(e.correlations["feature"], e.correlations["stability"]))
    assert got == pytest.approx(expected)
    assert e.cv == "GroupKFold(4) over 8 groups"
    assert sum(got.values()) > 0


def test_heat_maps_are_of_the_most_typical_micrographs_of_the_end_quantiles(stripes,
                                                                          explained):
    paths, y, _, _ = stripes
    features, _ = features_of(paths)
    scaled = (features - features.mean(0)) / np.where(features.std(0) > 0, features.std(0), 1)
    expected = {}
    for end, members in (("low", np.argsort(y)[:4]), ("high", np.argsort(y)[-4:])):
        distance = ((scaled[members] - scaled[members].mean(0)) ** 2).sum(1)
        expected[end] = int(np.sort(members)[np.argmin(distance[np.argsort(members)])])
    low, high = explained.examples["low"], explained.examples["high"]
    assert (low.index, high.index) == (expected["low"], expected["high"])
    assert (low.name, low.y) == (f"m{low.index:02d}.png", y[low.index])
    assert low.index in np.argsort(y)[:4] and high.index in np.argsort(y)[-4:]
    assert high.chosen == "the most typical of the highest quantile"
    np.testing.assert_array_equal(high.image, np.asarray(Image.open(paths[high.index])))
    shown = [*explained.rising.itertuples(), *explained.falling.itertuples()]
    assert set(explained.heatmaps) == {(r.layer, int(r.filter)) for r in shown}
    row = shown[0]
    for end, example in (("low", low), ("high", high)):
        heat, _ = activation_heatmap(paths[example.index], row.layer, int(row.filter),
                                     vgg=network())
        np.testing.assert_array_equal(explained.heatmaps[(row.layer, int(row.filter))][end],
                                      heat)
    j = list(features_of(paths)[1]).index(row.feature)
    assert row.mean_highest_quantile == pytest.approx(features[np.argsort(y)[-4:], j].mean())


def test_extreme_examples_are_the_lowest_and_highest_micrographs(stripes, cache):
    paths, y, _, _ = stripes
    e = explain_property(paths, y, vgg=network(cache), examples="extreme", **SMALL)
    low, high = e.examples["low"], e.examples["high"]
    assert (low.index, high.index) == (int(np.argmin(y)), int(np.argmax(y)))
    row = e.falling.iloc[0]
    heat, _ = activation_heatmap(paths[low.index], row["layer"], int(row["filter"]),
                                 vgg=network())
    np.testing.assert_array_equal(e.heatmaps[(row["layer"], int(row["filter"]))]["low"], heat)


def test_by_quantile_names_each_bins_characteristic_textures(stripes, explained):
    _, y, _, _ = stripes
    table = explained.by_quantile
    assert list(table["quantile"]) == [1, 2, 3, 4]  # per_quantile=1
    assert list(table["n_images"]) == [4, 4, 4, 4]
    for row in table.itertuples():
        members = y[explained.bins == row.quantile - 1]
        assert (row.y_low, row.y_high) == (members.min(), members.max())
        assert row.d > 0 and row.mean_in > row.mean_out
    # The lowest bin's characteristic filter falls with the target, the highest's rises.
    r = explained.correlations.set_index("feature")["r"]
    assert r[table["feature"].iloc[0]] < 0 < r[table["feature"].iloc[-1]]


def test_tied_targets_merge_bins_and_say_so(stripes, cache):
    paths, _, _, _ = stripes
    y = np.array([700.0] * 4 + [800.0] * 2 + [970.0] * 9 + [1100.0])
    with pytest.warns(DataWarning, match=r"y's equal values allow 3 quantile bins of the 4 "
                                         r"asked: 700-700 \(4 images\), 800-970 \(11 images\), "
                                         r"1100-1100 \(1 images\)"):
        e = explain_property(paths, y, vgg=network(cache), examples="extreme", **SMALL)
    assert sorted(set(e.by_quantile["quantile"])) == [1, 2, 3]
    assert e.examples["low"].index == 0 and e.examples["high"].index == 15  # first of ties


def test_a_table_of_images_with_pixel_sizes(stripes, cache):
    paths, y, _, _ = stripes
    sizes = np.where(np.arange(len(paths)) % 2, 0.5, 0.25)
    X = pd.DataFrame({"path": paths, "pixel_size": sizes, "anneal_temperature": y})
    vgg = network(cache, pixel_size=0.25)
    e = explain_property(X, X["anneal_temperature"], vgg=vgg, **SMALL)
    assert e.target_name == "anneal_temperature"
    high = e.examples["high"]
    assert high.pixel_size == sizes[high.index]
    row = e.rising.iloc[0]
    expected, image = activation_heatmap(paths[high.index], row["layer"], int(row["filter"]),
                                         vgg=vgg, pixel_size=sizes[high.index])
    np.testing.assert_array_equal(e.heatmaps[(row["layer"], int(row["filter"]))]["high"],
                                  expected)
    expected_features = MeanPool().fit_transform(
        VGGLayerTransformer("C1_2", weights=None, random_state=0, pixel_size=0.25).transform(X))
    j = list(e.correlations["feature"]).index("block1_conv2__mean__3")
    r = spearmanr(expected_features[:, 3], y).statistic
    assert e.correlations["r"].iloc[j] == pytest.approx(r, abs=1e-9)


def test_the_features_come_from_the_cache(stripes, cache, explained):
    paths, y, _, _ = stripes
    before = _backbone.backbone_image_count()
    e = explain_property(paths, y, vgg=network(cache), **SMALL)
    # Only the heat maps run the network: two micrographs per shown filter.
    assert _backbone.backbone_image_count() - before == 2 * len(e.heatmaps) == 8


@pytest.mark.parametrize(
    "change, message",
    [
        ({"y": np.full(16, 800.0)}, "y is constant (800 for all 16 images): nothing rises or "
                                    "falls with it"),
        ({"y": np.arange(15.0)}, "y has 15 values but there are 16 images"),
        ({"y": np.array(["a", "b"] * 8)}, "y is not numeric (e.g. 'a'): a property explanation "
                                          "needs numbers; for class labels use explain_model"),
        ({"y": np.r_[np.arange(15.0), np.nan]}, "y has 1 missing or infinite value(s), the "
                                                "first at image 15: each image needs a number"),
        ({"n_splits": 17}, "X has 16 images, fewer than n_splits=17"),
        ({"n_splits": 9, "groups": np.repeat(np.arange(8), 2)},
         "groups has 8 distinct groups, fewer than n_splits=9: each fold needs a group to "
         "leave out"),
        ({"groups": np.arange(3)}, "groups has 3 values but there are 16 images"),
        ({"layers": ["C1_2", "image"]}, "layers: 'image' is the raw intensity, not a filter"),
        ({"layers": "C9_9"}, "layers: "),
    ],
)
def test_bad_input_is_one_clear_line_before_the_network(stripes, change, message):
    paths, y, _, _ = stripes
    args = {"y": y, **SMALL, **change}
    before = _backbone.backbone_image_count()
    with pytest.raises(InputError) as error:
        explain_property(paths, args.pop("y"), vgg=network(), **args)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert _backbone.backbone_image_count() == before


def test_too_few_images_for_a_training_part(stripes):
    paths, y, _, _ = stripes
    with pytest.raises(InputError, match="X has 3 images: with n_splits=3 a training part has "
                                         "fewer than 3"):
        explain_property(paths[:3], y[:3], vgg=network(), n_splits=3)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"top_k": 0}, "top_k"), ({"n_splits": 1}, "n_splits"), ({"n_quantiles": 1}, "n_quantiles"),
    ({"color": "grey"}, "color"), ({"examples": "lowest"}, "examples"),
    ({"vgg": "C1_2"}, "vgg"), ({"random_state": None}, "random_state"),
])
def test_bad_parameters_are_refused_by_name(stripes, kwargs, parameter):
    paths, y, _, _ = stripes
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of "
                                                    "explain_property"):
        explain_property(paths, y, **{"vgg": network(), **kwargs})


# -- the folder ---------------------------------------------------------------------------


def test_the_folder_holds_the_numbers_of_the_bunch(explained, tmp_path):
    paths = write_property_explanation(explained, tmp_path / "out", links=[("../x.html", "x")])
    out = tmp_path / "out"
    names = {p.name for p in paths}
    assert {"property_correlations.csv", "property_textures.csv", "quantile_textures.csv",
            "property_textures.png", "property_textures.svg", "quantile_textures.png",
            "index.html", "summary.md"} <= names
    assert paths[-1].name == "summary.md"  # written last: the folder is finished
    correlations = pd.read_csv(out / "property_correlations.csv")
    pd.testing.assert_frame_equal(correlations, explained.correlations, check_dtype=False)
    quantiles = pd.read_csv(out / "quantile_textures.csv")
    pd.testing.assert_frame_equal(quantiles, explained.by_quantile, check_dtype=False)
    shown = pd.read_csv(out / "property_textures.csv")
    assert list(shown["shown_as"]) == ["rises", "rises", "falls", "falls"]
    assert list(shown["texture"]) == [*explained.rising["texture"], *explained.falling["texture"]]
    np.testing.assert_allclose(shown["activation_high"], [*explained.rising["activation_high"],
                                                          *explained.falling["activation_high"]])
    high = explained.examples["high"]
    assert set(shown["high_micrograph"]) == {high.name}
    assert set(shown["high_temperature"]) == {high.y}
    page = (out / "index.html").read_text()
    for texture in shown["texture"]:
        assert texture in page
    assert high.name in page and 'href="../x.html"' in page
    for row in shown.itertuples():
        assert (out / "textures" / f"{row.layer}-{row.filter}.png").is_file()
        assert (out / "heatmaps" / f"{row.layer}-{row.filter}.png").is_file()
    summary = (out / "summary.md").read_text()
    first = explained.rising.iloc[0]
    assert f"| {first['rank']} | {first['texture']} | {first['r']:+.3f} |" in summary


def test_the_page_links_its_study(explained, tmp_path):
    (tmp_path / "study").mkdir()
    write_property_explanation(explained, tmp_path / "explained", study=tmp_path / "study")
    assert 'href="../study/index.html"' in (tmp_path / "explained" / "index.html").read_text()
