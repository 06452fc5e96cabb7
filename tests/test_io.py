"""Tests for sklearn_cnntexture.io: real files written to tmp_path and read back."""

import io
import pathlib
import re

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_cnntexture import io as cio
from sklearn_cnntexture.io import (
    IMAGE_SUFFIXES,
    check_crop,
    crop_bottom,
    find_banner_height,
    is_image_path,
    list_image_files,
    read_image,
    resize_image,
    to_float_intensities,
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
    with pytest.warns(UserWarning, match="far above the 0-255 scale"):  # 2.0 > 1.5
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


# (True is 1 to scikit-learn's Interval, as VGGLayerTransformer(float_scale=True) is.)
@pytest.mark.parametrize("scale", [0, -1.0, np.nan, np.inf, "255", None])
@pytest.mark.parametrize("function", [to_rgb_float, to_float_intensities])
def test_bad_float_scale(scale, function):
    with pytest.raises(InvalidParameterError, match=rf"^The 'float_scale' parameter of "
                       rf"{function.__name__} must be a float in the range \(0.0, inf\)"):
        function(np.zeros((2, 2), np.float32), float_scale=scale)


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


@pytest.mark.parametrize("size", [(0, 5), (5,), (5, 5, 5), (2.5, 4), (True, 4)])
def test_resize_bad_size(size):
    with pytest.raises(ValueError, match="resize must be a \\(height, width\\) pair"):
        resize_image(np.zeros((4, 4, 3), np.float32), size)


@pytest.mark.parametrize("size", ["ab", 224, None])
def test_resize_size_that_is_no_sequence(size):
    with pytest.raises(InvalidParameterError, match="^The 'size' parameter of resize_image must "
                       "be an instance of 'tuple', an instance of 'list' or an instance of "
                       "'numpy.ndarray'"):
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
             "f.GIF", "notes.txt", ".hidden.png", "noext"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()  # a folder with an image suffix is not a file
    (tmp_path / "sub.png" / "deep.png").write_bytes(b"x")
    found = list_image_files(str(tmp_path))
    assert [p.name for p in found] == ["b.TIFF", "c.bmp", "d.jpeg", "e.tif", "f.GIF",
                                       "img1.jpg", "img2.PNG", "img10.png"]
    assert all(p.is_absolute() for p in found)
    assert set(IMAGE_SUFFIXES) == {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif"}


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

    # The whole package on the way included: TensorFlow is imported lazily, by the
    # network's first use, never by reading images.
    code = (
        "import sys\n"
        "import sklearn_cnntexture.io\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------
# check_crop, crop_bottom


@pytest.mark.parametrize("crop, expected", [
    (None, None), (0, 0), (38, 38), (np.int64(5), 5), (0.0, 0.0), (0.1, 0.1),
    (np.float32(0.5), 0.5), ("auto", "auto"),
])
def test_check_crop_valid(crop, expected):
    result = check_crop(crop)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("crop, error", [
    (True, TypeError), (np.bool_(False), TypeError), ([10], TypeError), (1j, TypeError),
    (-1, ValueError), (1.0, ValueError), (1.5, ValueError), (-0.1, ValueError),
    (np.nan, ValueError), ("Auto", ValueError), ("10", ValueError),
])
def test_check_crop_invalid_names_argument_and_forms(crop, error):
    with pytest.raises(error, match=r"crop .*None.*int >= 0.*float in \[0, 1\).*'auto'"):
        check_crop(crop)


def test_crop_int_and_none_give_views():
    image = np.arange(10 * 4 * 3).reshape(10, 4, 3)
    out = crop_bottom(image, 3)
    assert out.shape == (7, 4, 3) and np.shares_memory(out, image)
    np.testing.assert_array_equal(out, image[:7])
    assert crop_bottom(image, None).shape == image.shape
    assert crop_bottom(image, 0).shape == image.shape


@pytest.mark.parametrize("fraction, rows", [(0.08, 38), (0.1, 48), (0.0, 0), (0.001, 0)])
def test_crop_fraction_rounds_to_rows(fraction, rows):
    image = np.zeros((475, 645), np.uint8)  # the UHCS micrograph size
    assert crop_bottom(image, fraction).shape == (475 - rows, 645)


def test_crop_works_on_any_dtype():
    image = np.full((5, 2), "a")
    assert crop_bottom(image, 2).shape == (3, 2)


@pytest.mark.parametrize("crop, rows", [(10, 10), (12, 12), (0.99, 10)])
def test_crop_removing_everything_names_source_crop_and_height(crop, rows):
    pattern = rf"crop={crop}.* {rows} rows of image 3 \(10 rows high\)"
    with pytest.raises(ValueError, match=pattern):
        crop_bottom(np.zeros((10, 4)), crop, source="image 3")


def test_crop_bad_image_shape_names_source():
    with pytest.raises(ValueError, match=r"scan\.tif has shape \(5,\)"):
        crop_bottom(np.zeros(5), 1, source="scan.tif")


def test_crop_bad_crop_is_checked():
    with pytest.raises(TypeError, match="crop"):
        crop_bottom(np.zeros((5, 5)), True)


# --------------------------------------------------------------------------
# find_banner_height: synthetic micrographs


def micrograph(height, width, *, low=30, high=225, seed=0, dtype=np.uint8):
    """Smoothed noise rescaled to [low, high]: a textured stand-in for a micrograph."""
    noise = gaussian_filter(np.random.default_rng(seed).normal(size=(height, width)), 2)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    return (low + noise * (high - low)).astype(dtype)


def add_banner(image, rows, *, background, text, seed=0, separator=None):
    """Write a banner of `rows` rows with text-like boxes (and a line above it) in place."""
    height, width = image.shape[:2]
    rng = np.random.default_rng(seed)
    image[height - rows:] = background
    margin = max(1, rows // 6)  # banners leave a margin above and below the text
    text_columns = range(int(rng.integers(2, 10)), int(0.9 * width), max(8, width // 12))
    for left in text_columns if rows > 2 * margin else []:
        top = int(rng.integers(height - rows + margin, height - margin))
        bottom = int(rng.integers(top, height - margin)) + 1
        image[top:bottom, left:left + int(rng.integers(1, max(2, width // 40)))] = text
    if separator is not None:
        image[height - rows - 1] = separator
    return image


def rendered_banner(height, width, rows, *, background=0, jpeg_quality=None):
    """A micrograph with a banner of real rendered text and a scale bar, optionally JPEG'd."""
    image = Image.fromarray(micrograph(height, width))
    draw = ImageDraw.Draw(image)
    text = 255 - background
    draw.rectangle([0, height - rows, width, height], fill=background)
    font_size = rows * 2 // 3
    draw.text((10, height - rows + (rows - font_size) // 2), "HV 20.0 kV  WD 10.2 mm  5000x",
              fill=text, font=ImageFont.load_default(font_size))
    draw.rectangle([int(0.8 * width), height - rows // 2 - 3, int(0.95 * width),
                    height - rows // 2 + 3], fill=text)
    if jpeg_quality is None:
        return np.array(image)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=jpeg_quality)
    return np.array(Image.open(buffer))


@pytest.mark.parametrize("rows", [10, 24, 60, 150])
def test_black_banner_with_white_text(rows):
    image = add_banner(micrograph(400, 500), rows, background=0, text=255)
    assert find_banner_height(image) == rows


@pytest.mark.parametrize("rows", [12, 40])
def test_white_banner_with_black_text(rows):
    image = add_banner(micrograph(400, 500), rows, background=255, text=0)
    assert find_banner_height(image) == rows


@pytest.mark.parametrize("background, line", [(0, 255), (255, 0), (0, 0)])
def test_separator_line_is_part_of_the_banner(background, line):
    image = add_banner(micrograph(400, 500), 30, background=background, text=255 - background,
                       separator=line)
    assert find_banner_height(image) == 31


def test_rows_of_wide_text_inside_the_banner_are_bridged():
    image = add_banner(micrograph(400, 500), 40, background=0, text=255)
    image[-25:-20, :300] = 255  # 60 % of these rows is a wide scale bar
    assert find_banner_height(image) == 40


@pytest.mark.parametrize("background", [0, 255])
@pytest.mark.parametrize("quality", [None, 90, 75, 50])
def test_rendered_text_banner_survives_jpeg(background, quality):
    image = rendered_banner(480, 640, 36, background=background, jpeg_quality=quality)
    assert find_banner_height(image) == 36


def test_16bit_banner():
    image = micrograph(300, 400, low=5000, high=60000, dtype=np.uint16)
    add_banner(image, 25, background=0, text=65535)
    assert find_banner_height(image) == 25


def test_12bit_data_in_uint16_uses_the_image_range():
    image = micrograph(300, 400, low=300, high=3800, dtype=np.uint16)
    add_banner(image, 25, background=4095, text=0)
    assert find_banner_height(image) == 25


def test_float_banner():
    image = micrograph(300, 400, dtype=np.float32) / np.float32(255)
    add_banner(image, 20, background=1.0, text=0.0)
    assert find_banner_height(image) == 20


def test_rgb_banner():
    gray = add_banner(micrograph(300, 400), 30, background=0, text=255)
    tint = np.array([1.0, 0.9, 0.8])
    image = (gray[:, :, np.newaxis] * tint).astype(np.uint8)
    assert find_banner_height(image) == 30
    assert crop_bottom(image, "auto").shape == (270, 400, 3)


def test_banner_from_a_jpeg_file(tmp_path):
    path = tmp_path / "sem.jpg"
    Image.fromarray(rendered_banner(480, 640, 40)).save(path, quality=85)
    image = read_image(path)
    assert crop_bottom(image, "auto", source=str(path)).shape == (440, 640)


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(100, 500), width=st.integers(100, 500),
    fraction=st.floats(0.03, 0.35), background=st.sampled_from([0, 255]),
    seed=st.integers(0, 2**16),
)
def test_banner_height_found_exactly(height, width, fraction, background, seed):
    rows = max(5, round(fraction * height))
    image = add_banner(micrograph(height, width, seed=seed), rows, background=background,
                       text=255 - background, seed=seed)
    assert find_banner_height(image) == rows
    assert crop_bottom(image, "auto").shape == (height - rows, width)


# --------------------------------------------------------------------------
# find_banner_height: no banner


@pytest.mark.parametrize("image", [
    np.random.default_rng(1).integers(0, 256, (300, 400), dtype=np.uint8),
    micrograph(300, 400),
    micrograph(300, 400, low=0, high=255),  # texture reaching both extremes
    np.zeros((300, 400), np.uint8),  # flat: no banner can be told apart
    np.full((300, 400, 3), 0.5),
], ids=["noise", "micrograph", "full-range", "black", "flat-rgb-float"])
def test_no_banner(image):
    assert find_banner_height(image) == 0
    assert crop_bottom(image, "auto").shape == image.shape


def test_dark_textured_bottom_is_not_a_banner():
    image = micrograph(400, 500, low=60, high=250)
    image[320:] = micrograph(80, 500, low=0, high=70, seed=1)  # dark, but textured
    assert find_banner_height(image) == 0


def test_saturated_bottom_fading_in_is_not_a_banner():
    # Like an over-exposed region: most pixels saturated, texture still showing.
    image = micrograph(400, 500).astype(float)
    ramp = np.linspace(0, 140, 400)[:, np.newaxis]
    image = np.clip(image + ramp, 0, 255).astype(np.uint8)
    saturated = (image >= 245).mean(axis=1)
    assert (saturated[-60:] > 0.6).all() and saturated.max() < 0.98
    assert find_banner_height(image) == 0


def test_too_thin_or_too_tall_is_not_a_banner():
    thin = add_banner(micrograph(400, 500), 2, background=0, text=255)  # a border
    assert find_banner_height(thin) == 0
    tall = add_banner(micrograph(400, 500), 200, background=0, text=255)  # half the image
    assert find_banner_height(tall) == 0


def test_banner_must_touch_the_bottom():
    image = add_banner(micrograph(400, 500), 30, background=0, text=255)
    image[-5:] = micrograph(5, 500, seed=3)
    assert find_banner_height(image) == 0


@pytest.mark.parametrize("image, error, message", [
    (np.zeros(5), ValueError, r"shape \(5,\)"),
    (np.zeros((0, 5)), ValueError, r"shape \(0, 5\)"),
    (np.full((4, 4), np.nan), ValueError, "NaN"),
    (np.full((4, 4), "a"), TypeError, "dtype"),
], ids=["1-d", "empty", "nan", "str"])
def test_find_banner_height_errors_name_source(image, error, message):
    with pytest.raises(error, match="scan.png .*" + message):
        find_banner_height(image, source="scan.png")


# --------------------------------------------------------------------------
# find_banner_height: real micrographs, already cropped


SAMPLE = pathlib.Path(__file__).parents[1] / "sklearn_cnntexture" / "data" / "uhcs_sample"
UHCS = pathlib.Path(__file__).parents[2] / "shared" / "data" / "uhcs-mft3"


def test_no_banner_in_the_shipped_sample():
    files = sorted(SAMPLE.glob("*/*.jpg"))
    assert len(files) == 36
    assert [find_banner_height(read_image(f)) for f in files] == [0] * 36


@pytest.mark.realdata
@pytest.mark.skipif(not UHCS.is_dir(), reason="../shared/data/uhcs-mft3 is absent")
def test_no_banner_in_uhcs_mft3():
    files = sorted(UHCS.glob("*/*.jpg"))
    assert len(files) == 600
    found = {f.name: find_banner_height(read_image(f)) for f in files}
    assert {name: rows for name, rows in found.items() if rows} == {}


# --------------------------------------------------------------------------
# @validate_params: a wrong type or range names the function and the parameter


@pytest.mark.parametrize("call, parameter", [
    (lambda: cio.list_image_files(3), "folder"),
    (lambda: cio.check_no_broken_links([], None), "folder"),
    (lambda: cio.read_image(None), "path"),
    (lambda: cio.read_image_lazily(b"a.png"), "path"),
    (lambda: cio.image_size(["a.png"]), "path"),
    (lambda: cio.image_channels(1), "path"),
    (lambda: cio.read_pixel_size(None), "path"),
    (lambda: cio.to_rgb_float(GRAY8, source=3), "source"),
    (lambda: cio.to_float_intensities(5, float_scale=1.0), "image"),
    (lambda: cio.crop_bottom(GRAY8, -1), "crop"),
    (lambda: cio.crop_bottom(GRAY8, 1.5), "crop"),
    (lambda: cio.crop_bottom(GRAY8, "top"), "crop"),
    (lambda: cio.find_banner_height(GRAY8, source=0), "source"),
    (lambda: cio.resampled_size(480, 0.1, 0.2), "size"),
    (lambda: cio.resampled_size((480, 640), "0.1", 0.2), "pixel_size"),
    (lambda: cio.resample_to_pixel_size([[1.0]], 0.1, 0.2), "image"),
    (lambda: cio.network_input_sizes([GRAY8], resize=0), "resize"),
    (lambda: cio.network_input_sizes([GRAY8], pixel_size=-1.0), "pixel_size"),
    (lambda: cio.network_input_sizes([GRAY8], min_size=0), "min_size"),
    (lambda: cio.network_input_sizes([GRAY8], crop=2.0), "crop"),
])
def test_wrong_argument_types_and_ranges_name_the_parameter(call, parameter):
    with pytest.raises(InvalidParameterError, match=f"^The '{parameter}' parameter of "):
        call()


def test_float_warning_points_at_the_caller_above_the_decorator():
    with pytest.warns(cio.DataWarning, match="far above the 0-255 scale") as record:
        to_rgb_float(np.full((2, 2), 200.0, np.float32))
    assert record[0].filename == __file__
