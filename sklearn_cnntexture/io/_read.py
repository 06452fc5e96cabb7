"""Reading micrograph files: suffixes, listing, headers, whole or lazy reads.

This module has no deep-learning imports, so it is cheap to import. What the
pixels then become (intensities, crops, sizes) is ``_pixels``'s business; a
file's pixel size from its microscope's metadata is ``_metadata``'s, which
opens TIFF files with this module's checks (:func:`check_file`,
:func:`reported_as_unreadable`, :func:`single_page`), so that both report a
bad file alike.

Palette images (PNG, GIF, TIFF) are read as the intensities their palette
gives, never as palette indices: gray where the palette is gray, RGB
otherwise. :func:`image_channels` tells gray content from colour by the
pixels, whatever the file's channel count.

Image size limit
----------------
Every read of ours (:func:`read_image`, :func:`image_size`) refuses an image
of more than :data:`MAX_IMAGE_PIXELS` = 2**30 pixels (1 073 741 824, e.g.
32768 x 32768) from its header, before decoding, with a ``ValueError``
naming the file, its size and the limit. Stitched micrograph mosaics of
hundreds of megapixels are legitimate data and are read; the limit leaves
them several times that room. Above it a header is more likely corrupt, or
a decompression bomb (a few kilobytes claiming billions of pixels), than a
micrograph, and decoding it would take gigabytes (one byte per pixel for
8-bit gray, 12 bytes per pixel once float32 RGB) only to end in an
out-of-memory error or a swapping machine instead of a clear message.
Pillow's own limit (``PIL.Image.MAX_IMAGE_PIXELS``, about 179 megapixels by
default) is a process-wide setting that belongs to the user's
code; it is lifted only while one of our reads runs, and restored as soon as
none does.
"""

import contextlib
import os
import pathlib
import re
import struct
import sys
import threading
import zlib

import numpy as np
import tifffile
from PIL import Image
from sklearn.utils._param_validation import validate_params

from ..exceptions import InputError

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "check_no_broken_links",
    "image_channels",
    "image_size",
    "is_image_path",
    "list_image_files",
    "read_image",
    "read_image_lazily",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")
TIFF_SUFFIXES = (".tif", ".tiff")
# Pillow formats that may hold several frames, of which read_image would
# silently take the first: refused, as a multi-page TIFF is. (Not MPO: a
# camera JPEG's second frame is a preview of the first.)
_ANIMATED_FORMATS = ("GIF", "PNG")

#: The most pixels (height x width) an image file may have; larger ones are
#: refused from their header. See "Image size limit" in the module docstring.
MAX_IMAGE_PIXELS = 2**30

# Pillow modes that numpy cannot use directly, and what they become. Alpha
# channels are dropped: micrograph texture lives in the intensities.
_PILLOW_CONVERSIONS = {
    "1": "L",  # bilevel -> uint8 0/255
    "LA": "L",
    "La": "L",
    "PA": "RGB",
    "RGBA": "RGB",
    "RGBa": "RGB",
    "RGBX": "RGB",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
}

# What Pillow, tifffile and the codecs they call raise on files that are not
# images, or are corrupt or truncated; they do not share a base class.
# zlib.error: tifffile's own deflate decoder (without imagecodecs).
# NotImplementedError: a file using a feature tifffile cannot decode.
# Not here, on purpose: TypeError, AttributeError and the like, which mean a
# bug (ours or a codec's), not a bad file; and RuntimeError, which is a file
# error only when a codec raises it (see _raised_by_codec).
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error,
                  IndexError, KeyError, zlib.error, NotImplementedError)
# imagecodecs (tifffile's codecs: deflate, LZW, JPEG, ...) raises its own
# RuntimeError subclasses, e.g. imagecodecs.ZlibError; tifffile raises plain
# RuntimeError on some malformed files.
_CODEC_PACKAGES = ("PIL", "tifffile", "imagecodecs")


# Parameter constraint of @validate_params of every path parameter (``_metadata``'s too).
PATH_CONSTRAINT = [str, os.PathLike]


class _UnsupportedImageError(ValueError):
    """A readable file holding something read_image deliberately refuses."""


def is_image_path(x):
    """Return whether `x` is a file path (``str`` or ``os.PathLike``).

    Parameters
    ----------
    x : object
        Anything, typically one element of the ``X`` given to a transformer.

    Returns
    -------
    bool
        True for ``str`` (including ``numpy.str_``) and ``os.PathLike``;
        False for ``bytes``, arrays and everything else. The file itself is
        not checked.
    """
    return isinstance(x, (str, os.PathLike))


def _natural_key(path):
    # "micrograph2" sorts before "micrograph10", as a person would expect.
    parts = re.split(r"(\d+)", path.name)
    return [int(p) if p.isdigit() else p.lower() for p in parts], path.name


@validate_params(
    {"folder": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def list_image_files(folder):
    """List the image files directly inside `folder`.

    Parameters
    ----------
    folder : str or os.PathLike
        Directory to list (not searched recursively).

    Returns
    -------
    list of pathlib.Path
        Files whose suffix is in :data:`IMAGE_SUFFIXES` (case-insensitive),
        in natural order (``img2`` before ``img10``). Hidden files (names
        starting with ``"."``, e.g. macOS ``._*`` metadata) are skipped.
        Symbolic links to image files are listed under the link's name.

    Raises
    ------
    FileNotFoundError
        If `folder` does not exist, or if an image name in it is a broken
        symbolic link (its target is missing; the first few are named),
        rather than dropping that image without a word.
    NotADirectoryError
        If `folder` is not a directory.
    """
    folder = pathlib.Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"image folder not found: '{folder}'")
    if not folder.is_dir():
        raise NotADirectoryError(f"expected a folder of images, got a file: '{folder}'")
    candidates = [
        p for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    check_no_broken_links(candidates, folder)
    return sorted((p for p in candidates if p.is_file()), key=_natural_key)


@validate_params(
    {"paths": ["array-like"], "folder": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def check_no_broken_links(paths, folder):
    """Raise if any of `paths` is a symbolic link whose target is missing.

    Parameters
    ----------
    paths : iterable of pathlib.Path
        Entries of `folder`.
    folder : str or os.PathLike
        The folder they were listed from, for the message.

    Raises
    ------
    FileNotFoundError
        Naming the first few broken links and their targets.
    """
    broken = [p for p in paths if p.is_symlink() and not p.exists()]
    if broken:
        named = ", ".join(f"'{p}' -> '{os.readlink(p)}'" for p in broken[:5])
        more = f" and {len(broken) - 5} more" if len(broken) > 5 else ""
        raise FileNotFoundError(
            f"{len(broken)} symbolic link(s) in '{folder}' point to missing files: "
            f"{named}{more}; restore the targets or remove the links"
        )


@validate_params(
    {"path": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def read_image(path):
    """Read one image file into an array in the file's own dtype.

    PNG, JPEG, BMP, GIF (and anything else Pillow reads) go through Pillow;
    ``.tif``/``.tiff`` through tifffile (falling back to Pillow for
    compressions that tifffile needs the optional ``imagecodecs`` package
    for, such as LZW).

    Parameters
    ----------
    path : str or os.PathLike
        The image file.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` for grayscale, ``(H, W, C)`` for colour, in the file's
        dtype: ``uint8`` for 8-bit files, ``uint16`` for 16-bit grayscale
        PNG/TIFF, ``float32`` for float TIFFs, ``int32`` for 32-bit integer
        images. Bilevel images become ``uint8`` 0/255, palette images (PNG,
        GIF, TIFF) the intensities of their palette: grayscale if the palette
        is gray and RGB otherwise (a TIFF's 16-bit colour map of 8-bit
        values as ``uint8``). Alpha channels are
        dropped (LA -> L, RGBA -> RGB). Pillow reads 16-bit-per-channel colour
        PNGs as 8-bit RGB; save such images as TIFF to keep 16 bits.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    IsADirectoryError
        If `path` is a directory.
    ValueError
        If the file is empty, not an image, corrupt, truncated or damaged
        (whatever the codec: deflate, LZW, JPEG, ...), holds a zero-size
        image or one of more than :data:`MAX_IMAGE_PIXELS` pixels, or is a
        TIFF with more than one page or an animated GIF or PNG (a stack is
        not one micrograph; split it first). The message names the file.
    MemoryError
        If the image is within the size limit but does not fit in memory;
        the message names the file.

    See Also
    --------
    image_size : the ``(height, width)`` from the header, without decoding.
    """
    path = check_file(path)
    reader = _read_tiff if path.suffix.lower() in TIFF_SUFFIXES else _read_pillow
    with reported_as_unreadable(path):
        image = reader(path)
    if image.size == 0:
        raise InputError(f"image file '{path}' holds a zero-size image (shape {image.shape})")
    if image.dtype == np.bool_:  # bilevel TIFF; match Pillow's "1" -> "L"
        return image.astype(np.uint8) * np.uint8(255)
    # Big-endian files (TIFF, 16-bit PNG) give e.g. '>u2'; downstream code
    # wants the plain native dtype.
    return image.astype(image.dtype.newbyteorder("="), copy=False)


@validate_params(
    {"path": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def read_image_lazily(path):
    """:func:`read_image`, memory-mapped where the file allows it.

    An uncompressed single-page TIFF in native byte order (how SEMs save
    images, and how mosaics are best kept) is mapped, not read: only the parts
    of it that are used (a tile) are read from disk, so a mosaic larger than
    memory can be tiled. Any other file is read whole with :func:`read_image`.

    Returns
    -------
    numpy.ndarray or numpy.memmap
        The same values, shape and dtype as :func:`read_image` gives.
    """
    path = check_file(path)
    if path.suffix.lower() in TIFF_SUFFIXES:
        with reported_as_unreadable(path), tifffile.TiffFile(path) as tif:
            page = single_page(tif, path)
            _check_pixel_count(path, (page.imagelength, page.imagewidth))
            native = tif.byteorder == ("<" if sys.byteorder == "little" else ">")
            mappable = (native and page.is_memmappable and page.axes in ("YX", "YXS")
                        and page.dtype != np.bool_ and page.imagelength * page.imagewidth > 0
                        and page.photometric != tifffile.PHOTOMETRIC.PALETTE)  # indices
            extra = len(page.extrasamples)
        if mappable:
            with reported_as_unreadable(path):
                image = tifffile.memmap(path, mode="r")
            if image.ndim == 3:  # drop alpha / extra samples, as read_image does
                image = image[..., : image.shape[-1] - extra]
                image = image[..., 0] if image.shape[-1] == 1 else image
            return image
    return read_image(path)


@validate_params(
    {"path": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def image_size(path):
    """Return an image file's ``(height, width)`` from its header, without decoding it.

    Reads the header only (Pillow's lazy ``Image.open``, tifffile's page
    index): about a millisecond per file whatever the image's size, so it
    serves to check a data set's files up front and to estimate the memory
    a read will take (``height * width`` pixels; :func:`read_image` returns
    the same height and width). It applies the same checks to the header as
    :func:`read_image`, including the :data:`MAX_IMAGE_PIXELS` limit; a file
    damaged after its header is only caught when it is read.

    Parameters
    ----------
    path : str or os.PathLike
        The image file.

    Returns
    -------
    tuple of (int, int)
        ``(height, width)`` in pixels.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        As :func:`read_image`, for what the header shows.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> from sklearn_cnntexture.io import image_size
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.png"
    >>> Image.new("L", (640, 480)).save(path)  # Pillow takes (width, height)
    >>> image_size(path)
    (480, 640)
    """
    path = check_file(path)
    with reported_as_unreadable(path):
        if path.suffix.lower() in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                page = single_page(tif, path)
                size = (int(page.imagelength), int(page.imagewidth))
        else:
            with _PILLOW_LIMIT_LIFTED, Image.open(path) as im:
                size = (im.height, im.width)
                _check_single_frame(im, path)
    if 0 in size:
        raise InputError(f"image file '{path}' holds a zero-size image (shape {size})")
    _check_pixel_count(path, size)
    return size


def check_file(path):
    """`path` as a ``pathlib.Path``, refused unless it is an existing, non-empty file.

    Shared with ``_metadata``: the one place a missing, dangling, directory or
    empty path gets its message.
    """
    path = pathlib.Path(path)
    if not path.exists():
        if path.is_symlink():
            raise FileNotFoundError(
                f"image file '{path}' is a symbolic link to '{os.readlink(path)}', which "
                "does not exist"
            )
        raise FileNotFoundError(f"image file not found: '{path}'")
    if path.is_dir():
        raise IsADirectoryError(f"expected an image file, got a directory: '{path}'")
    if path.stat().st_size == 0:
        raise InputError(f"cannot read image file '{path}': the file is empty (0 bytes)")
    return path


def _raised_by_codec(exc):
    """Whether `exc` comes from a codec's own code: its class or its innermost frame."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    modules = [type(exc).__module__]
    if tb is not None:
        modules.append(tb.tb_frame.f_globals.get("__name__", ""))
    return any(module.partition(".")[0] in _CODEC_PACKAGES for module in modules)


def _reason(exc):
    """The codec's complaint on one line, with its type: "decoder error -2 (OSError)"."""
    kind = type(exc).__qualname__
    if type(exc).__module__ != "builtins":
        kind = f"{type(exc).__module__}.{kind}"  # zlib.error, imagecodecs._zlib.ZlibError
    message = " ".join(str(exc).split())
    return f"{message} ({kind})" if message else kind


@contextlib.contextmanager
def reported_as_unreadable(path):
    """Turn every failure to decode `path` into a one-line ValueError naming it."""
    try:
        yield
    except _UnsupportedImageError:
        raise  # already names the file and says what to do
    except _DECODE_ERRORS as exc:
        raise InputError(f"cannot read image file '{path}': {_reason(exc)}") from exc
    except RuntimeError as exc:
        if not _raised_by_codec(exc):
            raise  # a bug, not a bad file
        raise InputError(f"cannot read image file '{path}': {_reason(exc)}") from exc
    except MemoryError as exc:
        # Not a bad file (the size passed the header check): keep the type,
        # add the name.
        raise MemoryError(f"not enough memory to read image file '{path}'") from exc


def _check_pixel_count(path, size):
    height, width = size
    if height * width > MAX_IMAGE_PIXELS:
        raise _UnsupportedImageError(
            f"image file '{path}' is {height} x {width} pixels ({height * width} pixels), "
            f"above the limit of {MAX_IMAGE_PIXELS} pixels that sklearn_cnntexture reads "
            "(io.MAX_IMAGE_PIXELS); split it into tiles or downscale it first"
        )


class _LiftedPillowLimit:
    """Context manager lifting Pillow's global pixel limit while our reads run.

    ``PIL.Image.MAX_IMAGE_PIXELS`` (a warning above it, DecompressionBombError
    above twice it) is one process-wide setting, too small for micrograph
    mosaics, and it is the user's: we apply :data:`MAX_IMAGE_PIXELS` from
    the header ourselves and set Pillow's to None only while a read of ours
    is in progress. Reads are counted, so that concurrent reads in threads
    neither serialize nor restore the limit under each other's feet: the
    first saves the user's value, the last puts it back. (Pillow calls that
    other threads make during one of our reads see the limit lifted; a
    value set by another thread during our read is overwritten on restore.)
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._active = 0
        self._saved = None

    def __enter__(self):
        with self._lock:
            if self._active == 0:
                self._saved = Image.MAX_IMAGE_PIXELS
                Image.MAX_IMAGE_PIXELS = None
            self._active += 1

    def __exit__(self, *exc_info):
        with self._lock:
            self._active -= 1
            if self._active == 0:
                Image.MAX_IMAGE_PIXELS = self._saved


_PILLOW_LIMIT_LIFTED = _LiftedPillowLimit()


def _read_pillow(path):
    # The limit stays lifted through load(): Pillow checks it again there for
    # TIFF files.
    with _PILLOW_LIMIT_LIFTED, Image.open(path) as im:
        _check_pixel_count(path, (im.height, im.width))
        _check_single_frame(im, path)
        im.load()  # decode now, so truncated files raise inside read_image's try
        if im.mode == "P":
            im = im.convert("L" if _has_gray_palette(im) else "RGB")
        elif im.mode in _PILLOW_CONVERSIONS:
            im = im.convert(_PILLOW_CONVERSIONS[im.mode])
        return np.array(im)


def _check_single_frame(im, path):
    """Refuse an animated GIF or PNG: which frame is the micrograph is not ours to guess."""
    if im.format in _ANIMATED_FORMATS and getattr(im, "n_frames", 1) > 1:
        raise _UnsupportedImageError(
            f"{im.format} file '{path}' has {im.n_frames} frames; read_image reads single "
            "images and will not silently pick one frame. Save each frame as its own file."
        )


def _has_gray_palette(im):
    palette = np.asarray(im.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
    return bool(np.all(palette == palette[:, :1]))


def single_page(tif, path):
    """The one page of an open TIFF; a stack is refused (not one micrograph)."""
    n_pages = len(tif.pages)
    if n_pages == 0:
        raise InputError("the TIFF holds no image pages")  # reported as unreadable
    if n_pages > 1:
        raise _UnsupportedImageError(
            f"TIFF file '{path}' has {n_pages} pages; read_image reads single images "
            "and will not silently pick one page. Save each page as its own file."
        )
    return tif.pages[0]


def _read_tiff(path):
    with tifffile.TiffFile(path) as tif:
        page = single_page(tif, path)
        _check_pixel_count(path, (page.imagelength, page.imagewidth))
        try:
            image = page.asarray()
        except ValueError as exc:
            if "imagecodecs" not in str(exc):
                raise
            # e.g. LZW or JPEG compression; Pillow decodes these itself.
            return _read_pillow(path)
        axes, extra_samples = page.axes, len(page.extrasamples)
        colormap = page.colormap if page.photometric == tifffile.PHOTOMETRIC.PALETTE else None
    if image.size == 0:
        return image  # read_image reports zero-size images for all formats
    if colormap is not None:
        # tifffile gives the palette's indices; the micrograph is what they point to.
        return _apply_colormap(image, colormap)
    if axes == "SYX":  # planar RGB is stored channel-first
        image = np.moveaxis(image, 0, -1)
    if image.ndim == 3 and 0 < extra_samples < image.shape[-1]:
        image = image[..., : image.shape[-1] - extra_samples]  # drop alpha/extras
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3):
        raise _UnsupportedImageError(
            f"TIFF file '{path}' holds a {image.ndim}-D image (shape {image.shape}, "
            f"axes {axes!r}); expected a 2-D grayscale or 3-D colour image"
        )
    return image


def _apply_colormap(indices, colormap):
    """A palette TIFF's intensities: gray ``(H, W)`` where the map is gray, else RGB.

    TIFF colour maps hold 16-bit values. Writers store an 8-bit palette as
    ``v * 257`` (the spec's full range) or ``v * 256`` (Pillow, many others):
    either is given back as the 8-bit ``v``, as Pillow reads a palette PNG;
    any other map stays 16-bit.
    """
    colormap = np.asarray(colormap)
    if colormap.ndim == 1:  # tifffile gives a gray map as one row
        colormap = colormap[np.newaxis]
    if np.all(colormap % 257 == 0):
        colormap = (colormap // 257).astype(np.uint8)
    elif np.all(colormap % 256 == 0):
        colormap = (colormap // 256).astype(np.uint8)
    if np.all(colormap == colormap[:1]):
        return colormap[0][indices]
    return np.moveaxis(colormap[:, indices], 0, -1)


@validate_params(
    {"path": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def image_channels(path):
    """Colour channels of an image file's content: 1 (gray) or 3 (colour).

    Decided by the pixels, not by how the file stores them: an RGB, RGBA or
    palette image whose three colour channels are equal at every pixel is
    gray (1), as is a gray palette. This is how much gray content is saved
    (gray micrographs exported as RGB PNGs or JPEGs), and its features are
    exactly those of the gray image: :func:`to_rgb_float` makes a gray image
    three equal channels. One pixel whose channels differ makes the image
    colour (3).

    Alpha is ignored, whatever it holds, as :func:`read_image` drops it: the
    network never sees it.

    Cost: a file stored with one channel (gray PNG, JPEG or TIFF, 16-bit or
    float) is answered from its header. Any other is read once, as
    :func:`read_image` reads it (an uncompressed TIFF memory-mapped, so a
    mosaic is compared a band of rows at a time), and compared channel by
    channel: about a millisecond per megapixel, plus the decoding.

    Parameters
    ----------
    path : str or os.PathLike
        The image file.

    Returns
    -------
    int
        1 or 3.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        As :func:`read_image`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn_cnntexture.io import image_channels
    >>> gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gray-as-rgb.png"
    >>> Image.fromarray(np.dstack([gray, gray, gray])).save(path)  # stored as RGB
    >>> image_channels(path)
    1
    >>> colour = np.dstack([gray, gray, gray])
    >>> colour[3, 5, 0] += 1  # one pixel a shade redder
    >>> Image.fromarray(colour).save(path)
    >>> image_channels(path)
    3
    """
    path = check_file(path)
    with reported_as_unreadable(path):
        if path.suffix.lower() in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                page = single_page(tif, path)
                stored = int(page.samplesperpixel) - len(page.extrasamples)
                if stored <= 1 and page.photometric != tifffile.PHOTOMETRIC.PALETTE:
                    return 1
        else:
            with _PILLOW_LIMIT_LIFTED, Image.open(path) as im:
                if im.mode not in ("P", "PA") and len(im.getbands()) - ("A" in im.getbands()) == 1:
                    return 1
    # Stored as colour (or a palette): the pixels decide.
    image = read_image_lazily(path)
    with reported_as_unreadable(path):
        return 1 if image.ndim == 2 or _channels_equal(image) else 3


#: Elements compared at a time by _channels_equal: a band of rows of a
#: mosaic, so that a memory-mapped TIFF is never read whole into memory.
_COMPARE_ELEMENTS = 2**24


def _channels_equal(image):
    """Whether every pixel of an (H, W, C) image has C equal values."""
    rows = max(1, _COMPARE_ELEMENTS // (image.shape[1] * image.shape[2]))
    for top in range(0, image.shape[0], rows):
        band = np.asarray(image[top:top + rows])
        if not all(np.array_equal(band[..., 0], band[..., c]) for c in range(1, band.shape[2])):
            return False
    return True
