"""Combined encoders: mean + reduced Gram over layers, and the multi-scale input."""

import numpy as np
import pytest

from sklearn_cnntexture import MeanPool, MultiLayerUnion, VGGLayerTransformer
from sklearn_cnntexture.combined import MeanGramUnion, MultiScale
from sklearn_cnntexture.study import run_study, study_grid


def noise(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((size, size)).astype(np.float32) for _ in range(n)]


def test_mean_gram_union_fits_its_pca_on_the_fitted_images_only(tmp_path):
    vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0,
                              cache=str(tmp_path))
    train, test = noise(8), noise(4, seed=1)
    union = MeanGramUnion(["C1_2"], n_components=3).fit(vgg.transform(train))
    gram, pca = union.grams_["block1_conv2"]
    assert pca.n_samples_ == 8  # the training images, never the test ones
    out = union.transform(vgg.transform(test))
    assert out.shape == (4, 64 + 128 + 3)
    means = MultiLayerUnion(MeanPool()).fit_transform(vgg.transform(test))
    np.testing.assert_allclose(out[:, :192], means, rtol=1e-6)
    with pytest.raises(ValueError, match=r"gram_layers \['block3_conv3'\] are not among"):
        MeanGramUnion(["C3_3"]).fit(vgg.transform(train))


def test_multiscale_concatenates_the_image_and_its_half_size(tmp_path):
    vgg = VGGLayerTransformer(["C1_2"], weights=None, random_state=0, cache=str(tmp_path))
    X = noise(3, size=64)
    out = MultiScale(vgg).fit_transform(X)
    native = MeanPool().fit_transform(vgg.transform(X))
    half = MeanPool().fit_transform(vgg.set_params(resize=(32, 32)).transform(X))
    np.testing.assert_allclose(out, np.hstack([native, half]), rtol=1e-5)
    with pytest.raises(ValueError, match="scales must be in"):
        MultiScale(vgg, scales=(1.0, 0.0)).fit(X)


def test_combined_candidates_in_the_grid_and_the_table(tmp_path):
    vgg = VGGLayerTransformer(weights=None, random_state=0, cache=str(tmp_path))
    grid = study_grid(["C1_2", "C2_2"], ["mean"], combined=("mean+gram", "multiscale"), vgg=vgg)
    assert isinstance(grid[-2]["encode"][0], MeanGramUnion)
    assert grid[-1]["vgg"] == ["passthrough"] and isinstance(grid[-1]["encode"][0], MultiScale)
    with pytest.raises(ValueError, match="combined must be among"):
        study_grid(combined=("fisher",))
    rng = np.random.default_rng(0)
    X = [(0.5 + 0.3 * np.sin((0.3 + 0.5 * k) * np.arange(32))[None, :]
          + 0.1 * rng.random((32, 32))).astype(np.float32) for k in range(3) for _ in range(4)]
    y = np.repeat(["a", "b", "c"], 4)
    result = run_study(X, y, vgg=vgg, layers=["C1_2", "C2_2"], encoders=["mean"],
                       raw_image=False, combined=("mean+gram", "multiscale"), n_repeats=1,
                       n_estimators=10, verbose=False)
    rows = result.results.set_index(["layer", "encoder"])
    assert rows.loc[("union", "mean+gram"), "n_features"] == 64 + 128 + 2 * 32
    assert rows.loc[("multiscale", "mean"), "n_features"] == 2 * (64 + 128)
    assert result.results["f1_mean"].notna().all()
