"""Tests of the explanations: important and characteristic textures, heat maps
(Ling et al. 2017, Section 4.2). Filter textures (activation maximization)
are tested in test_textures.py.

The tests use random VGG16 weights (weights=None, seeded) and tiny images so
that the real network runs in milliseconds. Expected values are computed here
independently of the library (numpy, VGGLayerTransformer + MeanPool), never
with explain.py's own helpers.
"""

import inspect

import numpy as np
import pandas as pd
import pytest
from _micrographs import striped
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_cnntexture import (
    GramEncoder,
    MeanPool,
    MultiLayerUnion,
    VGGLayerTransformer,
    VLADEncoder,
    explain,
)
from sklearn_cnntexture.explain import (
    _importance,
    activation_heatmap,
    characteristic_textures,
    explain_model,
    important_textures,
    standardized_mean_difference,
    textures,
)
from sklearn_cnntexture.features import _backbone

pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RANDOM = {"vgg": VGGLayerTransformer(weights=None, random_state=0)}
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_filter_textures_has_one_public_home_the_package():
    import sklearn_cnntexture

    assert sklearn_cnntexture.filter_textures is textures.filter_textures
    for name in ("FilterTextures", "filter_textures", "clear_texture_cache"):
        assert name not in explain.__all__ and not hasattr(explain, name)


# -- important_textures -------------------------------------------------------------

LAYERS = ["block1_conv2", "block2_conv2"]


def varied_images(n=60, seed=0):
    """Gray 16 x 16 images of varied brightness and contrast, floats in [0, 1.5]."""
    rng = np.random.default_rng(seed)
    noise = rng.random((n, 16, 16))
    return noise * rng.uniform(0.2, 1, (n, 1, 1)) + rng.uniform(0, 0.5, (n, 1, 1))


def vgg(layers=LAYERS):
    return VGGLayerTransformer(layers, weights=None, random_state=0)


def forest():
    return RandomForestClassifier(n_estimators=100, random_state=0)


@pytest.fixture(scope="module")
def union_case():
    """Union features and a label that is one (least correlated) block2 filter's level."""
    images = varied_images()
    features = MultiLayerUnion(MeanPool()).fit_transform(vgg().transform(images))
    corr = np.abs(np.corrcoef(features.T)) - np.eye(features.shape[1])
    j = 64 + int(np.argmin(np.nanmax(corr[64:], axis=1)))
    y = np.where(features[:, j] > np.median(features[:, j]), "high", "low")
    model = Pipeline([("vgg", vgg()), ("encode", MultiLayerUnion(MeanPool())), ("rf", forest())])
    return images, features, j, y, model.fit(images, y)


def test_important_textures_finds_the_planted_filter_in_a_union(union_case):
    _images, _features, j, _y, model = union_case
    table = important_textures(model, top_k=5)
    assert list(table.columns) == ["layer", "filter", "feature", "importance"]
    assert len(table) == 5
    assert (table["layer"].iloc[0], table["filter"].iloc[0]) == ("block2_conv2", j - 64)
    assert table["feature"].iloc[0] == f"block2_conv2__mean__{j - 64}"
    assert table["importance"].is_monotonic_decreasing


def test_important_textures_maps_every_importance_to_its_filter(union_case):
    _, _, _, _, model = union_case
    table = important_textures(model, top_k=None)
    importances = model[-1].feature_importances_
    assert len(table) == 192
    offset = {"block1_conv2": 0, "block2_conv2": 64}
    for layer, f, importance in table[["layer", "filter", "importance"]].itertuples(index=False):
        assert importance == importances[offset[layer] + f]


def test_important_textures_class_means(union_case):
    images, features, _j, y, model = union_case
    table = important_textures(model, top_k=3, X=images, y=y)
    assert list(table.columns)[-2:] == ["mean_high", "mean_low"]
    offset = {"block1_conv2": 0, "block2_conv2": 64}
    for _, row in table.iterrows():
        column = features[:, offset[row["layer"]] + row["filter"]]
        np.testing.assert_allclose(row["mean_high"], column[y == "high"].mean(), rtol=1e-5)
        np.testing.assert_allclose(row["mean_low"], column[y == "low"].mean(), rtol=1e-5)
    # the planted filter is higher where the label says so
    assert table["mean_high"].iloc[0] > table["mean_low"].iloc[0]


def test_important_textures_single_layer_pipeline_with_a_scaler():
    images = varied_images(40)
    features = MeanPool().fit_transform(vgg("block1_conv2").transform(images))
    corr = np.abs(np.corrcoef(features.T)) - np.eye(64)
    j = int(np.argmin(np.nanmax(corr, axis=1)))
    y = (features[:, j] > np.median(features[:, j])).astype(int)
    model = Pipeline(
        [("vgg", vgg("block1_conv2")), ("pool", MeanPool()), ("scale", StandardScaler()),
         ("rf", forest())]
    ).fit(images, y)
    table = important_textures(model, top_k=1)
    assert table[["layer", "filter"]].values.tolist() == [["block1_conv2", j]]


def test_important_textures_of_an_estimator_fitted_on_named_columns(union_case):
    _, features, j, y, model = union_case
    names = model[:-1].get_feature_names_out()
    frame = pd.DataFrame(features, columns=names)
    rf = forest().fit(frame, y)
    table = important_textures(rf, top_k=2, X=frame, y=y)
    assert table["filter"].iloc[0] == j - 64
    assert "mean_high" in table


def test_important_textures_with_given_importances(union_case):
    _, _, _, _, model = union_case
    importances = np.zeros(192)
    importances[7] = 1.0
    table = important_textures(model, top_k=1, importances=importances)
    assert table[["layer", "filter", "importance"]].values.tolist() == [["block1_conv2", 7, 1.0]]
    with pytest.raises(ValueError, match="importances has 3 values but the model has 192"):
        important_textures(model, importances=[1, 2, 3])


@pytest.mark.parametrize("encoder", [GramEncoder(), VLADEncoder(n_words=2, random_state=0)])
def test_important_textures_refuses_gram_and_vlad(encoder):
    images = varied_images(12)
    y = np.repeat([0, 1], 6)
    model = Pipeline(
        [("vgg", vgg("block1_conv2")), ("enc", encoder), ("rf", forest())]
    ).fit(images, y)
    with pytest.raises(ValueError, match="Only mean and max features are one filter each"):
        important_textures(model)


def test_important_textures_errors(union_case):
    images, _, _, y, model = union_case
    with pytest.raises(ValueError, match="pass both X and y"):
        important_textures(model, X=images)
    with pytest.raises(InvalidParameterError, match=r"'top_k' parameter of important_textures "
                       r"must be an int in the range \[1, inf\) or None. Got 0"):
        important_textures(model, top_k=0)
    with pytest.raises(InvalidParameterError, match="'model' parameter of important_textures"):
        important_textures(model.get_feature_names_out)
    plain = Pipeline([("vgg", vgg()), ("enc", MultiLayerUnion()), ("lr", LogisticRegression())])
    plain.fit(images[:20], y[:20])
    with pytest.raises(ValueError, match="has no feature_importances_.*importances="):
        important_textures(plain)
    rf = forest().fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="fitted on unnamed columns"):
        important_textures(rf)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("block3_conv3__mean__17", ("block3_conv3", 17)),
        ("block5_conv3__max__0", ("block5_conv3", 0)),
        ("mean__4", (None, 4)),
        ("texture__block1_conv2__mean__63", ("block1_conv2", 63)),  # FeatureUnion prefix
        ("image__mean__0", ("image", 0)),
    ],
)
def test_feature_names_parse_to_layer_and_filter(name, expected):
    assert _importance._parse_feature_name(name) == expected


@pytest.mark.parametrize(
    "name, message",
    [
        ("block3_conv3__gram__3_17", "gram feature. Only mean and max"),
        ("block3_conv3__vlad__5_17", "vlad feature. Only mean and max"),
        ("pca0", "not a texture feature name"),
        ("mean__porosity", "names its channel 'porosity', not a filter index"),
    ],
)
def test_feature_names_that_are_not_one_filter(name, message):
    with pytest.raises(ValueError, match=message):
        _importance._parse_feature_name(name)


# -- characteristic_textures ----------------------------------------------------------

NAMES = [f"block4_conv3__mean__{j}" for j in range(30)]


def planted_features(seed=0):
    """3 classes x 20 images, 30 filters; filter 7 is 2 std higher in class 'b'."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 30)) + 5
    y = np.repeat(["a", "b", "c"], 20)
    X[y == "b", 7] += 2.0
    return X, y


def test_characteristic_textures_finds_the_planted_filter():
    X, y = planted_features()
    table = characteristic_textures(X, y, feature_names=NAMES, top_k=3)
    assert list(table.columns) == [
        "class", "rank", "layer", "filter", "feature", "statistic", "mean_a", "mean_b", "mean_c"
    ]
    top_b = table[(table["class"] == "b") & (table["rank"] == 1)].iloc[0]
    assert (top_b["layer"], top_b["filter"], top_b["feature"]) == (
        "block4_conv3", 7, "block4_conv3__mean__7"
    )
    assert top_b["statistic"] > 1.5
    np.testing.assert_allclose(top_b["mean_b"], X[y == "b", 7].mean())
    np.testing.assert_allclose(top_b["mean_a"], X[y == "a", 7].mean())
    for _, group in table.groupby("class"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["statistic"].is_monotonic_decreasing
        assert (group["statistic"] > 0).all()


def test_characteristic_textures_is_scale_aware():
    X, y = planted_features()
    # Filter 0: a loud filter (std 1000) whose class difference, 50, is
    # 0.05 of its spread: larger in raw units than filter 7's, but noise.
    X[:, 0] = 1000 * np.random.default_rng(1).normal(size=60)
    b = y == "b"
    X[b, 0] += 50 - (X[b, 0].mean() - X[~b, 0].mean())
    raw = X[b].mean(axis=0) - X[~b].mean(axis=0)
    assert raw[0] > 10 * raw[7]  # a raw difference would name the loud filter
    table = characteristic_textures(X, y, feature_names=NAMES)
    assert table.loc[table["class"] == "b", "filter"].tolist() == [7]


def test_only_filters_more_active_in_the_class_count():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 4))
    y = np.repeat([0, 1], 10)
    X[y == 1] += 3  # class 0 is lower in every filter
    table = characteristic_textures(X, y, top_k=None)
    assert set(table["class"]) == {1}
    assert len(table) == 4
    assert table["layer"].isna().all() and sorted(table["filter"]) == [0, 1, 2, 3]
    assert list(table.columns[-2:]) == ["mean_0", "mean_1"]


def test_characteristic_textures_reads_names_from_a_dataframe():
    X, y = planted_features()
    table = characteristic_textures(pd.DataFrame(X, columns=NAMES), y)
    assert table.loc[table["class"] == "b", "feature"].tolist() == ["block4_conv3__mean__7"]


def test_characteristic_textures_from_a_fitted_pipeline(union_case):
    images, features, j, y, model = union_case
    names = model[:-1].get_feature_names_out()
    expected = characteristic_textures(features, y, feature_names=names, top_k=2)
    for featurizer in (model, model[:-1]):  # with or without the classifier
        got = characteristic_textures(images, y, model=featurizer, top_k=2)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-5)
    top_high = expected[(expected["class"] == "high") & (expected["rank"] == 1)]
    assert top_high[["layer", "filter"]].values.tolist() == [["block2_conv2", j - 64]]


def test_characteristic_textures_errors():
    X, y = planted_features()
    with pytest.raises(ValueError, match="y has 1 class"):
        characteristic_textures(X, np.zeros(60))
    with pytest.raises(ValueError, match="feature_names has 2 names, X has 30 columns"):
        characteristic_textures(X, y, feature_names=["a", "b"])
    with pytest.raises(ValueError, match="Only mean and max"):
        characteristic_textures(X[:, :1], y, feature_names=["block1_conv2__gram__0_0"])
    with pytest.raises(ValueError, match="y has 59 labels but there are 60 images"):
        characteristic_textures(X, y[:-1])
    with pytest.raises(ValueError, match="needs at least 3"):
        characteristic_textures(X[:2], y[[0, 30]])


# -- the statistic's properties (hypothesis) -------------------------------------------


@st.composite
def labelled_features(draw):
    n = draw(st.integers(4, 25))
    m = draw(st.integers(1, 5))
    # Integer-valued features keep the arithmetic well conditioned.
    X = draw(arrays(np.float64, (n, m), elements=st.integers(-50, 50).map(float)))
    y = draw(arrays(np.int64, n, elements=st.integers(0, 2)))
    assume(len(np.unique(y)) >= 2)
    return X, y


def _close(a, b):
    # Groups constant within but different between give |d| ~ diff / (1e-9
    # spread), where rounding rules: there only the sign is meaningful.
    a, b = np.asarray(a), np.asarray(b)
    huge = (np.abs(a) > 1e6) & (np.abs(b) > 1e6)
    np.testing.assert_array_equal(np.sign(a[huge]), np.sign(b[huge]))
    np.testing.assert_allclose(a[~huge], b[~huge], rtol=1e-6, atol=1e-6)


@PROPERTY
@given(
    data=labelled_features(),
    scale=st.floats(1e-3, 1e3),
    shift=st.floats(-1e3, 1e3),
)
def test_statistic_is_invariant_to_each_filters_scale_and_offset(data, scale, shift):
    X, y = data
    scales = scale ** np.linspace(-1, 1, X.shape[1])  # a different scale per filter
    _close(standardized_mean_difference(X * scales + shift, y), standardized_mean_difference(X, y))


@PROPERTY
@given(data=labelled_features(), seed=st.integers(0, 1000))
def test_statistic_ignores_the_order_of_the_images(data, seed):
    X, y = data
    order = np.random.default_rng(seed).permutation(len(y))
    _close(standardized_mean_difference(X[order], y[order]), standardized_mean_difference(X, y))


@PROPERTY
@given(data=labelled_features())
def test_statistic_changes_sign_with_the_feature_and_between_two_classes(data):
    X, y = data
    d = standardized_mean_difference(X, y)
    _close(standardized_mean_difference(-X, y), -d)
    two = (y == y[0]).astype(int)
    assume(0 < two.sum() < len(two))
    d2 = standardized_mean_difference(X, two)
    _close(d2[0], -d2[1])


@PROPERTY
@given(data=labelled_features())
def test_statistic_matches_cohens_d(data):
    X, y = data
    d = standardized_mean_difference(X, y)
    for i, c in enumerate(np.unique(y)):
        inside, outside = X[y == c], X[y != c]
        for j in range(X.shape[1]):
            a, b = inside[:, j], outside[:, j]
            pooled = np.sqrt(
                (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / (len(X) - 2)
            )
            if pooled < 1e-6:
                continue
            np.testing.assert_allclose(d[i, j], (a.mean() - b.mean()) / pooled, rtol=1e-6)


# -- activation_heatmap -------------------------------------------------------------------


def planted_image(height=64, width=64, rows=(40, 56), cols=(8, 24), seed=0):
    """Black image with a bright noise patch at [rows) x [cols)."""
    image = np.zeros((height, width))
    patch = np.random.default_rng(seed).random((rows[1] - rows[0], cols[1] - cols[0]))
    image[rows[0] : rows[1], cols[0] : cols[1]] = patch
    return image


def patch_filter(image, layer, **kwargs):
    """The filter whose peak inside the patch stands out most from its peak outside."""
    maps = VGGLayerTransformer(layer, weights=None, random_state=0, **kwargs).transform([image])[0]
    stride = image.shape[0] // maps.shape[0]
    inside = np.zeros(maps.shape[:2], bool)
    inside[40 // stride : 56 // stride, 8 // stride : 24 // stride] = True
    score = maps[inside].max(axis=0) - maps[~inside].max(axis=0)
    return int(np.argmax(score))


@pytest.mark.parametrize("layer", ["block1_conv2", "block2_conv2", "block3_conv3"])
def test_heatmap_peaks_on_the_planted_patch(layer):
    image = planted_image()
    f = patch_filter(image, layer)
    heat, shown = activation_heatmap(image, layer, f, **RANDOM)
    assert heat.shape == (64, 64) and heat.dtype == np.float32
    assert shown is image or np.array_equal(shown, image)
    row, col = np.unravel_index(np.argmax(heat), heat.shape)
    assert 38 <= row < 58 and 6 <= col < 26, (row, col)


def test_heatmap_with_resize_stays_at_the_image_size():
    image = planted_image(64, 96)
    layer = "block2_conv2"
    f = patch_filter(image, layer)
    resized = VGGLayerTransformer(weights=None, random_state=0, resize=(64, 96))
    heat, _ = activation_heatmap(image, layer, f, vgg=resized)
    assert heat.shape == (64, 96)
    half, _ = activation_heatmap(np.kron(image, np.ones((2, 2))), layer, f, vgg=resized)
    assert half.shape == (128, 192)
    row, col = np.unravel_index(np.argmax(half), half.shape)
    assert 76 <= row < 116 and 12 <= col < 52, (row, col)


def test_heatmap_at_block1_is_the_activation_map_itself():
    image = np.random.default_rng(0).random((21, 34))
    heat, _ = activation_heatmap(image, "block1_conv2", 9, **RANDOM)
    maps = VGGLayerTransformer("block1_conv2", weights=None, random_state=0).transform([image])[0]
    np.testing.assert_allclose(heat, maps[:, :, 9], rtol=1e-6)


def test_heatmap_is_the_map_upsampled_cell_centred():
    image = np.random.default_rng(0).random((32, 32))
    heat, _ = activation_heatmap(image, "block2_conv2", 3, **RANDOM)
    maps = VGGLayerTransformer("block2_conv2", weights=None, random_state=0).transform([image])[0]
    cell = maps[:, :, 3]
    # Pixels 2k and 2k+1 sit a quarter cell either side of cell k's centre.
    np.testing.assert_allclose(heat[1:-1:2, 1:-1:2], (
        0.75 * 0.75 * cell[:-1, :-1] + 0.25 * 0.75 * (cell[1:, :-1] + cell[:-1, 1:])
        + 0.25 * 0.25 * cell[1:, 1:]
    ), rtol=1e-5)
    np.testing.assert_allclose(heat.mean(), cell.mean(), rtol=0.05)


def test_heatmap_reads_a_file(tmp_path):
    image = (planted_image() * 255).astype(np.uint8)
    path = tmp_path / "micrograph.png"
    Image.fromarray(image).save(path)
    from_file, shown = activation_heatmap(str(path), "C2_2", 4, **RANDOM)
    from_array, _ = activation_heatmap(image, "C2_2", 4, **RANDOM)
    np.testing.assert_array_equal(shown, image)
    np.testing.assert_array_equal(from_file, from_array)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"filter": 64}, ValueError, r"filter=\[64\] out of range: block1_conv2 has 64"),
        ({"filter": [1, 2]}, InvalidParameterError,
         r"'filter' parameter of activation_heatmap must be an int in the range \[0, inf\)"),
        ({"filter": -1}, InvalidParameterError, "'filter' parameter of activation_heatmap"),
        ({"vgg": MeanPool()}, InvalidParameterError,
         "'vgg' parameter of activation_heatmap must be an instance of"),
        ({"layer": "C9_9"}, ValueError, "layer: Unknown layer"),
        ({"image": np.zeros((2, 8, 8, 3))}, ValueError, "pass one image"),
        ({"vgg": VGGLayerTransformer(weights=None)}, ValueError, "pass an int random_state"),
    ],
)
def test_heatmap_errors(kwargs, error, message):
    args = dict(image=np.zeros((8, 8)), layer="block1_conv2", filter=0, **RANDOM)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        activation_heatmap(args.pop("image"), args.pop("layer"), args.pop("filter"), **args)


def test_characteristic_filter_fires_most_in_its_own_class():
    """A filter above the pooled rest but highest in another class is not characteristic."""
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 30)
    X = rng.normal(scale=0.3, size=(90, 2))
    X[:, 0] += np.select([y == "a", y == "b"], [6.0, 0.0], 6.5)  # a > rest, but c is higher
    X[:, 1] = 4 * X[:, 1] + np.where(y == "a", 0.5, 0.0)  # smaller d, but highest in a
    names = ["block1_conv2__mean__0", "block1_conv2__mean__1"]
    d = standardized_mean_difference(X, y)
    assert d[0, 0] > d[0, 1] > 0  # by d alone, filter 0 would win for a
    table = characteristic_textures(X, y, feature_names=names)
    assert table.loc[table["class"] == "a", "filter"].tolist() == [1]
    assert table.loc[table["class"] == "c", "filter"].tolist() == [0]


def test_heatmap_covers_the_image_as_the_model_sees_it_after_crop():
    image = planted_image()
    image[56:] = 1.0  # a banner the model crops off
    f = patch_filter(image[:56], "block2_conv2")
    cropping = VGGLayerTransformer(weights=None, random_state=0, crop=8)
    heat, shown = activation_heatmap(image, "block2_conv2", f, vgg=cropping)
    assert heat.shape == shown.shape == (56, 64)
    expected, _ = activation_heatmap(image[:56], "block2_conv2", f, **RANDOM)
    np.testing.assert_array_equal(heat, expected)


# -- explain_model -------------------------------------------------------------------

SMALL = {"top_k": 3, "per_layer": 2, "size": 32, "steps": 3, "n_estimators": 20,
         "verbose": False}


@pytest.fixture(scope="module")
def stripes(tmp_path_factory):
    """Three classes of vertical stripes of different frequencies, 4 PNG files each."""
    folder = tmp_path_factory.mktemp("stripes")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for k, name in enumerate(["coarse", "medium", "fine"]):
        for i in range(4):
            image = striped(rng, 0.3 + 0.5 * k, 48)
            paths.append(str(folder / f"{name}_{i}.png"))
            Image.fromarray(image).save(paths[-1])
            labels.append(name)
    return paths, np.array(labels)


def test_explain_model_tables_textures_and_heatmaps(stripes, tmp_path):
    X, y = stripes
    vgg_ = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0,
                               cache=str(tmp_path))
    e = explain_model(X, y, vgg=vgg_, color="rgb", **SMALL)
    important = e.important
    assert list(important.columns[:4]) == ["layer", "filter", "feature", "importance"]
    assert len(important) == 64 + 128
    assert {f"mean_{c}" for c in ["coarse", "medium", "fine"]} <= set(important.columns)
    features = np.asarray(e.model[:-1].transform(X))
    row = important.iloc[0]
    column = list(e.model[:-1].get_feature_names_out()).index(row["feature"])
    assert row["mean_fine"] == pytest.approx(features[y == "fine", column].mean())
    for layer, f in zip(important["layer"][:3], important["filter"][:3]):
        texture = e.textures[layer, int(f)]
        assert texture.shape == (32, 32, 3) and 0 <= texture.min() and texture.max() <= 1
    image, heat, layer, f = e.heatmaps["fine"]
    assert heat.shape == image.shape[:2] == (48, 48)
    np.testing.assert_array_equal(image, np.asarray(Image.open(X[8])))  # the micrograph
    assert heat.dtype == np.float32 and (layer, f) == tuple(
        e.characteristic.set_index("class").loc["fine", ["layer", "filter"]])
    assert e.sources == {c: f"{c}_0.png" for c in e.heatmaps}


def test_explain_model_reuses_the_vgg_cache(stripes, tmp_path):
    from sklearn_cnntexture import MeanPool, backbone_image_count

    X, y = stripes
    vgg_ = VGGLayerTransformer("C2_2", weights=None, random_state=0, cache=str(tmp_path))
    MeanPool().fit_transform(vgg_.transform(X))  # a study filled the cache
    before = backbone_image_count()
    e = explain_model(X, y, vgg=vgg_, color="rgb", **SMALL)
    # The features come from the cache; only the heat maps run the network, one per class.
    assert backbone_image_count() - before == len(e.heatmaps) == 3


def test_explain_model_colour_follows_the_data(stripes):
    X, y = stripes
    vgg_ = VGGLayerTransformer("C1_2", weights=None, random_state=0)
    e = explain_model(X, y, vgg=vgg_, **SMALL)
    if "gray" not in inspect.signature(_backbone.ascend_filters).parameters:
        assert e.color == "rgb"  # until the backbone's ascent has gray=
        return
    assert e.color == "gray"
    for texture in e.textures.values():
        np.testing.assert_array_equal(texture[..., 0], texture[..., 2])


def test_gram_cannot_be_explained_by_filters(stripes):
    vgg_ = VGGLayerTransformer("C1_2", weights=None, random_state=0)
    with pytest.raises(InvalidParameterError,
                       match="'encoder' parameter of explain_model must be a str among"):
        explain_model(*stripes, vgg=vgg_, encoder="gram")


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"n_estimators": 0}, "n_estimators"),
        ({"top_k": 0}, "top_k"),
        ({"per_layer": 1.5}, "per_layer"),
        ({"size": 0}, "size"),
        ({"steps": -1}, "steps"),
        ({"random_state": 2**32}, "random_state"),  # the forest's seeds stop at 2**32 - 1
        ({"random_state": None}, "random_state"),
        ({"color": "grey"}, "color"),
        ({"verbose": "yes"}, "verbose"),
        ({"vgg": "block1_conv2"}, "vgg"),
    ],
)
def test_explain_model_refuses_bad_arguments_before_the_network(stripes, kwargs, parameter):
    args = {"vgg": VGGLayerTransformer("C1_2", weights=None, random_state=0), **kwargs}
    before = _backbone.backbone_image_count()
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of explain_model"):
        explain_model(*stripes, **args)
    assert _backbone.backbone_image_count() == before
