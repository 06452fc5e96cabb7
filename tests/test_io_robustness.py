"""Tests for sklearn_cnntexture.io on damaged, huge and mislabelled images.

Every decoding failure, whatever the codec, is one line naming the file; the
pixel limit is the library's own, not Pillow's global one; float images far
above the documented 0-1 range are warned about.
"""

import re
import struct
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tifffile
from PIL import Image

from sklearn_cnntexture import io as cio
from sklearn_cnntexture.io import (
    MAX_IMAGE_PIXELS,
    DataWarning,
    _read,
    image_size,
    list_image_files,
    read_image,
    to_rgb_float,
)

RNG = np.random.default_rng(0)
GRAY8 = RNG.integers(0, 256, size=(64, 80), dtype=np.uint8)


def named(path):
    return re.escape(str(path))


def unreadable(path):
    """pytest.raises for the library's one-line 'cannot read' error naming `path`."""
    return pytest.raises(ValueError, match="^cannot read image file '" + named(path) + "': .+")


def one_line(excinfo):
    assert "\n" not in str(excinfo.value)


def data_span(path):
    """Offset and length of the first strip or tile of a single-page TIFF."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return page.dataoffsets[0], page.databytecounts[0]


def damage(path, how):
    """Truncate the pixel data of `path` halfway, or flip bits all through it."""
    data = bytearray(path.read_bytes())
    offset, length = data_span(path)
    if how == "truncated":
        data = data[: offset + length // 2] + data[offset + length:]  # keep the IFD if after
        bad = path.with_name(f"truncated-{path.name}")
    else:
        for i in range(offset + 2, offset + length, 7):
            data[i] ^= 0xFF
        bad = path.with_name(f"flipped-{path.name}")
    bad.write_bytes(bytes(data))
    return bad


def write_tiff(path, compression):
    """A TIFF with `compression`: tifffile where it encodes it alone, else Pillow."""
    if compression == "deflate":
        tifffile.imwrite(path, GRAY8, compression="zlib")  # tifffile's own deflate
    else:  # LZW and JPEG need imagecodecs in tifffile; Pillow writes them itself
        Image.fromarray(GRAY8).save(path, compression={"lzw": "tiff_lzw", "jpeg": "jpeg"}[
            compression])
    return path


# --------------------------------------------------------------------------
# Damaged files: every codec's failure is the library's error naming the file


@pytest.mark.parametrize("how", ["truncated", "flipped"])
@pytest.mark.parametrize("compression", ["deflate", "lzw", "jpeg"])
def test_damaged_compressed_tiff_names_the_file(tmp_path, compression, how):
    good = write_tiff(tmp_path / f"{compression}.tif", compression)
    assert read_image(good).shape == GRAY8.shape  # the codec works on the intact file
    bad = damage(good, how)
    with unreadable(bad) as excinfo:
        read_image(bad)
    one_line(excinfo)


def test_damaged_deflate_tiff_was_a_zlib_error(tmp_path):
    # The case: tifffile's deflate decoder raises zlib.error, which
    # is no OSError/ValueError; it must not escape as a raw traceback.
    bad = damage(write_tiff(tmp_path / "d.tif", "deflate"), "flipped")
    with unreadable(bad) as excinfo:
        read_image(bad)
    assert isinstance(excinfo.value.__cause__, zlib.error)
    assert "zlib.error" in str(excinfo.value)


def test_image_size_reads_header_of_damaged_file(tmp_path):
    # The header is intact: the check up front passes, the read names the file.
    bad = damage(write_tiff(tmp_path / "d.tif", "deflate"), "truncated")
    assert image_size(bad) == GRAY8.shape
    with unreadable(bad):
        read_image(bad)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp"])
def test_damaged_pillow_formats_name_the_file(tmp_path, suffix):
    good = tmp_path / f"good{suffix}"
    Image.fromarray(np.tile(GRAY8, (4, 4))).save(good)
    data = bytearray(good.read_bytes())
    for i in range(len(data) // 3, len(data) * 2 // 3, 5):
        data[i] ^= 0xFF
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(bytes(data[: len(data) * 3 // 4]))
    with unreadable(bad) as excinfo:
        read_image(bad)
    one_line(excinfo)


class _CodecError(RuntimeError):
    """Stands in for imagecodecs' errors (e.g. ZlibError), RuntimeError subclasses."""


_CodecError.__module__ = "imagecodecs._zlib"


def _raise(exc):
    def asarray(*args, **kwargs):
        raise exc
    return asarray


def test_imagecodecs_runtime_error_names_the_file(tmp_path, monkeypatch):
    path = write_tiff(tmp_path / "d.tif", "deflate")
    error = _CodecError("ZlibError: Z_DATA_ERROR")
    monkeypatch.setattr(tifffile.TiffPage, "asarray", _raise(error))
    with unreadable(path) as excinfo:
        read_image(path)
    assert excinfo.value.__cause__ is error
    assert "imagecodecs._zlib._CodecError" in str(excinfo.value)


def test_runtime_error_outside_codecs_is_not_hidden(tmp_path, monkeypatch):
    # A RuntimeError raised outside the codecs (here: in this test module) is
    # a bug, not a bad file; it must propagate as is.
    path = write_tiff(tmp_path / "d.tif", "deflate")
    monkeypatch.setattr(tifffile.TiffPage, "asarray", _raise(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="^a bug$"):
        read_image(path)


@pytest.mark.parametrize("error", [TypeError("bug"), AttributeError("bug")])
def test_programming_errors_are_not_hidden(tmp_path, monkeypatch, error):
    path = write_tiff(tmp_path / "d.tif", "deflate")
    monkeypatch.setattr(tifffile.TiffPage, "asarray", _raise(error))
    with pytest.raises(type(error), match="^bug$"):
        read_image(path)


def test_memory_error_names_the_file(tmp_path, monkeypatch):
    path = write_tiff(tmp_path / "d.tif", "deflate")
    monkeypatch.setattr(tifffile.TiffPage, "asarray", _raise(MemoryError()))
    with pytest.raises(MemoryError, match=named(path)):
        read_image(path)


def test_dangling_symlink_names_link_and_target(tmp_path):
    link = tmp_path / "gone.png"
    link.symlink_to(tmp_path / "missing.png")
    for function in (read_image, image_size):
        with pytest.raises(FileNotFoundError, match=named(link) + ".*missing\\.png"):
            function(link)


# --------------------------------------------------------------------------
# Pixel limit: ours, from the header; Pillow's global one left to the user


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_zero_png(path, height, width, *, bit_depth=1, complete=True):
    """Write a grayscale PNG of zeros row by row, without holding it in memory.

    With ``complete=False`` only the first row is stored: a valid header
    over truncated pixel data, enough for header checks.
    """
    row = bytes(1 + (width * bit_depth + 7) // 8)  # filter byte 0, then zeros
    compressor = zlib.compressobj(9)
    rows = height if complete else 1
    idat = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
                     + _chunk(b"IEND", b""))
    return path


def test_limit_is_documented_value():
    assert MAX_IMAGE_PIXELS == 2**30
    assert "MAX_IMAGE_PIXELS" in cio.__all__ and "image_size" in cio.__all__


def test_header_of_mosaic_above_pillow_limit(tmp_path):
    # 400 Mpx: above twice Pillow's default limit, where Image.open raises
    # DecompressionBombError; a legitimate mosaic for this library.
    path = write_zero_png(tmp_path / "mosaic.png", 20000, 20000, complete=False)
    assert path.stat().st_size < 10_000
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert image_size(path) == (20000, 20000)
    assert time.perf_counter() - start < 1.0  # header only


def test_read_ignores_pillow_global_limit_and_restores_it(tmp_path, monkeypatch):
    # Pillow errors above 2 * MAX_IMAGE_PIXELS: 64 x 80 = 5120 > 2 * 1000.
    path = tmp_path / "small.png"
    Image.fromarray(GRAY8).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(Image.DecompressionBombError):  # the user's own code still sees it
        Image.open(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(read_image(path), GRAY8)
        assert image_size(path) == GRAY8.shape
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_pillow_limit_restored_after_failed_read(tmp_path, monkeypatch):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1234)
    with unreadable(bad):
        read_image(bad)
    assert Image.MAX_IMAGE_PIXELS == 1234


def test_pillow_tiff_fallback_ignores_pillow_limit(tmp_path, monkeypatch):
    # LZW goes through Pillow, which checks its limit again when loading.
    path = write_tiff(tmp_path / "lzw.tif", "lzw")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    np.testing.assert_array_equal(read_image(path), GRAY8)
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_concurrent_reads_restore_pillow_limit(tmp_path, monkeypatch):
    paths = []
    for i in range(8):
        paths.append(tmp_path / f"img{i}.png")
        Image.fromarray(np.tile(GRAY8, (8, 8))).save(paths[-1])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with ThreadPoolExecutor(max_workers=4) as pool:  # map re-raises a worker's error
        images = list(pool.map(read_image, paths * 5))
    assert all(image.shape == (512, 640) for image in images)
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_read_real_mosaic_above_pillow_warning_limit(tmp_path):
    # 13400 x 13400 = 179.6 Mpx, above Pillow's default 178.9 Mpx (where it
    # warns of a decompression bomb). 1-bit zeros: a 20 kB file; reading it
    # takes about a second and a few hundred MB.
    path = write_zero_png(tmp_path / "mosaic.png", 13400, 13400)
    assert Image.MAX_IMAGE_PIXELS is not None and 13400**2 > Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = read_image(path)
    assert image.shape == (13400, 13400) and image.dtype == np.uint8
    assert not image.any()


@pytest.mark.parametrize("function", [read_image, image_size])
def test_absurd_png_refused_from_header(tmp_path, function):
    path = write_zero_png(tmp_path / "bomb.png", 40000, 30000, complete=False)
    pattern = (f"^image file '{named(path)}' is 40000 x 30000 pixels \\(1200000000 pixels\\), "
               f"above the limit of {MAX_IMAGE_PIXELS} ")
    start = time.perf_counter()
    with pytest.raises(ValueError, match=pattern) as excinfo:
        function(path)
    assert time.perf_counter() - start < 1.0  # refused before decoding
    one_line(excinfo)


def _tiff_claiming(path, height, width):
    """A small TIFF whose header claims `height` x `width` pixels."""
    tifffile.imwrite(path, GRAY8)
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tags = tif.pages[0].tags
        tags["ImageLength"].overwrite(height)
        tags["ImageWidth"].overwrite(width)
    return path


@pytest.mark.parametrize("function", [read_image, image_size])
def test_absurd_tiff_refused_from_header(tmp_path, function):
    path = _tiff_claiming(tmp_path / "bomb.tif", 70000, 70000)
    with pytest.raises(ValueError, match=f"^image file '{named(path)}' is 70000 x 70000 "):
        function(path)


def test_image_at_limit_passes_header_check(tmp_path):
    side = 2**15  # 32768 x 32768 == MAX_IMAGE_PIXELS exactly
    path = write_zero_png(tmp_path / "edge.png", side, side, complete=False)
    assert image_size(path) == (side, side)
    over = write_zero_png(tmp_path / "over.png", side, side + 1, complete=False)
    with pytest.raises(ValueError, match="above the limit"):
        image_size(over)


# --------------------------------------------------------------------------
# image_size agrees with read_image


@pytest.mark.parametrize("kind", ["png-gray", "png-rgb", "jpeg", "bmp", "tiff-gray",
                                  "tiff-rgb", "tiff-planar", "tiff-lzw", "tiff-float"])
def test_image_size_matches_read_image(tmp_path, kind):
    rgb = np.stack([GRAY8] * 3, axis=-1)
    path = tmp_path / ("x.tif" if kind.startswith("tiff") else f"x.{kind.split('-')[0]}")
    if kind == "png-rgb":
        Image.fromarray(rgb).save(path)
    elif kind in ("png-gray", "jpeg", "bmp"):
        Image.fromarray(GRAY8).save(path)
    elif kind == "tiff-lzw":
        write_tiff(path, "lzw")
    elif kind == "tiff-planar":
        tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    else:
        data = {"tiff-gray": GRAY8, "tiff-rgb": rgb, "tiff-float": GRAY8 / np.float32(255)}[kind]
        tifffile.imwrite(path, data)
    assert image_size(path) == read_image(path).shape[:2] == GRAY8.shape


def test_image_size_errors_like_read_image(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with unreadable(text):
        image_size(text)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.zeros((3, 4, 5), np.uint8), photometric="minisblack")
    with pytest.raises(ValueError, match=named(stack) + ".* 3 pages"):
        image_size(stack)
    with pytest.raises(FileNotFoundError, match=named(tmp_path / "nope.png")):
        image_size(tmp_path / "nope.png")


# --------------------------------------------------------------------------
# Float images far above the documented 0-1 range


def test_float_0_255_image_warns_naming_it():
    image = np.linspace(0, 255, 30, dtype=np.float32).reshape(5, 6)
    with pytest.warns(DataWarning, match=r"^scan\.tif is a float image with values up to 255, "
                      r"which float_scale=255\.0 maps to 6\.502e\+04.*float_scale=1\.0 "
                      r"where the features are defined .*--float-scale of cnntexture study, "
                      r"featurize and fit") as record:
        out = to_rgb_float(image, source="scan.tif")
    assert len(record) == 1
    np.testing.assert_array_equal(out[..., 0], image * 255)  # values not altered


@pytest.mark.parametrize("maximum", [0.0, 1.0, 1.2, 1.5])
def test_float_near_0_1_does_not_warn(maximum):
    image = np.linspace(0, maximum, 30).reshape(5, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_rgb_float(image)


def test_float_just_above_threshold_warns():
    with pytest.warns(UserWarning, match="^image is a float image"):
        to_rgb_float(np.array([[0.0, 1.51]]))


def test_float_scale_one_on_0_255_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_rgb_float(np.array([[0.0, 255.0]]), float_scale=1.0)


def test_float_scale_one_far_above_advises_another_scale():
    with pytest.warns(DataWarning, match="set a float_scale that maps its range onto 0-255 where"):
        to_rgb_float(np.array([[0.0, 65535.0]]), float_scale=1.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32])
def test_integer_images_never_warn(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_rgb_float(np.array([[0, 200]], dtype=dtype))


def test_float_tiff_on_0_255_warns_with_its_path(tmp_path):
    path = tmp_path / "float255.tif"
    tifffile.imwrite(path, GRAY8.astype(np.float32))
    with pytest.warns(UserWarning, match=named(path)):
        to_rgb_float(read_image(path), source=path)


# --------------------------------------------------------------------------
# Broken symbolic links in a folder are reported, not dropped


def test_list_image_files_reports_broken_link(tmp_path):
    Image.fromarray(GRAY8).save(tmp_path / "a.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "elsewhere" / "b.png")
    with pytest.raises(FileNotFoundError,
                       match=r"^1 symbolic link\(s\) in '" + named(tmp_path)
                       + r"' point to missing files: '" + named(tmp_path / "b.png")) as excinfo:
        list_image_files(tmp_path)
    one_line(excinfo)


def test_list_image_files_follows_good_links_and_ignores_other_broken_ones(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    Image.fromarray(GRAY8).save(real / "a.png")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.png").symlink_to(real / "a.png")
    (folder / "notes.txt").symlink_to(tmp_path / "missing.txt")  # not an image name
    (folder / ".hidden.png").symlink_to(tmp_path / "missing.png")  # hidden: skipped
    assert list_image_files(folder) == [folder / "a.png"]


def test_list_image_files_names_first_broken_links(tmp_path):
    for i in range(7):
        (tmp_path / f"gone{i}.tif").symlink_to(tmp_path / f"target{i}.tif")
    with pytest.raises(FileNotFoundError, match=r"^7 symbolic link.* and 2 more"):
        list_image_files(tmp_path)


# --------------------------------------------------------------------------
# Issue 18: gray content stored as colour, palettes, GIFs


def _gray_as(path, mode):
    """GRAY8 written by Pillow in ``mode``: the same gray content, stored otherwise."""
    if mode == "RGB":
        Image.fromarray(np.dstack([GRAY8] * 3)).save(path)
    elif mode == "RGBA":
        Image.fromarray(np.dstack([GRAY8] * 3 + [np.full_like(GRAY8, 7)])).save(path)
    elif mode == "P":  # a gray palette whose indices are not the intensities
        image = Image.fromarray(255 - GRAY8).convert("P")  # indices into Pillow's own map
        image.putpalette([v for k in range(256) for v in (255 - k,) * 3])
        image.save(path)
    return path


@pytest.mark.parametrize("name, mode", [("rgb.png", "RGB"), ("rgba.png", "RGBA"),
                                        ("palette.png", "P"), ("rgb.jpg", "RGB"),
                                        ("rgb.tif", "RGB"), ("palette.gif", "P")])
def test_gray_content_stored_as_colour_or_palette_is_gray(tmp_path, name, mode):
    path = tmp_path / name
    if name == "rgb.tif":
        tifffile.imwrite(path, np.dstack([GRAY8] * 3), photometric="rgb")
    else:
        _gray_as(path, mode)
    assert cio.image_channels(path) == 1
    values = to_rgb_float(read_image(path))
    if name != "rgb.jpg":  # JPEG is lossy: equal channels, not GRAY8's values
        np.testing.assert_array_equal(values, to_rgb_float(GRAY8))  # the gray image's input
    assert np.all(values == values[..., :1])


def test_one_coloured_pixel_makes_an_image_colour(tmp_path):
    colour = np.dstack([GRAY8] * 3)
    colour[-1, -1, 2] ^= 1  # the last pixel, a shade bluer
    Image.fromarray(colour).save(tmp_path / "almost.png")
    assert cio.image_channels(tmp_path / "almost.png") == 3
    palette = Image.fromarray(GRAY8 // 16).convert("P")
    palette.putpalette([v for k in range(16) for v in (k * 16, k * 16, 255 - k * 16)])
    palette.save(tmp_path / "colour-palette.png")
    assert cio.image_channels(tmp_path / "colour-palette.png") == 3
    assert read_image(tmp_path / "colour-palette.png").shape == GRAY8.shape + (3,)


def test_a_mosaic_is_compared_a_band_at_a_time_to_its_last_pixel(tmp_path, monkeypatch):
    monkeypatch.setattr(_read, "_COMPARE_ELEMENTS", 3 * 80 * 5)  # bands of 5 rows
    rgb = np.dstack([GRAY8] * 3)
    tifffile.imwrite(tmp_path / "gray.tif", rgb, photometric="rgb")  # memory-mapped
    assert isinstance(cio.read_image_lazily(tmp_path / "gray.tif"), np.memmap)
    assert cio.image_channels(tmp_path / "gray.tif") == 1
    rgb[-1, -1, 1] += 1
    tifffile.imwrite(tmp_path / "colour.tif", rgb, photometric="rgb")
    assert cio.image_channels(tmp_path / "colour.tif") == 3


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_one_channel_files_are_gray_from_the_header(tmp_path, dtype, monkeypatch):
    path = tmp_path / "gray.tif"
    tifffile.imwrite(path, GRAY8.astype(dtype))
    monkeypatch.setattr(_read, "read_image_lazily", None)  # no pixels read
    assert cio.image_channels(path) == 1


def test_palette_tiff_is_read_as_its_intensities_not_its_indices(tmp_path):
    gray_map = np.tile(np.arange(255, -1, -1, dtype=np.uint16) * 257, (3, 1))
    tifffile.imwrite(tmp_path / "gray.tif", GRAY8, photometric="palette", colormap=gray_map)
    for read in (read_image, cio.read_image_lazily):
        np.testing.assert_array_equal(read(tmp_path / "gray.tif"), 255 - GRAY8)
    assert cio.image_channels(tmp_path / "gray.tif") == 1
    colour_map = gray_map // 257 * 256  # Pillow's v * 256 convention
    colour_map[2] = np.arange(256, dtype=np.uint16) * 256
    tifffile.imwrite(tmp_path / "colour.tif", GRAY8, photometric="palette", colormap=colour_map)
    image = read_image(tmp_path / "colour.tif")
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image, np.dstack([255 - GRAY8, 255 - GRAY8, GRAY8]))
    assert cio.image_channels(tmp_path / "colour.tif") == 3


def test_a_gif_is_read_and_an_animated_one_refused(tmp_path):
    Image.fromarray(GRAY8).save(tmp_path / "still.gif")
    np.testing.assert_array_equal(read_image(tmp_path / "still.gif"), GRAY8)
    assert image_size(tmp_path / "still.gif") == GRAY8.shape
    frames = [Image.fromarray(GRAY8), Image.fromarray(255 - GRAY8)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    for name in ("anim.gif", "anim.png"):
        for read in (read_image, image_size):
            with pytest.raises(ValueError, match=named(tmp_path / name) + "' has 2 frames"):
                read(tmp_path / name)


# --------------------------------------------------------------------------
# Issue 18: pixel sizes off by orders of magnitude, sizes checked from headers


@pytest.mark.parametrize("pixel_size, target, problem", [
    (1.0, 1e-300, "above the limit"),      # --pixel-size 1e-300
    (1e308, 0.1, "above the limit"),       # --data-pixel-size 1e308
    (0.1, 1e-4, "above the limit"),        # 1e-4 um wanted of 0.1 um data
    (1e9, 0.1, "above the limit"),         # FEI PixelWidth=1e3 metres
    (1e-300, 1.0, "less than one pixel"),
    (0.1, 1e308, "less than one pixel"),
])
def test_extreme_pixel_size_ratios_are_one_line_before_any_memory(pixel_size, target, problem):
    expected = (f"scan.tif, 64 x 80 pixels of {pixel_size:g} um, resampled to {target:g} um "
                "per pixel would be ")
    with pytest.raises(ValueError, match=rf"^{re.escape(expected)}.* pixels, {problem}"):
        cio.resampled_size((64, 80), pixel_size, target, source="scan.tif")
    image = np.zeros((64, 80, 1), np.float32)
    with pytest.raises(ValueError, match=r"^scan\.tif, 64 x 80 pixels"):
        cio.resample_to_pixel_size(image, pixel_size, target, source="scan.tif")


def test_resampled_size_at_the_limit():
    assert cio.resampled_size((64, 80), 0.1, 0.2) == (32, 40)
    side = 2**15  # 2**30 pixels exactly: read, so resampled to
    assert cio.resampled_size((side // 2, side // 2), 2.0, 1.0) == (side, side)
    with pytest.raises(ValueError, match="above the limit of 1073741824 pixels"):
        cio.resampled_size((side // 2, side // 2 + 1), 2.0, 1.0)


def test_fei_pixel_width_in_kilometres_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "fei.tif"
    tifffile.imwrite(path, GRAY8, extratags=[(34682, "s", 0, "[Scan]\nPixelWidth=1000\n", True)])
    size = cio.read_pixel_size(path)
    assert size == 1e9
    with pytest.raises(ValueError, match=rf"^'{named(path)}', 64 x 80 pixels of 1e\+09 um, "
                       r"resampled to 0\.1 um per pixel would be 6\.4e\+11 x 8e\+11 pixels"):
        cio.network_input_sizes([path], pixel_size=0.1, image_pixel_sizes=[size])


def _pngs(folder, shapes):
    folder.mkdir(exist_ok=True)
    paths = []
    for k, shape in enumerate(shapes):
        Image.fromarray(np.zeros(shape, np.uint8)).save(folder / f"img{k}.png")
        paths.append(str(folder / f"img{k}.png"))
    return paths


def test_network_input_sizes_from_headers_after_crop_resampling_and_resize(tmp_path):
    paths = _pngs(tmp_path, [(100, 80), (40, 60)])
    assert cio.network_input_sizes(paths) == [(100, 80), (40, 60)]
    assert cio.network_input_sizes(paths, crop=20) == [(80, 80), (20, 60)]
    assert cio.network_input_sizes(paths, crop=0.5) == [(50, 80), (20, 60)]
    assert cio.network_input_sizes(paths, crop=20, pixel_size=0.2,
                                   image_pixel_sizes=[0.1, 0.4]) == [(40, 40), (40, 120)]
    assert cio.network_input_sizes(paths, resize=(30, 31)) == [(30, 31), (30, 31)]
    # An automatic crop's banner is known once read: the size before it.
    assert cio.network_input_sizes(paths, crop="auto") == [(100, 80), (40, 60)]


def test_network_input_sizes_name_every_image_too_small(tmp_path):
    shapes = [(100, 100)] + [(8, 100)] * 6 + [(100, 9)]
    paths = _pngs(tmp_path, shapes)
    with pytest.raises(ValueError) as info:
        cio.network_input_sizes(paths, min_size=16, needed_by="block5_conv3")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("7 of the 8 images are too small for block5_conv3, which needs "
                              "at least 16 x 16 pixels (after crop, resampling and resize): ")
    assert f"'{paths[1]}' (8 x 100)" in message and message.count("(8 x 100)") == 5
    assert message.endswith("and 2 more; use a shallower layer, or resize the images")
    # resize decides the network's input: the same images then pass
    assert cio.network_input_sizes(paths, min_size=16, resize=32) == [(32, 32)] * 8
    # a crop that removes every row, and resampling out of range, are named all together
    with pytest.raises(ValueError) as info:
        cio.network_input_sizes(paths, crop=8, pixel_size=1.0,
                                image_pixel_sizes=[1e3] + [1.0] * 7)
    message = str(info.value)
    assert message.startswith(f"7 of the 8 images cannot go through the network: '{paths[0]}', "
                              "92 x 100 pixels of 1000 um, resampled to 1 um per pixel would "
                              "be 9.2e+04 x 1e+05 pixels, above the limit of 1073741824 pixels")
    assert f"; crop=8 removes every row of '{paths[1]}' (8 rows high), " in message
    assert message.endswith("(8 rows high) and 1 more; check the two pixel sizes (pixel_size, "
                            "--pixel-size; the image's own from its metadata, a pixel_size "
                            "column or --data-pixel-size); use a smaller crop")
    with pytest.raises(ValueError, match="image_pixel_sizes must give"):
        cio.network_input_sizes(paths, pixel_size=1.0)


def test_network_input_sizes_auto_crop_refuses_only_what_no_banner_changes(tmp_path):
    paths = _pngs(tmp_path, [(20, 100), (12, 100)])
    # 20 rows may keep 20 (no banner): allowed now, checked when read; 12 never reach 16.
    with pytest.raises(ValueError, match=rf"^1 of the 2 images is too small .*"
                       rf"'{re.escape(paths[1])}' \(12 x 100\); use"):
        cio.network_input_sizes(paths, crop="auto", min_size=16)
