"""Tests for sklearn_cnntexture.io: real files written to tmp_path and read back."""

import re

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from sklearn_cnntexture.io import (
    IMAGE_SUFFIXES,
    is_image_path,
    list_image_files,
    read_image,
    resize_image,
    to_rgb_float,
)

RNG = np.random.default_rng(0)
GRAY8 = RNG.integers(0, 256, size=(12, 17), dtype=np.uint8)
RGB8 = RNG.integers(0, 256, size=(12, 17, 3), dtype=np.uint8)
GRAY16 = RNG.integers(0, 65536, size=(12, 17), dtype=np.uint16)


def named(path):
    """Regex matching a message that names `path`."""
    return re.escape(str(path))


# --------------------------------------------------------------------------
# read_image: formats


@pytest.mark.parametrize(
    "pixels, as_str",
    [(GRAY8, False), (RGB8, True), (GRAY16, False)],  # 16-bit stays uint16; str paths work
    ids=["gray8", "rgb8-str-path", "gray16"],
)
def test_read_png_keeps_pixels_and_dtype(tmp_path, pixels, as_str):
    path = tmp_path / "image.png"
    Image.fromarray(pixels).save(path)
    image = read_image(str(path) if as_str else path)
    assert image.dtype == pixels.dtype
    np.testing.assert_array_equal(image, pixels)


def test_read_jpeg(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))
    path = tmp_path / "photo.JPG"  # upper-case suffix
    Image.fromarray(smooth).save(path, format="JPEG", quality=95)
    image = read_image(path)
    assert image.shape == (24, 32) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - smooth).max() <= 8  # lossy, but close


def test_read_bmp(tmp_path):
    path = tmp_path / "rgb.bmp"
    Image.fromarray(RGB8).save(path)
    np.testing.assert_array_equal(read_image(path), RGB8)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_read_png_drops_alpha(tmp_path, mode):
    path = tmp_path / "alpha.png"
    Image.fromarray(RGB8).convert(mode).save(path)
    image = read_image(path)
    expected = np.array(Image.fromarray(RGB8).convert(mode[:-1]))
    np.testing.assert_array_equal(image, expected)


def test_read_bilevel_png_gives_0_255(tmp_path):
    path = tmp_path / "bw.png"
    Image.fromarray(GRAY8 > 127).save(path)
    image = read_image(path)
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image, np.where(GRAY8 > 127, 255, 0))


def test_read_palette_png(tmp_path):
    gray_path, colour_path = tmp_path / "gray_p.png", tmp_path / "colour_p.png"
    Image.fromarray(GRAY8).convert("P").save(gray_path)  # gray palette
    Image.fromarray(RGB8).quantize(16).save(colour_path)
    assert read_image(gray_path).shape == GRAY8.shape
    np.testing.assert_array_equal(read_image(gray_path), GRAY8)
    assert read_image(colour_path).shape == RGB8.shape


@pytest.mark.parametrize("data", [GRAY8, GRAY16, GRAY16.astype(np.float32) / 65535, RGB8],
                         ids=["uint8", "uint16", "float32", "rgb8"])
@pytest.mark.parametrize("suffix", [".tif", ".tiff"])
def test_read_tiff_roundtrip(tmp_path, data, suffix):
    path = tmp_path / f"image{suffix}"
    tifffile.imwrite(path, data)
    image = read_image(path)
    assert image.dtype == data.dtype
    np.testing.assert_array_equal(image, data)


def test_read_tiff_planar_rgb_is_channel_last(tmp_path):
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.moveaxis(RGB8, -1, 0), photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(read_image(path), RGB8)


def test_read_tiff_drops_alpha(tmp_path):
    path = tmp_path / "rgba.tif"
    rgba = np.dstack([RGB8, np.full(GRAY8.shape, 255, np.uint8)])
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    np.testing.assert_array_equal(read_image(path), RGB8)


def test_read_lzw_tiff_without_imagecodecs(tmp_path):
    # LZW is common in SEM software; tifffile alone cannot decode it.
    path = tmp_path / "lzw.tif"
    Image.fromarray(GRAY8).save(path, compression="tiff_lzw")
    np.testing.assert_array_equal(read_image(path), GRAY8)


def test_read_big_endian_tiff_gives_native_dtype(tmp_path):
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, GRAY16, byteorder=">")
    image = read_image(path)
    assert image.dtype == np.dtype(np.uint16) and image.dtype.isnative
    np.testing.assert_array_equal(image, GRAY16)


# --------------------------------------------------------------------------
# read_image: errors name the file


def test_read_missing_file(tmp_path):
    path = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match=named(path)):
        read_image(path)


def test_read_directory(tmp_path):
    with pytest.raises((IsADirectoryError, ValueError), match=named(tmp_path)):
        read_image(tmp_path)


def test_read_text_file_renamed_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\n")
    with pytest.raises(ValueError, match="cannot read image file '" + named(path) + "'"):
        read_image(path)


def test_read_truncated_jpeg(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(RGB8.repeat(8, axis=0).repeat(8, axis=1)).save(good, quality=95)
    data = good.read_bytes()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read image file '" + named(path) + "'"):
        read_image(path)


def test_read_garbage_tiff(tmp_path):
    path = tmp_path / "garbage.tif"
    path.write_bytes(b"II*\x00" + b"\xff" * 20)
    with pytest.raises(ValueError, match="cannot read image file '" + named(path) + "'"):
        read_image(path)


def test_read_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=named(path) + ".*empty"):
        read_image(path)


def test_read_zero_size_image(tmp_path):
    path = tmp_path / "zero.tif"
    with pytest.warns(UserWarning):  # tifffile warns the file is nonconformant
        tifffile.imwrite(path, np.zeros((0, 5), np.uint8))
    with pytest.raises(ValueError, match=named(path) + ".*zero-size"):
        read_image(path)


def test_read_multipage_tiff(tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.zeros((4, 8, 9), np.uint8), photometric="minisblack")
    with pytest.raises(ValueError, match=named(path) + ".* 4 pages"):
        read_image(path)


# --------------------------------------------------------------------------
# to_rgb_float: intensity convention


def test_uint8_used_as_is():
    out = to_rgb_float(RGB8)
    assert out.dtype == np.float32 and out.shape == RGB8.shape
    np.testing.assert_array_equal(out, RGB8.astype(np.float32))


def test_uint16_full_range_maps_to_0_255():
    out = to_rgb_float(np.array([[0, 257, 65535]], dtype=np.uint16))
    np.testing.assert_array_equal(out[0, :, 0], [0.0, 1.0, 255.0])


def test_bool_maps_to_0_255():
    out = to_rgb_float(np.array([[False, True]]))
    np.testing.assert_array_equal(out[0, :, 0], [0.0, 255.0])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64])
def test_other_integers_taken_on_0_255_scale(dtype):
    out = to_rgb_float(np.array([[0, 7, 100]], dtype=dtype))
    np.testing.assert_array_equal(out[0, :, 0], [0.0, 7.0, 100.0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_scaled_by_255(dtype):
    out = to_rgb_float(np.array([[0.0, 0.5, 1.0]], dtype=dtype))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, :, 0], [0.0, 127.5, 255.0])


def test_float_scale_one_keeps_0_255_floats():
    out = to_rgb_float(np.array([[0.0, 127.5, 255.0]]), float_scale=1.0)
    np.testing.assert_array_equal(out[0, :, 0], [0.0, 127.5, 255.0])


def test_float_out_of_range_not_clipped():
    out = to_rgb_float(np.array([[-0.5, 2.0]], dtype=np.float32))
    np.testing.assert_array_equal(out[0, :, 0], [-127.5, 510.0])


@pytest.mark.parametrize("image", [GRAY8, GRAY8[:, :, np.newaxis]], ids=["2d", "1-channel"])
def test_grayscale_becomes_three_equal_channels(image):
    out = to_rgb_float(image)
    assert out.shape == GRAY8.shape + (3,)
    for channel in range(3):
        np.testing.assert_array_equal(out[:, :, channel], GRAY8)


def test_accepts_nested_lists():
    assert to_rgb_float([[0, 255]]).shape == (1, 2, 3)


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9),
                                  st.sampled_from([None, 1, 3]))
              .map(lambda s: s[:2] if s[2] is None else s)))
def test_uint8_conversion_is_exact(image):
    out = to_rgb_float(image)
    assert out.dtype == np.float32 and out.shape == image.shape[:2] + (3,)
    expected = image if image.ndim == 3 and image.shape[2] == 3 else np.atleast_3d(image)
    np.testing.assert_array_equal(out, np.broadcast_to(expected, out.shape).astype(np.float32))


# --------------------------------------------------------------------------
# to_rgb_float: errors name the source


@pytest.mark.parametrize("channels", [2, 4])
def test_wrong_channel_count(channels):
    image = np.zeros((5, 6, channels), np.uint8)
    pattern = rf"scan\.png has {channels} channels.*\(5, 6, {channels}\).*alpha"
    with pytest.raises(ValueError, match=pattern):
        to_rgb_float(image, source="scan.png")


@pytest.mark.parametrize("shape", [(5,), (2, 5, 6, 3), ()])
def test_wrong_ndim(shape):
    with pytest.raises(ValueError, match=re.escape(f"image at index 3 has shape {shape}")):
        to_rgb_float(np.zeros(shape, np.uint8), source="image at index 3")


@pytest.mark.parametrize("shape", [(0, 5), (5, 0, 3), (0, 0)])
def test_empty_image(shape):
    with pytest.raises(ValueError, match="image at index 0 is empty"):
        to_rgb_float(np.zeros(shape, np.uint8), source="image at index 0")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf(bad):
    image = np.zeros((3, 3), np.float32)
    image[1, 2] = bad
    with pytest.raises(ValueError, match="a.tif contains NaN or infinite pixel values"):
        to_rgb_float(image, source="a.tif")


def test_overflow_after_scaling():
    with pytest.raises(ValueError, match="image .*too large for float32"):
        to_rgb_float(np.full((2, 2), 1e300))


@pytest.mark.parametrize("image", [np.zeros((3, 3), complex), np.full((3, 3), "a"),
                                   np.empty((3, 3), object)],
                         ids=["complex", "str", "object"])
def test_non_numeric_dtype(image):
    with pytest.raises(TypeError, match="b.png has .*dtype"):
        to_rgb_float(image, source="b.png")


def test_default_source_is_image():
    with pytest.raises(ValueError, match="^image has 4 channels"):
        to_rgb_float(np.zeros((2, 2, 4), np.uint8))


@pytest.mark.parametrize("scale", [0, -1.0, np.nan, "255", True])
def test_bad_float_scale(scale):
    with pytest.raises(ValueError, match="float_scale"):
        to_rgb_float(np.zeros((2, 2), np.float32), float_scale=scale)


def test_file_roundtrip_16bit_to_rgb(tmp_path):
    path = tmp_path / "sem16.tif"
    tifffile.imwrite(path, np.array([[0, 65535]], dtype=np.uint16))
    out = to_rgb_float(read_image(path), source=str(path))
    np.testing.assert_array_equal(out[0, :, 1], [0.0, 255.0])


# --------------------------------------------------------------------------
# resize_image


def test_resize_shape_and_dtype():
    image = to_rgb_float(RGB8)
    out = resize_image(image, (5, 40))
    assert out.shape == (5, 40, 3) and out.dtype == np.float32


def test_resize_keeps_constant_image_constant():
    image = np.full((20, 30, 3), 42.5, np.float32)
    np.testing.assert_allclose(resize_image(image, (7, 11)), 42.5, rtol=1e-6)


def test_resize_same_size_returns_input():
    image = to_rgb_float(RGB8)
    assert resize_image(image, image.shape[:2]) is image


def test_resize_single_channel():
    out = resize_image(np.zeros((8, 8, 1), np.float32), [4, 4])
    assert out.shape == (4, 4, 1)


@pytest.mark.parametrize("size", [(0, 5), (5,), (5, 5, 5), (2.5, 4), (True, 4), "ab", 224, None])
def test_resize_bad_size(size):
    with pytest.raises(ValueError, match="resize must be a \\(height, width\\) pair"):
        resize_image(np.zeros((4, 4, 3), np.float32), size)


def test_resize_bad_ndim():
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        resize_image(np.zeros((4, 4), np.float32), (2, 2))


# --------------------------------------------------------------------------
# is_image_path, list_image_files


def test_is_image_path(tmp_path):
    assert is_image_path("a.png")
    assert is_image_path(tmp_path / "a.png")
    assert is_image_path(np.str_("a.png"))
    assert not is_image_path(b"a.png")
    assert not is_image_path(GRAY8)
    assert not is_image_path(None)


def test_list_image_files(tmp_path):
    names = ["img10.png", "img2.PNG", "img1.jpg", "b.TIFF", "c.bmp", "d.jpeg", "e.tif",
             "notes.txt", ".hidden.png", "noext"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()  # a folder with an image suffix is not a file
    (tmp_path / "sub.png" / "deep.png").write_bytes(b"x")
    found = list_image_files(str(tmp_path))
    assert [p.name for p in found] == ["b.TIFF", "c.bmp", "d.jpeg", "e.tif",
                                       "img1.jpg", "img2.PNG", "img10.png"]
    assert all(p.is_absolute() for p in found)
    assert set(IMAGE_SUFFIXES) == {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def test_list_image_files_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=named(tmp_path / "missing")):
        list_image_files(tmp_path / "missing")
    file = tmp_path / "a.png"
    file.write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match=named(file)):
        list_image_files(file)


def test_io_does_not_import_tensorflow():
    # io.py must stay cheap to import; check in a fresh interpreter.
    import subprocess
    import sys

    import sklearn_cnntexture.io as io_module

    # Load the file by path so that the package's __init__ is not involved.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('_io', {io_module.__file__!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
