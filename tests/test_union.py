"""Tests of MultiLayerUnion: one encoder over several VGG16 layers, one forward pass.

The network has random weights (weights=None, random_state=0) and the images
are tiny (16 x 16), with block1/block2 layers only, so that the real forward
pass runs in milliseconds.
"""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import sklearn_cnntexture
from sklearn_cnntexture import (
    Activations,
    GramEncoder,
    MaxPool,
    MeanPool,
    MultiLayerUnion,
    VGGLayerTransformer,
    VLADEncoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LAYERS = ["block1_conv2", "block2_conv2"]


def vgg(layers=LAYERS, **kwargs):
    return VGGLayerTransformer(layers, weights=None, random_state=0, **kwargs)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 16, 16))


@pytest.fixture(scope="module")
def acts(images):
    return vgg().transform(images)


@pytest.fixture
def forward_counter(monkeypatch):
    """Number of images each forward pass of the network sees, in call order.

    Wraps the real (lru-cached) ``forward_function``: the wrapped factory still
    returns the cached network function, only each call of it is counted.
    """
    backbone = sklearn_cnntexture.features._activations._backbone
    real = backbone.forward_function
    seen = []

    def counting_forward_function(*args, **kwargs):
        forward = real(*args, **kwargs)

        def counted(batch):
            seen.append(len(batch))
            return forward(batch)

        return counted

    monkeypatch.setattr(backbone, "forward_function", counting_forward_function)
    return seen


ENCODERS = {
    "mean": lambda: MeanPool(),
    "max": lambda: MaxPool(),
    "gram": lambda: GramEncoder(),
    "gram-full": lambda: GramEncoder(triangle="full", normalize=False),
    "vlad": lambda: VLADEncoder(n_words=4, random_state=0),
}
every_encoder = pytest.mark.parametrize("make", list(ENCODERS.values()), ids=list(ENCODERS))


# --------------------------------------------------------------------------
# Output = each layer's encoder, concatenated in layer order


@every_encoder
def test_union_equals_hstack_of_layers(make, acts):
    assert isinstance(acts, Activations) and acts.layers == tuple(LAYERS)
    union = MultiLayerUnion(make())
    out = union.fit_transform(acts)
    singles = [make().fit(acts[layer]) for layer in LAYERS]
    expected = np.hstack([enc.transform(acts[layer]) for enc, layer in zip(singles, LAYERS)])
    assert out.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(union.transform(acts), expected)
    np.testing.assert_array_equal(MultiLayerUnion(make()).fit(acts).transform(acts), expected)

    assert list(union.encoders_) == LAYERS
    for layer, single in zip(LAYERS, singles):
        enc = union.encoders_[layer]
        assert type(enc) is type(make())
        assert enc.layer_ == layer
        assert enc.n_features_in_ == {"block1_conv2": 64, "block2_conv2": 128}[layer]
        if hasattr(single, "cluster_centers_"):
            np.testing.assert_array_equal(enc.cluster_centers_, single.cluster_centers_)

    names = union.get_feature_names_out()
    expected_names = np.concatenate([enc.get_feature_names_out() for enc in singles])
    assert list(names) == list(expected_names)
    assert len(names) == out.shape[1]
    first = singles[0].get_feature_names_out().size
    assert all(name.startswith("block1_conv2__") for name in names[:first])
    assert all(name.startswith("block2_conv2__") for name in names[first:])


def test_union_widths_and_names(acts):
    union = MultiLayerUnion().fit(acts)
    names = union.get_feature_names_out()
    assert union.transform(acts).shape == (3, 64 + 128)
    assert names[0] == "block1_conv2__mean__0"
    assert names[64] == "block2_conv2__mean__0"
    assert names[64 + 17] == "block2_conv2__mean__17"
    assert names.dtype == object
    gram = MultiLayerUnion(GramEncoder(triangle="full")).fit(acts)
    assert len(gram.get_feature_names_out()) == 64**2 + 128**2
    vlad = MultiLayerUnion(VLADEncoder(n_words=4, random_state=0)).fit(acts)
    assert len(vlad.get_feature_names_out()) == 4 * (64 + 128)
    assert vlad.get_feature_names_out()[4 * 64] == "block2_conv2__vlad__0_0"


def test_union_follows_requested_layer_order(images):
    reversed_acts = vgg(LAYERS[::-1]).transform(images)
    union = MultiLayerUnion().fit(reversed_acts)
    assert list(union.encoders_) == LAYERS[::-1]
    names = union.get_feature_names_out()
    assert names[0] == "block2_conv2__mean__0" and names[128] == "block1_conv2__mean__0"
    out = union.transform(reversed_acts)
    np.testing.assert_array_equal(
        out,
        np.hstack([MeanPool().fit_transform(reversed_acts[layer]) for layer in LAYERS[::-1]]),
    )


def test_union_paper_names_and_image_layer(images):
    # Paper names resolve to Keras names; the "image" pseudo-layer is the gray
    # intensity on the 0-255 scale, one channel.
    acts = vgg(["image", "C1_2"]).transform(images)
    union = MultiLayerUnion().fit(acts)
    assert list(union.encoders_) == ["image", "block1_conv2"]
    out = union.transform(acts)
    assert out.shape == (3, 1 + 64)
    assert union.get_feature_names_out()[0] == "image__mean__0"
    np.testing.assert_allclose(out[:, 0], images.mean(axis=(1, 2)) * 255, rtol=1e-5)


def test_union_on_images_of_different_sizes():
    rng = np.random.default_rng(1)
    images = [rng.random((16, 16)), rng.random((24, 16)), rng.random((16, 20))]
    acts = vgg().transform(images)
    for make in ENCODERS.values():
        out = MultiLayerUnion(make()).fit_transform(acts)
        expected = np.hstack([make().fit_transform(acts[layer]) for layer in LAYERS])
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    # each image encoded as if alone (MeanPool learns nothing)
    union = MultiLayerUnion().fit(acts)
    out = union.transform(acts)
    for i, image in enumerate(images):
        alone = union.transform(vgg().transform([image]))
        np.testing.assert_allclose(out[i], alone[0], rtol=1e-5, atol=1e-5)


def test_union_of_one_layer(acts):
    one = acts["block2_conv2"]
    union = MultiLayerUnion(GramEncoder()).fit(one)
    np.testing.assert_array_equal(union.transform(one), GramEncoder().fit_transform(one))
    assert union.get_feature_names_out()[0] == "block2_conv2__gram__0_0"


def test_union_pandas_output(acts):
    union = MultiLayerUnion().set_output(transform="pandas")
    out = union.fit_transform(acts)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(union.get_feature_names_out())
    np.testing.assert_array_equal(out.to_numpy(), MultiLayerUnion().fit_transform(acts))


# --------------------------------------------------------------------------
# One forward pass for all layers


def test_single_encoder_forward_counts(images, forward_counter):
    five = np.random.default_rng(2).random((5, 16, 16))
    acts = vgg("block1_conv2").transform(five)
    assert forward_counter == []  # transform is lazy
    MeanPool().fit(acts)
    assert sum(forward_counter) == 0  # MeanPool learns nothing: fit runs nothing
    MeanPool().fit_transform(acts)
    assert sum(forward_counter) == 5
    forward_counter.clear()
    VLADEncoder(n_words=4, random_state=0).fit_transform(acts)
    assert sum(forward_counter) == 10  # learn, then encode


@pytest.mark.parametrize("make", [MeanPool, MaxPool, GramEncoder], ids=["mean", "max", "gram"])
def test_union_one_forward_pass(make, forward_counter):
    rng = np.random.default_rng(3)
    train, test = rng.random((5, 16, 16)), rng.random((5, 16, 16))
    transformer = vgg()
    union = MultiLayerUnion(make())
    union.fit(transformer.transform(train))
    assert sum(forward_counter) == 0  # nothing to learn: no forward pass at all
    out = union.fit_transform(transformer.transform(train))
    assert sum(forward_counter) == 5  # not 5 x 2 layers
    assert out.shape[0] == 5
    forward_counter.clear()
    union.transform(transformer.transform(test))
    assert sum(forward_counter) == 5


def test_union_one_forward_pass_in_batches(forward_counter):
    images = np.random.default_rng(4).random((5, 16, 16))
    out = MultiLayerUnion().fit_transform(vgg(batch_size=2).transform(images))
    assert forward_counter == [2, 2, 1]
    np.testing.assert_allclose(
        out, MultiLayerUnion().fit_transform(vgg().transform(images)), rtol=1e-5, atol=1e-6
    )


def test_union_vlad_two_passes(forward_counter):
    rng = np.random.default_rng(5)
    train, test = rng.random((5, 16, 16)), rng.random((5, 16, 16))
    union = MultiLayerUnion(VLADEncoder(n_words=4, random_state=0))
    union.fit_transform(vgg().transform(train))
    assert sum(forward_counter) == 10  # once to learn (all layers), once to encode
    forward_counter.clear()
    union.fit(vgg().transform(train))
    assert sum(forward_counter) == 5  # all layers' dictionaries from one pass
    forward_counter.clear()
    union.transform(vgg().transform(test))
    assert sum(forward_counter) == 5


# --------------------------------------------------------------------------
# scikit-learn conventions


def test_nested_params():
    union = MultiLayerUnion(GramEncoder())
    params = union.get_params(deep=True)
    assert params["encoder__triangle"] == "upper"
    assert params["encoder__normalize"] is True
    assert "encoder" in params
    union.set_params(encoder__triangle="full")
    assert union.encoder.triangle == "full"
    assert MultiLayerUnion().get_params() == {"encoder": None}


def test_set_params_changes_output(acts):
    union = MultiLayerUnion(GramEncoder())
    assert union.fit_transform(acts).shape == (3, 64 * 65 // 2 + 128 * 129 // 2)
    union.set_params(encoder__triangle="full")
    assert union.fit_transform(acts).shape == (3, 64**2 + 128**2)


def test_fit_leaves_the_encoder_parameter_alone(acts):
    proto = VLADEncoder(n_words=4, random_state=0)
    union = MultiLayerUnion(proto).fit(acts)
    assert union.encoder is proto
    assert not hasattr(proto, "cluster_centers_")
    assert all(enc is not proto for enc in union.encoders_.values())
    assert MultiLayerUnion().fit(acts).encoder is None


def test_clone_is_unfitted_copy(acts):
    union = MultiLayerUnion(GramEncoder(triangle="full")).fit(acts)
    copy = clone(union)
    assert not hasattr(copy, "encoders_")
    assert copy.encoder is not union.encoder
    assert copy.get_params(deep=True) == {
        **union.get_params(deep=True), "encoder": copy.encoder
    }
    np.testing.assert_array_equal(copy.fit_transform(acts), union.transform(acts))


@pytest.mark.parametrize("make", [MeanPool, lambda: VLADEncoder(n_words=4, random_state=0)],
                         ids=["mean", "vlad"])
def test_pickle_round_trip(make, acts, images):
    union = MultiLayerUnion(make()).fit(acts)
    restored = pickle.loads(pickle.dumps(union))
    np.testing.assert_array_equal(restored.transform(acts), union.transform(acts))
    # and on activations computed afresh from a pickled transformer
    transformer = pickle.loads(pickle.dumps(vgg()))
    np.testing.assert_array_equal(
        restored.transform(transformer.transform(images)), union.transform(acts)
    )
    assert list(restored.get_feature_names_out()) == list(union.get_feature_names_out())


def test_unfitted_transform(acts):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MultiLayerUnion().transform(acts)
    with pytest.raises(NotFittedError):
        MultiLayerUnion().get_feature_names_out()


@pytest.mark.parametrize("encoder", ["mean", StandardScaler(), MeanPool])
def test_invalid_encoder(encoder, acts):
    with pytest.raises(InvalidParameterError):
        MultiLayerUnion(encoder).fit(acts)
    with pytest.raises(InvalidParameterError):
        MultiLayerUnion(encoder).fit_transform(acts)


def test_invalid_nested_parameter(acts):
    with pytest.raises(InvalidParameterError):
        MultiLayerUnion(GramEncoder(triangle="lower")).fit(acts)
    with pytest.raises(InvalidParameterError):
        MultiLayerUnion(GramEncoder(triangle="lower")).fit_transform(acts)
    with pytest.raises(InvalidParameterError):
        MultiLayerUnion(VLADEncoder(n_words=0)).fit(acts)


# --------------------------------------------------------------------------
# In a Pipeline and a GridSearchCV


def stripes_and_noise(n=12, size=16, seed=0):
    rng = np.random.default_rng(seed)
    images, labels = [], []
    y, x = np.mgrid[:size, :size]
    for i in range(n):
        if i % 2 == 0:
            period = rng.uniform(3, 5)
            image = 0.5 + 0.5 * np.sin(2 * np.pi * (x + rng.uniform(0, 5)) / period)
            image = image + 0.05 * rng.standard_normal((size, size))
        else:
            image = rng.random((size, size))
        images.append(np.clip(image, 0, 1))
        labels.append(i % 2)
    return np.stack(images), np.array(labels)


def make_pipeline():
    return Pipeline(
        [
            ("vgg", vgg()),
            ("union", MultiLayerUnion()),
            ("rf", RandomForestClassifier(n_estimators=10, random_state=0)),
        ]
    )


def test_pipeline_fits_and_predicts():
    X, y = stripes_and_noise()
    pipe = make_pipeline().fit(X, y)
    predicted = pipe.predict(X)
    assert predicted.shape == (12,)
    assert set(predicted) <= {0, 1}
    assert (predicted == y).mean() >= 0.9
    assert pipe.predict_proba(X).shape == (12, 2)
    assert pipe["rf"].n_features_in_ == 192
    assert len(pipe["union"].get_feature_names_out()) == 192
    X_new, y_new = stripes_and_noise(n=6, seed=1)
    assert pipe.predict(X_new).shape == (6,)


def test_pipeline_feature_names_multilayer():
    X, y = stripes_and_noise()
    pipe = make_pipeline().fit(X, y)
    names = pipe[:-1].get_feature_names_out()
    assert list(names) == list(pipe["union"].get_feature_names_out())


def test_pipeline_feature_names_single_layer(images):
    pipe = Pipeline([("vgg", vgg("block1_conv2")), ("union", MultiLayerUnion(GramEncoder()))])
    names = pipe.fit(images).get_feature_names_out()
    assert names[0] == "block1_conv2__gram__0_0"
    assert list(names) == list(pipe["union"].get_feature_names_out())


def test_pipeline_pandas_output(images):
    pipe = Pipeline([("vgg", vgg()), ("union", MultiLayerUnion())]).fit(images)
    pipe.set_output(transform="pandas")
    out = pipe.transform(images)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(pipe["union"].get_feature_names_out())


def test_grid_search_over_encoders():
    X, y = stripes_and_noise()
    search = GridSearchCV(
        make_pipeline(), {"union__encoder": [MeanPool(), MaxPool()]}, cv=2, error_score="raise"
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert type(search.best_params_["union__encoder"]) in (MeanPool, MaxPool)
    assert search.predict(X).shape == (12,)


def test_grid_search_over_nested_encoder_params():
    X, y = stripes_and_noise()
    pipe = make_pipeline().set_params(union__encoder=GramEncoder())
    search = GridSearchCV(
        pipe, {"union__encoder__normalize": [True, False]}, cv=2, error_score="raise"
    ).fit(X, y)
    assert {p["union__encoder__normalize"] for p in search.cv_results_["params"]} == {
        True, False
    }


# --------------------------------------------------------------------------
# Errors


def test_transform_on_other_layers(images, acts):
    union = MultiLayerUnion().fit(acts)
    other = vgg(["block1_conv2", "block1_conv1"]).transform(images)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "MultiLayerUnion was fitted on layers ['block1_conv2', 'block2_conv2'], "
            "got ['block1_conv2', 'block1_conv1']"
        ),
    ):
        union.transform(other)
    with pytest.raises(ValueError, match="block2_conv2.*got.*'block1_conv2'\\]"):
        union.transform(acts["block1_conv2"])
    with pytest.raises(ValueError, match="fitted on layers"):
        union.transform(vgg(LAYERS[::-1]).transform(images))


def test_array_fitted_union_rejects_activations(acts):
    union = MultiLayerUnion().fit(np.zeros((3, 4, 64)))
    with pytest.raises(ValueError, match="fitted on"):
        union.transform(acts)


def test_activation_fitted_union_rejects_plain_array(acts):
    union = MultiLayerUnion().fit(acts)
    with pytest.raises(ValueError, match="block1_conv2"):
        union.transform(np.zeros((3, 4, 64)))


# --------------------------------------------------------------------------
# Plain arrays: the union is its encoder


@every_encoder
@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 3), (3, 2, 3, 3)])
def test_plain_array_behaves_as_encoder(make, shape):
    X = np.random.default_rng(0).random(shape)
    union = MultiLayerUnion(make())
    out = union.fit_transform(X)
    enc = make().fit(X)
    np.testing.assert_array_equal(out, enc.transform(X))
    np.testing.assert_array_equal(union.transform(X), out)
    assert out.dtype == np.float64
    assert list(union.get_feature_names_out()) == list(enc.get_feature_names_out())
    assert union.n_features_in_ == 3
    assert list(union.encoders_) == ["x"]
    names = ["a", "b", "c"]
    assert list(union.get_feature_names_out(names)) == list(enc.get_feature_names_out(names))
    with pytest.raises(ValueError, match="X has 4 features"):
        union.transform(np.random.default_rng(0).random(shape[:-1] + (4,)))


def test_plain_array_default_is_mean():
    X = np.random.default_rng(0).random((4, 5, 3))
    np.testing.assert_array_equal(MultiLayerUnion().fit_transform(X), X.mean(axis=1))
    assert MultiLayerUnion().fit(X).get_feature_names_out()[0] == "mean__0"


def test_plain_dataframe(acts):
    frame = pd.DataFrame(np.random.default_rng(0).random((5, 2)), columns=["ferrite", "carbide"])
    union = MultiLayerUnion(GramEncoder()).fit(frame)
    np.testing.assert_array_equal(union.feature_names_in_, ["ferrite", "carbide"])
    assert list(union.get_feature_names_out()) == [
        "gram__ferrite_ferrite", "gram__ferrite_carbide", "gram__carbide_carbide"
    ]
    np.testing.assert_array_equal(union.transform(frame), GramEncoder().fit_transform(frame))
    out = clone(union).set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == list(union.get_feature_names_out())
    # refitting on activations forgets the plain-array attributes
    union.fit(acts)
    assert not hasattr(union, "feature_names_in_")
    assert not hasattr(union, "n_features_in_")
    assert union.get_feature_names_out()[0] == "block1_conv2__gram__0_0"


def test_plain_ragged_list():
    rng = np.random.default_rng(0)
    X = [rng.random((2, 3, 4)), rng.random((5, 1, 4))]
    np.testing.assert_allclose(
        MultiLayerUnion().fit_transform(X), np.stack([x.reshape(-1, 4).mean(0) for x in X])
    )
