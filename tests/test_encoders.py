"""Tests of the texture encoders: MeanPool, MaxPool, GramEncoder, VLADEncoder.

Mostly property tests (hypothesis) of the maths of Ling et al. 2017's second
step: each encoder turns a set of local descriptors per sample, channels last,
into one vector that does not depend on where the descriptors were. Expected
values are always computed here independently of the library (numpy loops,
einsum, brute-force nearest words), never with the library's own helpers.

Tests that need real activations use random VGG16 weights on three tiny
16 x 16 images and block1 layers only, to stay fast.
"""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

import sklearn_cnntexture
from sklearn_cnntexture import (
    Activations,
    GramEncoder,
    MaxPool,
    MeanPool,
    VGGLayerTransformer,
    VLADEncoder,
)
from sklearn_cnntexture.features import encoders as encoders_module
from sklearn_cnntexture.features.encoders import _DescriptorSample

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
VLAD_PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

ELEMENTS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
SHAPES_3D = st.tuples(st.integers(1, 5), st.integers(1, 12), st.integers(1, 6))
SHAPES_4D = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5))


def descriptors(shapes=SHAPES_3D, unique=False):
    """(n, L, C) (or other shape) float64 arrays with bounded finite entries."""
    return arrays(np.float64, shapes, elements=ELEMENTS, unique=unique)


# Stateless encoders with every parameter combination; VLAD is fitted per test.
STATELESS = {
    "mean": lambda: MeanPool(),
    "max": lambda: MaxPool(),
    "gram-full-norm": lambda: GramEncoder(triangle="full", normalize=True),
    "gram-full-raw": lambda: GramEncoder(triangle="full", normalize=False),
    "gram-upper-norm": lambda: GramEncoder(triangle="upper", normalize=True),
    "gram-upper-raw": lambda: GramEncoder(triangle="upper", normalize=False),
}
ALL = {**STATELESS, "vlad": lambda: VLADEncoder(n_words=2, random_state=0)}

stateless = pytest.mark.parametrize("make", list(STATELESS.values()), ids=list(STATELESS))
every_encoder = pytest.mark.parametrize("make", list(ALL.values()), ids=list(ALL))


def close(actual, expected, tol=1e-9):
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def permute_locations(data, X):
    """X (n, L, C) with the locations of each sample permuted independently."""
    out = np.empty_like(X)
    for i in range(len(X)):
        perm = data.draw(st.permutations(range(X.shape[1])), label=f"perm{i}")
        out[i] = X[i, list(perm)]
    return out


def nearest_words(points, centers):
    """Brute-force nearest center of each point, and the smallest gap to the runner-up."""
    d = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
    nearest = d.argmin(axis=1)
    if len(centers) == 1:
        return nearest, np.inf
    ordered = np.sort(d, axis=1)
    return nearest, (ordered[:, 1] - ordered[:, 0]).min()


def raw_vlad(X, centers):
    """Summed residuals per word, word-major, computed with explicit loops."""
    k, c = centers.shape
    out = np.zeros((len(X), k * c))
    for i, sample in enumerate(X.reshape(len(X), -1, c)):
        nearest, _ = nearest_words(sample, centers)
        for x, w in zip(sample, nearest):
            out[i, w * c : (w + 1) * c] += x - centers[w]
    return out


@st.composite
def vlad_case(draw, shapes=SHAPES_3D):
    """(X, fitted VLAD with power=None, l2_normalize=False) with unambiguous assignments."""
    X = draw(descriptors(shapes, unique=True))
    n_points = X.size // X.shape[-1]
    n_words = draw(st.integers(1, min(3, n_points)))
    seed = draw(st.integers(0, 2**16))
    vlad = VLADEncoder(n_words=n_words, power=None, l2_normalize=False, random_state=seed)
    vlad.fit(X)
    _, gap = nearest_words(X.reshape(-1, X.shape[-1]), vlad.cluster_centers_)
    # A tie between two words may be broken differently by any two correct
    # implementations: keep only cases where every assignment is clear-cut.
    assume(gap > 1e-6)
    return X, vlad


# --------------------------------------------------------------------------
# Known values (the docstring examples, by hand)


def test_known_values():
    X = np.arange(12, dtype=float).reshape(2, 3, 2)
    np.testing.assert_array_equal(MeanPool().fit_transform(X), [[2, 3], [8, 9]])
    np.testing.assert_array_equal(MaxPool().fit_transform(X), [[4, 5], [10, 11]])
    X = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    full = GramEncoder(triangle="full", normalize=False).fit_transform(X)
    np.testing.assert_array_equal(full, [[10, 14, 14, 20]])
    np.testing.assert_array_equal(GramEncoder(normalize=False).fit_transform(X), [[10, 14, 20]])
    np.testing.assert_array_equal(GramEncoder().fit_transform(X), [[5, 7, 10]])


def test_vlad_known_values():
    # Two obvious clusters on a line; words at -1 and 10 after k-means.
    X = np.array([[[-2.0], [0.0]], [[9.0], [11.0]], [[-1.0], [12.0]]])
    vlad = VLADEncoder(n_words=2, power=None, l2_normalize=False, random_state=0).fit(X)
    order = np.argsort(vlad.cluster_centers_[:, 0])
    close(vlad.cluster_centers_[order, 0], [-1.0, 32 / 3])
    out = vlad.transform(X)[:, order]
    close(out, [[-1 + 1, 0], [0, 9 + 11 - 2 * 32 / 3], [0, 12 - 32 / 3]])


# --------------------------------------------------------------------------
# Translation invariance


@stateless
@PROPERTY
@given(data=st.data(), X=descriptors())
def test_location_permutation_invariance(make, data, X):
    Xp = permute_locations(data, X)
    close(make().fit_transform(Xp), make().fit_transform(X))


@VLAD_PROPERTY
@given(data=st.data(), case=vlad_case())
def test_vlad_location_permutation_invariance(data, case):
    X, vlad = case
    Xp = permute_locations(data, X)
    raw = vlad.transform(X)
    close(vlad.transform(Xp), raw)
    # And with the default power and L2 normalizations, where the raw vector
    # is not so small that normalizing would only amplify rounding noise.
    assume(np.linalg.norm(raw, axis=1).min() > 1e-6)
    vlad.set_params(power=0.5, l2_normalize=True)
    close(vlad.transform(Xp), vlad.transform(X), tol=1e-6)


@stateless
@PROPERTY
@given(X=descriptors(SHAPES_4D))
def test_location_reshape_invariance(make, X):
    n, h, w, c = X.shape
    np.testing.assert_array_equal(
        make().fit_transform(X), make().fit_transform(X.reshape(n, h * w, c))
    )


@VLAD_PROPERTY
@given(X=descriptors(SHAPES_4D, unique=True), seed=st.integers(0, 100))
def test_vlad_location_reshape_invariance(X, seed):
    n, h, w, c = X.shape
    X3 = X.reshape(n, h * w, c)
    n_words = min(2, n * h * w)
    vlad4 = VLADEncoder(n_words=n_words, random_state=seed).fit(X)
    vlad3 = VLADEncoder(n_words=n_words, random_state=seed).fit(X3)
    np.testing.assert_array_equal(vlad4.cluster_centers_, vlad3.cluster_centers_)
    np.testing.assert_array_equal(vlad4.transform(X), vlad4.transform(X3))
    np.testing.assert_array_equal(vlad4.transform(X), vlad3.transform(X3))


# --------------------------------------------------------------------------
# MeanPool, MaxPool


@PROPERTY
@given(X=descriptors(st.one_of(SHAPES_3D, SHAPES_4D)))
def test_mean_max_are_numpy_mean_max(X):
    flat = X.reshape(len(X), -1, X.shape[-1])
    close(MeanPool().fit_transform(X), flat.mean(axis=1))
    np.testing.assert_array_equal(MaxPool().fit_transform(X), flat.max(axis=1))
    for i in range(len(X)):  # and as sums over locations written out
        close(MeanPool().fit_transform(X)[i], sum(flat[i]) / flat.shape[1])


@PROPERTY
@given(X=descriptors(st.tuples(st.integers(1, 5), st.integers(1, 6))))
def test_mean_max_of_2d_input_is_identity(X):
    np.testing.assert_array_equal(MeanPool().fit_transform(X), X)
    np.testing.assert_array_equal(MaxPool().fit_transform(X), X)
    np.testing.assert_array_equal(MeanPool().fit(X).transform(X), X)


# --------------------------------------------------------------------------
# GramEncoder


@PROPERTY
@given(X=descriptors(), normalize=st.booleans())
def test_gram_full_is_symmetric_psd(X, normalize):
    n, _, c = X.shape
    G = GramEncoder(triangle="full", normalize=normalize).fit_transform(X).reshape(n, c, c)
    close(G, G.transpose(0, 2, 1))
    tol = 1e-9 * max(1.0, np.abs(G).max())
    for g in G:
        assert np.linalg.eigvalsh((g + g.T) / 2).min() >= -tol


@PROPERTY
@given(X=descriptors())
def test_gram_equals_ft_f(X):
    n, L, c = X.shape
    expected = np.zeros((n, c, c))
    for i in range(n):
        for loc in range(L):
            expected[i] += np.outer(X[i, loc], X[i, loc])
    raw = GramEncoder(triangle="full", normalize=False).fit_transform(X)
    close(raw, expected.reshape(n, c * c))
    close(raw, np.einsum("nli,nlj->nij", X, X).reshape(n, c * c))
    normalized = GramEncoder(triangle="full", normalize=True).fit_transform(X)
    close(normalized, expected.reshape(n, c * c) / L)


@PROPERTY
@given(X=descriptors(), normalize=st.booleans())
def test_gram_upper_is_triangle_of_full(X, normalize):
    n, _, c = X.shape
    full = GramEncoder(triangle="full", normalize=normalize).fit_transform(X)
    upper = GramEncoder(triangle="upper", normalize=normalize).fit_transform(X)
    assert upper.shape == (n, c * (c + 1) // 2)
    rows, cols = np.triu_indices(c)
    close(upper, full.reshape(n, c, c)[:, rows, cols])


@PROPERTY
@given(X=descriptors(SHAPES_4D), triangle=st.sampled_from(["upper", "full"]))
def test_gram_normalize_gives_size_invariance(X, triangle):
    tiled_h = np.concatenate([X, X], axis=1)  # the image tiled twice
    tiled_hw = np.tile(X, (1, 2, 2, 1))  # and four times
    gram = GramEncoder(triangle=triangle, normalize=True)
    once = gram.fit_transform(X)
    close(gram.transform(tiled_h), once)
    close(gram.transform(tiled_hw), once)
    raw = GramEncoder(triangle=triangle, normalize=False)
    close(raw.fit_transform(tiled_h), 2 * raw.transform(X))
    close(raw.transform(tiled_hw), 4 * raw.transform(X))


# --------------------------------------------------------------------------
# VLADEncoder


@VLAD_PROPERTY
@given(case=vlad_case())
def test_vlad_blocks_are_summed_residuals(case):
    X, vlad = case
    n, _, c = X.shape
    centers = vlad.cluster_centers_
    k = len(centers)
    assert centers.shape == (k, c)
    out = vlad.transform(X)
    assert out.shape == (n, k * c)
    for i in range(n):
        nearest, _ = nearest_words(X[i], centers)
        for w in range(k):
            block = out[i, w * c : (w + 1) * c]
            mine = X[i][nearest == w]
            if len(mine) == 0:
                assert np.all(block == 0), (i, w, block)
            else:
                close(block, (mine - centers[w]).sum(axis=0), tol=1e-8)
    close(out, raw_vlad(X, centers), tol=1e-8)


@VLAD_PROPERTY
@given(
    X=descriptors(st.tuples(st.integers(1, 4), st.integers(3, 10), st.integers(1, 5))),
    n_words=st.integers(1, 3),
)
def test_vlad_default_rows_have_unit_norm(X, n_words):
    vlad = VLADEncoder(n_words=n_words, random_state=0).fit(X)
    out = vlad.transform(X)
    norms = np.linalg.norm(out, axis=1)
    for norm, row in zip(norms, out):
        assert np.isclose(norm, 1.0, rtol=1e-9) or np.all(row == 0), (norm, row)


@VLAD_PROPERTY
@given(case=vlad_case(), power=st.sampled_from([0.5, 0.25, 1.0, 2.0, 0.7]))
def test_vlad_power_normalization(case, power):
    X, vlad = case
    raw = vlad.transform(X)
    vlad.set_params(power=power)
    close(vlad.transform(X), np.sign(raw) * np.abs(raw) ** power, tol=1e-7)
    vlad.set_params(l2_normalize=True)
    powered = np.sign(raw) * np.abs(raw) ** power
    norms = np.linalg.norm(powered, axis=1, keepdims=True)
    assume(norms.min() > 1e-6)
    close(vlad.transform(X), powered / norms, tol=1e-6)


def test_vlad_power_one_without_l2_is_raw():
    X = np.random.default_rng(1).normal(size=(4, 20, 3))
    vlad = VLADEncoder(n_words=3, power=None, l2_normalize=False, random_state=0).fit(X)
    raw = vlad.transform(X)
    close(vlad.set_params(power=1).transform(X), raw)
    close(raw, raw_vlad(X, vlad.cluster_centers_), tol=1e-8)


def test_vlad_all_zero_row_stays_zero():
    # A sample whose descriptors are exactly the (single) word gives zeros, not NaN.
    X = np.zeros((2, 3, 2))
    X[1] = 1.0
    vlad = VLADEncoder(n_words=2, random_state=0).fit(X)
    out = vlad.transform(X)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, 0.0)


# --------------------------------------------------------------------------
# dtypes


@every_encoder
@pytest.mark.parametrize(
    "dtype, expected",
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64),
     (np.int32, np.float64), (np.uint8, np.float64)],
)
@pytest.mark.parametrize("ndim", [2, 3, 4])
def test_output_dtype(make, dtype, expected, ndim):
    rng = np.random.default_rng(0)
    shape = {2: (6, 3), 3: (4, 5, 3), 4: (3, 2, 3, 3)}[ndim]
    X = (rng.random(shape) * 10).astype(dtype)
    enc = make()
    out = enc.fit_transform(X)
    assert out.dtype == expected
    assert enc.transform(X).dtype == expected
    # and the numbers are those of the float64 computation
    close(out, make().fit_transform(X.astype(np.float64)), tol=1e-4)


@every_encoder
def test_output_dtype_of_ragged_list(make):
    rng = np.random.default_rng(0)
    X = [rng.random((h, 2, 3)) for h in (2, 3, 4)]
    assert make().fit_transform([x.astype(np.float32) for x in X]).dtype == np.float32
    assert make().fit_transform(X).dtype == np.float64
    assert make().fit_transform([(10 * x).astype(int) for x in X]).dtype == np.float64


def test_float32_gram_accuracy_on_large_maps():
    # block1_conv2 of a 512 x 512 image has 262144 locations; float32 output
    # should still carry float32's precision (BLAS accumulates in blocks).
    X = np.random.default_rng(0).random((1, 512, 512, 2), dtype=np.float32)
    F = X.reshape(-1, 2).astype(np.float64)
    expected = (F.T @ F / len(F)).ravel()
    np.testing.assert_allclose(GramEncoder(triangle="full").fit_transform(X)[0], expected,
                               rtol=1e-5)


def test_float32_mean_accuracy_on_large_maps():
    X = np.full((1, 512, 512, 2), 0.1, dtype=np.float32)
    out = MeanPool().fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.float32(0.1), rtol=1e-5)


def test_float32_vlad_accuracy_on_large_maps():
    X = (np.random.default_rng(0).random((1, 256 * 256, 4)) * 10).astype(np.float32)
    vlad = VLADEncoder(n_words=2, power=None, l2_normalize=False, random_state=0)
    vlad.fit(X[:, :1000])
    got = vlad.transform(X)
    expected = vlad.transform(X.astype(np.float64))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


# --------------------------------------------------------------------------
# Feature counts of the paper's Table 1

TABLE_1 = [
    ("block1_conv2", 64),
    ("block2_conv2", 128),
    ("block3_conv3", 256),
    ("block4_conv3", 512),
    ("block5_conv3", 512),
]


@pytest.mark.parametrize("layer, c", TABLE_1)
def test_table1_feature_counts(layer, c):
    assert sklearn_cnntexture.features._layers.n_channels(layer) == c
    X = np.random.default_rng(0).random((2, 1, c))
    for enc, expected in [
        (MeanPool(), c),
        (MaxPool(), c),
        (GramEncoder(triangle="upper"), c * (c + 1) // 2),
    ]:
        assert len(enc.fit(X).get_feature_names_out()) == expected
        assert enc.transform(X).shape == (2, expected)
    gram = GramEncoder(triangle="full").fit(X[:1])
    names = gram.get_feature_names_out()
    assert len(names) == c * c == {64: 4096, 128: 16384, 256: 65536, 512: 262144}[c]
    assert gram.transform(X[:1]).shape == (1, c * c)
    assert len(set(names)) == len(names)
    vlad = VLADEncoder(max_descriptors=40, random_state=0)
    assert vlad.n_words == 32  # the paper's dictionary size
    X = np.random.default_rng(0).random((4, 10, c))
    names = vlad.fit(X).get_feature_names_out()
    assert len(names) == c * 32
    assert vlad.transform(X).shape == (4, c * 32)


# --------------------------------------------------------------------------
# Activations of a real (random-weight) VGG16


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 16, 16))


@pytest.fixture(scope="module")
def acts(images):
    return VGGLayerTransformer("block1_conv2", weights=None, random_state=0).transform(images)


@pytest.fixture(scope="module")
def acts_array(acts):
    return np.asarray(acts)


@every_encoder
def test_activations_equal_their_array(make, acts, acts_array):
    assert isinstance(acts, Activations)
    assert acts_array.dtype == np.float32 and acts_array.shape == (3, 16, 16, 64)
    lazy = make().fit_transform(acts)
    eager = make().fit_transform(acts_array)
    assert lazy.dtype == eager.dtype == np.float32
    enc = make().fit(acts)
    if not isinstance(enc, VLADEncoder):
        np.testing.assert_array_equal(lazy, eager)
    # VLAD learns its words from each image's fixed sample of locations on
    # activations (see test_vlad_learns_from_per_image_samples); with the same
    # words, the codes are the same.
    np.testing.assert_allclose(enc.transform(acts), enc.transform(acts_array), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_array_equal(enc.transform(acts), lazy)


def test_vlad_learns_from_per_image_samples(acts, acts_array):
    """On activations, VLAD's sample is each image's fixed sample of its locations,
    the same with or without a cache (and whatever the tiling)."""
    from sklearn_cnntexture.features import _stats

    vlad = VLADEncoder(n_words=4, max_descriptors=60, random_state=0).fit(acts)
    per_image = _stats.descriptors_per_image(60, 3)  # 20 of each image's sample
    samples = acts.statistics(("descriptors",), head=per_image)["descriptors"]
    expected = VLADEncoder(n_words=4, max_descriptors=60, random_state=0)
    expected._fit_words(np.concatenate(samples), np.random.RandomState(0))
    np.testing.assert_array_equal(vlad.cluster_centers_, expected.cluster_centers_)


def test_activations_in_small_batches(images, acts_array):
    # Batches of 2 images: the encoders concatenate them in order.
    acts = VGGLayerTransformer(
        "block1_conv2", weights=None, random_state=0, batch_size=2
    ).transform(images)
    for make in STATELESS.values():
        close(make().fit_transform(acts), make().fit_transform(acts_array), tol=1e-5)


@pytest.mark.parametrize(
    "enc, first, token",
    [
        (MeanPool(), "block1_conv2__mean__0", "block1_conv2__mean__17"),
        (MaxPool(), "block1_conv2__max__0", "block1_conv2__max__17"),
        (GramEncoder(), "block1_conv2__gram__0_0", "block1_conv2__gram__0_17"),
        (GramEncoder(triangle="full"), "block1_conv2__gram__0_0", "block1_conv2__gram__1_0"),
        (VLADEncoder(n_words=2, random_state=0), "block1_conv2__vlad__0_0",
         "block1_conv2__vlad__1_17"),
    ],
    ids=["mean", "max", "gram-upper", "gram-full", "vlad"],
)
def test_feature_names_from_activations(enc, first, token, acts):
    enc.fit(acts)
    assert enc.layer_ == "block1_conv2"
    assert enc.n_features_in_ == 64
    assert not hasattr(enc, "feature_names_in_")
    names = enc.get_feature_names_out()
    assert names.dtype == object
    assert names[0] == first
    assert token in set(names)
    assert all(name.startswith("block1_conv2__") for name in names)
    assert len(names) == enc.transform(acts).shape[1]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(
    "enc, first",
    [(MeanPool(), "block1_conv2__mean__0"), (GramEncoder(), "block1_conv2__gram__0_0"),
     (VLADEncoder(n_words=2, random_state=0), "block1_conv2__vlad__0_0")],
    ids=["mean", "gram", "vlad"],
)
def test_feature_names_through_pipeline(enc, first, images):
    # In a Pipeline the encoder receives VGGLayerTransformer's "block1_conv2__17"
    # names as input_features: the layer must not be named twice.
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(
        VGGLayerTransformer("block1_conv2", weights=None, random_state=0), enc
    ).fit(images)
    names = pipe.get_feature_names_out()
    assert names[0] == first
    assert list(names) == list(enc.get_feature_names_out())
    with pytest.raises(ValueError, match="input_features"):
        enc.get_feature_names_out([f"f{i}" for i in range(3)])


def test_mean_feature_names_are_filters(acts):
    names = MeanPool().fit(acts).get_feature_names_out()
    assert list(names) == [f"block1_conv2__mean__{i}" for i in range(64)]
    assert names[17] == "block1_conv2__mean__17"


def test_feature_names_plain_arrays():
    X = np.zeros((2, 3, 3))
    assert list(MeanPool().fit(X).get_feature_names_out()) == ["mean__0", "mean__1", "mean__2"]
    assert list(MaxPool().fit(X).get_feature_names_out(["a", "b", "c"])) == [
        "max__a", "max__b", "max__c"
    ]
    gram = GramEncoder(triangle="full").fit(X[:, :, :2])
    assert list(gram.get_feature_names_out()) == ["gram__0_0", "gram__0_1", "gram__1_0",
                                                  "gram__1_1"]
    with pytest.raises(ValueError):
        MeanPool().fit(X).get_feature_names_out(["a", "b"])


def test_refit_on_plain_array_forgets_layer(acts):
    enc = MeanPool().fit(acts)
    enc.fit(np.zeros((2, 3, 64)))
    assert enc.layer_ is None
    assert enc.get_feature_names_out()[0] == "mean__0"
    enc.fit(np.zeros((2, 64)))
    assert enc.layer_ is None
    assert enc.get_feature_names_out()[0] == "mean__0"


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.random((6, 3)), columns=["ferrite", "pearlite", "carbide"],
                        index=[10, 11, 12, 13, 14, 15])


@pytest.mark.parametrize(
    "enc, expected",
    [
        (MeanPool(), ["mean__ferrite", "mean__pearlite", "mean__carbide"]),
        (MaxPool(), ["max__ferrite", "max__pearlite", "max__carbide"]),
        (GramEncoder(), ["gram__ferrite_ferrite", "gram__ferrite_pearlite",
                         "gram__ferrite_carbide", "gram__pearlite_pearlite",
                         "gram__pearlite_carbide", "gram__carbide_carbide"]),
        (VLADEncoder(n_words=2, random_state=0),
         ["vlad__0_ferrite", "vlad__0_pearlite", "vlad__0_carbide",
          "vlad__1_ferrite", "vlad__1_pearlite", "vlad__1_carbide"]),
    ],
    ids=["mean", "max", "gram", "vlad"],
)
def test_feature_names_from_dataframe_and_pandas_output(enc, expected, frame):
    enc.fit(frame)
    np.testing.assert_array_equal(enc.feature_names_in_, frame.columns)
    assert list(enc.get_feature_names_out()) == expected
    plain = enc.transform(frame)
    assert isinstance(plain, np.ndarray)

    enc.set_output(transform="pandas")
    out = enc.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == expected
    assert list(out.index) == list(frame.index)
    np.testing.assert_allclose(out.to_numpy(), plain)
    out = clone(enc).set_output(transform="pandas").fit_transform(frame)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == expected

    # refitting on an unnamed 3-D array forgets the names
    enc.fit(frame.to_numpy()[:, None, :])
    assert not hasattr(enc, "feature_names_in_")
    names = enc.get_feature_names_out()
    assert names[-1].endswith("_2")
    assert not any("ferrite" in name for name in names)


@every_encoder
def test_pandas_output_on_activations(make, acts):
    enc = make().set_output(transform="pandas")
    out = enc.fit_transform(acts)
    assert isinstance(out, pd.DataFrame)
    assert out.shape[0] == 3
    assert list(out.columns) == list(enc.get_feature_names_out())
    assert out.columns[0].startswith("block1_conv2__")


# --------------------------------------------------------------------------
# Ragged input: images of different sizes


@st.composite
def ragged(draw):
    c = draw(st.integers(1, 4))
    n = draw(st.integers(2, 4))
    sizes = draw(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=n,
                          max_size=n))
    return [draw(arrays(np.float64, (h, w, c), elements=ELEMENTS)) for h, w in sizes]


@stateless
@PROPERTY
@given(X=ragged())
def test_ragged_list_encodes_each_sample_alone(make, X):
    enc = make()
    out = enc.fit_transform(X)
    assert out.shape[0] == len(X)
    for i, sample in enumerate(X):
        close(out[i], make().fit_transform(sample[None])[0])
    close(enc.transform(X), out)


def test_ragged_list_of_2d_samples():
    rng = np.random.default_rng(0)
    X = [rng.random((L, 3)) for L in (1, 4, 7)]
    for make in STATELESS.values():
        out = make().fit_transform(X)
        for i, sample in enumerate(X):
            close(out[i], make().fit_transform(sample[None])[0])


@VLAD_PROPERTY
@given(X=ragged())
def test_vlad_ragged_list_encodes_each_sample_alone(X):
    n_points = sum(x.shape[0] * x.shape[1] for x in X)
    vlad = VLADEncoder(n_words=min(2, n_points), random_state=0).fit(X)
    out = vlad.transform(X)
    for i, sample in enumerate(X):
        close(out[i], vlad.transform(sample[None])[0], tol=1e-7)
    # the descriptors k-means saw are the same as for a flat list of them
    flat = np.concatenate([x.reshape(-1, x.shape[-1]) for x in X])[None]
    assert VLADEncoder(n_words=min(2, n_points), random_state=0).fit(flat).n_features_in_ == (
        vlad.n_features_in_
    )


def test_ragged_channel_mismatch():
    X = [np.zeros((2, 2, 3)), np.zeros((3, 3, 4))]
    with pytest.raises(ValueError, match=re.escape("X[1] has 4 channels, X[0] has 3")):
        MeanPool().fit(X)


# --------------------------------------------------------------------------
# Errors


@every_encoder
@pytest.mark.parametrize("ndim", [2, 3, 4])
def test_transform_with_other_channel_count(make, ndim):
    shape = {2: (6,), 3: (6, 5), 4: (6, 2, 3)}[ndim]
    rng = np.random.default_rng(0)
    enc = make().fit(rng.random(shape + (4,)))
    name = type(enc).__name__
    with pytest.raises(ValueError, match=f"X has 5 features, but {name} is expecting 4"):
        enc.transform(rng.random(shape + (5,)))


def test_transform_with_other_channel_count_activations(acts):
    enc = MeanPool().fit(np.zeros((2, 3, 32)))
    with pytest.raises(ValueError, match="X has 64 features, but MeanPool is expecting 32"):
        enc.transform(acts)


@pytest.fixture(scope="module")
def two_layer_acts(images):
    return VGGLayerTransformer(
        ["block1_conv1", "block1_conv2"], weights=None, random_state=0
    ).transform(images)


@every_encoder
def test_multilayer_activations_need_union(make, two_layer_acts):
    enc = make()
    for method in (enc.fit, enc.fit_transform):
        with pytest.raises(ValueError, match=r"MultiLayerUnion\(" + type(enc).__name__):
            method(two_layer_acts)
    enc.fit(np.zeros((4, 3, 64)))
    with pytest.raises(ValueError, match="2 layers.*MultiLayerUnion"):
        enc.transform(two_layer_acts)


def test_vlad_too_few_descriptors():
    with pytest.raises(ValueError, match="at least n_words=8 local descriptors.*got n_samples=6"):
        VLADEncoder(n_words=8).fit(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="at least n_words=32"):
        VLADEncoder().fit(np.random.default_rng(0).random((3, 10, 2)))
    with pytest.raises(ValueError, match="at least n_words=4"):
        VLADEncoder(n_words=4).fit_transform(np.zeros((3, 2)))
    VLADEncoder(n_words=6).fit(np.random.default_rng(0).random((2, 3, 4)))  # exactly enough


def test_vlad_max_descriptors_below_n_words_is_an_error():
    X = np.random.default_rng(0).random((10, 10, 2))
    with pytest.raises(ValueError, match="n_words=8"):
        VLADEncoder(n_words=8, max_descriptors=5).fit(X)


def test_vlad_max_descriptors_below_n_words_message_names_the_cap():
    X = np.random.default_rng(0).random((10, 10, 2))
    with pytest.raises(ValueError, match="max_descriptors"):
        VLADEncoder(n_words=8, max_descriptors=5).fit(X)


@every_encoder
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(make, bad):
    rng = np.random.default_rng(0)
    for shape in [(6, 3), (4, 5, 3), (3, 2, 3, 3)]:
        X = rng.random(shape)
        X.flat[7] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            make().fit(X)
        with pytest.raises(ValueError, match="NaN|infinity"):
            make().fit_transform(X)
        enc = make().fit(rng.random(shape))
        with pytest.raises(ValueError, match="NaN|infinity"):
            enc.transform(X)
    ragged_X = [rng.random((2, 2, 3)), rng.random((3, 3, 3))]
    ragged_X[1][1, 1, 1] = bad
    with pytest.raises(ValueError, match=r"X\[1\] contains (NaN|infinity)"):
        make().fit(ragged_X)


def test_nan_message():
    X = np.ones((2, 3, 2))
    X[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MeanPool().fit_transform(X)


def test_other_layer_same_channel_count(images, acts):
    acts_c11 = VGGLayerTransformer("block1_conv1", weights=None, random_state=0).transform(
        images
    )
    for make in ALL.values():
        enc = make().fit(acts_c11)
        assert enc.layer_ == "block1_conv1"
        with pytest.raises(
            ValueError,
            match=f"{type(enc).__name__} was fitted on activations of block1_conv1, "
            "got block1_conv2",
        ):
            enc.transform(acts)


def test_samples_without_locations():
    with pytest.raises(ValueError, match="samples without locations"):
        MeanPool().fit(np.zeros((2, 0, 3)))


@pytest.mark.parametrize(
    "enc",
    [
        GramEncoder(triangle="lower"),
        GramEncoder(normalize="yes"),
        VLADEncoder(n_words=0),
        VLADEncoder(max_descriptors=0),
        VLADEncoder(power=0),
        VLADEncoder(power=-0.5),
        VLADEncoder(l2_normalize=1.5),
        VLADEncoder(random_state="seed"),
    ],
    ids=repr,
)
def test_invalid_parameters(enc):
    X = np.random.default_rng(0).random((4, 10, 2))
    with pytest.raises(InvalidParameterError):
        enc.fit(X)
    with pytest.raises(InvalidParameterError):
        clone(enc).fit_transform(X)


def test_unfitted_transform():
    from sklearn.exceptions import NotFittedError

    for make in ALL.values():
        with pytest.raises(NotFittedError):
            make().transform(np.zeros((2, 3, 2)))
        with pytest.raises(NotFittedError):
            make().get_feature_names_out()


# --------------------------------------------------------------------------
# VLAD determinism and the bounded descriptor sample


def test_vlad_same_seed_same_result():
    X = np.random.default_rng(0).random((6, 40, 3))
    a = VLADEncoder(n_words=8, max_descriptors=100, random_state=3).fit(X)
    b = VLADEncoder(n_words=8, max_descriptors=100, random_state=3).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(
        VLADEncoder(n_words=8, max_descriptors=100, random_state=3).fit_transform(X),
        a.transform(X),
    )
    # a clone is an unfitted copy with the same seed: same result again
    c = clone(a)
    assert not hasattr(c, "cluster_centers_")
    np.testing.assert_array_equal(c.fit(X).cluster_centers_, a.cluster_centers_)
    # pickling keeps the dictionary
    d = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(d.transform(X), a.transform(X))


def test_vlad_different_seeds_differ():
    X = np.random.default_rng(0).random((6, 40, 3))
    centers = [
        VLADEncoder(n_words=8, max_descriptors=100, random_state=seed).fit(X).cluster_centers_
        for seed in range(4)
    ]
    differing = sum(
        not np.array_equal(centers[0], other) for other in centers[1:]
    )
    assert differing >= 2


def test_vlad_sample_is_bounded(monkeypatch):
    seen = []

    class RecordingKMeans(encoders_module.KMeans):
        def fit(self, X, y=None, sample_weight=None):
            seen.append(X.copy())
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(encoders_module, "KMeans", RecordingKMeans)
    X = np.random.default_rng(0).random((10, 100, 3))  # 1000 descriptors
    vlad = VLADEncoder(n_words=4, max_descriptors=50, random_state=0).fit(X)
    assert vlad.cluster_centers_.shape == (4, 3)
    (sample,) = seen
    assert sample.shape == (50, 3)
    # every sampled row is one of the descriptors, none twice
    flat = X.reshape(-1, 3)
    rows = {tuple(r) for r in flat}
    assert all(tuple(r) in rows for r in sample)
    assert len({tuple(r) for r in sample}) == 50
    # and the whole sample is kept when it fits under the cap
    seen.clear()
    VLADEncoder(n_words=4, max_descriptors=5000, random_state=0).fit(X)
    assert seen[0].shape == (1000, 3)
    np.testing.assert_array_equal(np.sort(seen[0], axis=0), np.sort(flat, axis=0))


def test_descriptor_sample_keeps_exactly_size_rows():
    sample = _DescriptorSample(50, np.random.RandomState(0))
    for start in range(0, 1000, 100):
        sample.add(np.arange(start, start + 100, dtype=float)[:, None])
        assert len(sample.descriptors) == min(50, start + 100)
        assert len(sample.keys) == len(sample.descriptors)
    values = sample.descriptors[:, 0]
    assert len(np.unique(values)) == 50
    assert set(values) <= set(range(1000))


def test_descriptor_sample_small_stream_kept_whole():
    sample = _DescriptorSample(50, np.random.RandomState(0))
    sample.add(np.arange(10.0)[:, None])
    sample.add(np.arange(10.0, 30.0)[:, None])
    np.testing.assert_array_equal(np.sort(sample.descriptors[:, 0]), np.arange(30.0))


def test_descriptor_sample_is_uniform():
    # 1000 rows in batches of 100 (as from a stream of images), 50 kept: every
    # row should be kept with probability 50/1000, whatever batch it came in.
    rng = np.random.RandomState(12345)
    trials = 1000
    counts = np.zeros(1000)
    for _ in range(trials):
        sample = _DescriptorSample(50, rng)
        for start in range(0, 1000, 100):
            sample.add(np.arange(start, start + 100, dtype=float)[:, None])
        counts[sample.descriptors[:, 0].astype(int)] += 1
    rate = counts / trials
    assert counts.sum() == 50 * trials
    per_batch = rate.reshape(10, 100).mean(axis=1)  # expected 0.05, sd ~ 0.0007
    np.testing.assert_allclose(per_batch, 0.05, atol=0.004)
    # per row: binomial(1000, 0.05), mean 50, sd ~ 6.9
    assert 15 < counts.min() and counts.max() < 90
    # first and second half of each batch alike (no position bias inside a batch)
    halves = rate.reshape(10, 2, 50).mean(axis=(0, 2))
    np.testing.assert_allclose(halves, 0.05, atol=0.003)
