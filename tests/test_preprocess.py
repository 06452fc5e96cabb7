"""The one preprocessing before the network (_preprocess.prepare), on every path.

The features (VGGLayerTransformer.transform), explain's activation_heatmap and
predict's heatmap_figure must put the very same pixels through the network,
pixel size included; the heat maps then lie on the image as it was given.
"""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.pipeline import Pipeline

from sklearn_cnntexture import VGGLayerTransformer, activation_heatmap
from sklearn_cnntexture.features import _backbone
from sklearn_cnntexture.features._preprocess import Preprocessing, prepare
from sklearn_cnntexture.model.predict import heatmap_figure

matplotlib.use("Agg")

LAYER, FILTER = "block1_conv2", 5


def micrograph(path, height=40, width=48, banner=8):
    """A textured 8-bit micrograph with a white banner of ``banner`` rows."""
    rng = np.random.default_rng(0)
    image = (rng.random((height, width)) * 180 + 30).astype(np.uint8)
    image[height - banner:] = 255
    Image.fromarray(image).save(path)
    return image


@pytest.fixture
def network_inputs(monkeypatch):
    """Every batch that goes into the network, as the caffe preprocessing receives it."""
    seen = []
    real = _backbone.caffe_preprocess

    def recording(rgb):
        seen.append(np.array(rgb))
        return real(rgb)

    monkeypatch.setattr(_backbone, "caffe_preprocess", recording)
    return seen


@pytest.mark.parametrize("settings", [
    {"crop": 8, "pixel_size": 0.5},
    {"crop": 8, "pixel_size": 0.5, "resize": (24, 36)},
    {"crop": "auto", "resize": 20},
    {"crop": 0.2},
])
def test_features_and_both_heat_maps_see_the_same_pixels(tmp_path, network_inputs, settings):
    path = str(tmp_path / "m.png")
    micrograph(path)
    # The image's own pixel size travels with it (a data CSV's column), as in the CLI.
    vgg = VGGLayerTransformer(LAYER, weights=None, random_state=0, **settings)
    np.asarray(vgg.transform(pd.DataFrame({"path": [path], "pixel_size": [0.8]})))
    own = 0.8 if "pixel_size" in settings else None
    heat, shown = activation_heatmap(path, LAYER, FILTER, vgg=vgg, pixel_size=own)
    heatmap_figure(Pipeline([("vgg", vgg)]), path, [(LAYER, FILTER)], pixel_size=own)
    features, explain, predict = network_inputs
    assert features.shape[0] == 1
    np.testing.assert_array_equal(explain, features)
    np.testing.assert_array_equal(predict, features)
    # The heat map covers the cropped image at its own pixels.
    assert heat.shape == shown.shape == (32, 48)


def test_heat_map_cells_follow_the_resampling(tmp_path):
    """Upsampled 2x to the model's pixel size, pixel i sits between map cells 2i and 2i+1."""
    path = str(tmp_path / "m.png")
    image = micrograph(path, banner=0)
    vgg = VGGLayerTransformer(LAYER, weights=None, random_state=0, pixel_size=0.5)
    maps = vgg.transform(pd.DataFrame({"path": [path], "pixel_size": [1.0]}))[0][:, :, FILTER]
    assert maps.shape == (80, 96)
    heat, shown = activation_heatmap(path, LAYER, FILTER, vgg=vgg, pixel_size=1.0)
    np.testing.assert_array_equal(shown, image)
    quads = maps.reshape(40, 2, 48, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(heat[1:-1, 1:-1], quads[1:-1, 1:-1], rtol=1e-5, atol=1e-6)


def test_filter_maps_returns_the_cropped_image_and_the_network_size(tmp_path):
    path = str(tmp_path / "m.png")
    image = micrograph(path)
    vgg = VGGLayerTransformer(weights=None, random_state=0, crop=8, pixel_size=0.4)
    maps, cropped, size = vgg.filter_maps(path, {"C1_2": [1, 3], "C2_2": [0]}, pixel_size=0.8)
    np.testing.assert_array_equal(cropped, image[:32])
    assert size == (64, 96)
    assert maps["block1_conv2"].shape == (64, 96, 2) and maps["block2_conv2"].shape == (32, 48, 1)
    assert vgg.filter_maps(path, {"C1_2": [0]}, pixel_size=0.4)[2] == (32, 48)
    with pytest.raises(ValueError, match=r"no pixel size of their own: .*m\.png"):
        vgg.filter_maps(path, {"C1_2": [0]})  # a PNG records none: never guessed


# -- prepare itself: no network ---------------------------------------------------------


def test_prepare_keeps_an_image_in_its_dtype_until_it_must_be_resampled():
    image = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    kept = prepare(image, Preprocessing(("random", 0), crop=2))
    assert kept.array.dtype == np.uint8 and kept.size == (10, 10) and kept.float_scale == 255.0
    assert kept.cropped is None  # held only when asked
    np.testing.assert_array_equal(kept.rgb()[..., 1], image[:10].astype(np.float32))
    resampled = prepare(image, Preprocessing(("random", 0), crop=2, pixel_size=0.5),
                        pixel_size=1.0, keep_cropped=True)
    assert resampled.array.dtype == np.float32 and resampled.array.shape == (20, 20, 1)
    assert resampled.float_scale == 1.0 and resampled.size == (20, 20)
    np.testing.assert_array_equal(resampled.cropped, image[:10])


def test_prepare_scales_floats_then_resizes():
    image = np.full((8, 8, 3), 0.5)
    prepared = prepare(image, Preprocessing(("random", 0), resize=(4, 6)))
    assert prepared.size == (4, 6)
    np.testing.assert_allclose(prepared.rgb(), 127.5)
    tile = prepared.rgb(slice(0, 2), slice(1, 3))
    assert tile.shape == (2, 2, 3)


def test_prepare_without_the_image_pixel_size_is_a_bug_not_a_guess():
    with pytest.raises(ValueError, match="image needs its own pixel size"):
        prepare(np.zeros((8, 8)), Preprocessing(("random", 0), pixel_size=0.5))
