"""Intensities and geometry: pixel values on VGG16's scale, crops, resizes, resampling.

This module has no deep-learning imports, so it is cheap to import.

Intensity convention
--------------------
VGG16's "caffe" preprocessing expects RGB intensities on the 0-255 scale.
:func:`to_rgb_float` maps every supported pixel type onto that scale as
follows (the result is always ``float32`` with shape ``(H, W, 3)``):

=====================================  =====================================
input dtype                            mapping to 0-255
=====================================  =====================================
``uint8``                              used as is
``uint16``                             scaled by 255/65535, so the full
                                       16-bit range maps to 0-255 (16-bit
                                       SEM TIFFs)
``bool``                               ``False``/``True`` -> 0/255
other integers (``int8``-``int64``,    taken as already on the 0-255 scale,
``uint32``, ``uint64``)                unchanged (e.g. ``int64`` arrays
                                       built from 8-bit data)
floats (``float16/32/64``)             multiplied by ``float_scale``
                                       (default 255, i.e. floats are
                                       intensities in [0, 1], scikit-image's
                                       convention; pass ``float_scale=1.0``
                                       for floats already on 0-255)
=====================================  =====================================

Values are never clipped: an out-of-range pixel (a float above 1, a 12-bit
value stored in ``int32``) is passed on unchanged rather than silently
altered. Grayscale images, ``(H, W)`` or ``(H, W, 1)``, are replicated to
three equal channels. Other channel counts (e.g. RGBA) are rejected; drop
the alpha channel first. NaN or infinite pixels are rejected. A float image
whose values, times ``float_scale``, go above 1.5 x 255 (with the default
scale: floats above 1.5) is most likely on the 0-255 scale already; it is
used unchanged, but :func:`to_rgb_float` warns (:class:`DataWarning`),
naming it.
"""

import math
import os
import warnings
from numbers import Integral, Real

import numpy as np
from PIL import Image
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..exceptions import InputError
from ._read import MAX_IMAGE_PIXELS, image_size, is_image_path

__all__ = [
    "CROP_CONSTRAINT",
    "DataWarning",
    "check_crop",
    "crop_bottom",
    "find_banner_height",
    "network_input_sizes",
    "resample_to_pixel_size",
    "resampled_size",
    "resize_image",
    "to_float_intensities",
    "to_rgb_float",
]

# A float image is warned about when its values times float_scale exceed
# this: floats meant as 0-1 intensities rarely overshoot 1 by half (a few
# noisy or processed pixels do overshoot a little), while a 0-255 float
# image goes far above it.
_FLOAT_WARN_FACTOR = 1.5


# Parameter constraints of @validate_params shared by several functions here.
_SOURCE = [str, os.PathLike, None]  # how messages name an image: a path, "image 3"
#: A crop as check_crop takes it (check_crop then refuses booleans and says more):
#: the constraint of every ``crop`` parameter, VGGLayerTransformer's included.
CROP_CONSTRAINT = [Interval(Integral, 0, None, closed="left"), Interval(Real, 0, 1, closed="left"),
         StrOptions({"auto"}), None]
_FLOAT_SCALE = [Interval(Real, 0, None, closed="neither")]


class DataWarning(UserWarning):
    """Something about the data a user should know, though nothing stops.

    Files skipped in a data folder, float pixels far above the scale they are
    read on. A program may show these as one line each (the message says all;
    the line of the library that raised it does not help a user).
    """


def _check_pixel_dtype(array, source):
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{source} has complex dtype {array.dtype}; expected real pixel values")
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.number)):
        raise TypeError(
            f"{source} has unsupported dtype {array.dtype}; expected a numeric image "
            "(uint8, uint16, other integers, float or bool)"
        )


def _check_shape(array, source):
    if array.ndim not in (2, 3):
        raise InputError(
            f"{source} has shape {array.shape}; expected (H, W) grayscale or (H, W, C) colour"
        )
    if array.size == 0:
        raise InputError(f"{source} is empty (shape {array.shape})")
    if array.ndim == 3 and array.shape[2] not in (1, 3):
        raise InputError(
            f"{source} has {array.shape[2]} channels (shape {array.shape}); expected 1 "
            "(grayscale) or 3 (RGB). If the last channel is alpha, drop it first, "
            "e.g. image[..., :3]"
        )


def _to_0_255(array, float_scale):
    """Map pixel values onto the 0-255 scale as float32 (see module docstring)."""
    if array.dtype == np.uint16:
        return array.astype(np.float32) / np.float32(257.0)  # 65535 / 257 == 255 exactly
    if array.dtype == np.bool_:
        return array.astype(np.float32) * np.float32(255.0)
    if np.issubdtype(array.dtype, np.floating):
        # Scale in at least float32: float16 would round 0-255 values coarsely.
        work = array.astype(np.promote_types(array.dtype, np.float32), copy=False)
        with np.errstate(over="ignore"):  # overflow is reported by to_rgb_float
            return (work * float_scale).astype(np.float32, copy=False)
    return array.astype(np.float32)


def _warn_if_far_above_255(values, array, float_scale, source):
    """Warn, naming `source`, when scaled float pixels go far above 255 (module docstring)."""
    if values.max() <= _FLOAT_WARN_FACTOR * 255:
        return
    # A fitted model keeps the scale it was fitted with, so the advice names
    # where a scale is chosen, not the command that happens to be running.
    where = ("where the features are defined (the float_scale of VGGLayerTransformer; "
             "--float-scale of cnntexture study, featurize and fit; a fitted model keeps "
             "its own)")
    if float_scale == 1.0:
        advice = f"set a float_scale that maps its range onto 0-255 {where}"
    else:
        advice = f"if its floats are already on the 0-255 scale, set float_scale=1.0 {where}"
    warnings.warn(
        f"{source} is a float image with values up to {float(array.max()):.4g}, which "
        f"float_scale={float_scale!r} maps to {float(values.max()):.4g}, far above the "
        f"0-255 scale VGG16 expects (floats are read as 0-1 intensities by default); "
        f"{advice}. The values are used unchanged.",
        DataWarning,
        # Three frames below the public functions, then @validate_params'
        # wrapper: the warning points at their caller.
        stacklevel=5,
    )


@validate_params(
    {"image": ["array-like"], "float_scale": _FLOAT_SCALE, "source": _SOURCE},
    prefer_skip_nested_validation=True,
)
def to_rgb_float(image, *, float_scale=255.0, source=None):
    """Convert one image array to float32 RGB intensities on the 0-255 scale.

    Parameters
    ----------
    image : array-like of shape (H, W), (H, W, 1) or (H, W, 3)
        The image, in any dtype listed in the module's intensity convention.
    float_scale : float, default=255.0
        Factor applied to float images: 255.0 for intensities in [0, 1],
        1.0 for floats already on the 0-255 scale. Ignored for other dtypes.
    source : str or os.PathLike, optional
        How to name the image in error messages, e.g. its file path or
        ``"image at index 3"``. Defaults to ``"image"``.

    Returns
    -------
    numpy.ndarray of shape (H, W, 3), dtype float32
        A new array; grayscale input gives three equal channels. Values are
        not clipped.

    Warns
    -----
    DataWarning
        If `image` is a float image whose values times `float_scale` go
        above 1.5 x 255 (with the default scale: floats above 1.5), which
        suggests floats already on the 0-255 scale read with the 0-1 rule.
        One warning per image, naming `source`; the values are used
        unchanged.

    Raises
    ------
    TypeError
        If the dtype is complex, object, string or otherwise not numeric.
    ValueError
        If the image is empty, is not 2-D or 3-D, has a channel count other
        than 1 or 3, or contains NaN or infinite values; or if `float_scale`
        is not a positive finite number.
    """
    values = _float_intensities(image, float_scale, source)
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return values


@validate_params(
    {"image": ["array-like"], "float_scale": _FLOAT_SCALE, "source": _SOURCE},
    prefer_skip_nested_validation=True,
)
def to_float_intensities(image, *, float_scale=255.0, source=None):
    """Like :func:`to_rgb_float`, but keeping the image's channels: (H, W, 1) or (H, W, 3).

    A large gray micrograph then takes a third of the memory while it is
    resampled; the network's tiles are made RGB one at a time.
    """
    return _float_intensities(image, float_scale, source)


def _float_intensities(image, float_scale, source):
    source = "image" if source is None else str(source)
    array = np.asarray(image)
    _check_pixel_dtype(array, source)
    _check_shape(array, source)
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InputError(f"{source} contains NaN or infinite pixel values")
    values = _to_0_255(array, float_scale)
    if not np.isfinite(values).all():
        raise InputError(
            f"{source} has pixel values too large for float32 after scaling by "
            f"float_scale={float_scale!r}"
        )
    if np.issubdtype(array.dtype, np.floating):
        _warn_if_far_above_255(values, array, float_scale, source)
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    return values


def _check_size(size):
    ok = (
        isinstance(size, (tuple, list, np.ndarray))
        and len(size) == 2
        and all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in size)
    )
    if not ok:
        raise InputError(
            f"resize must be a (height, width) pair of positive integers, got {size!r}"
        )
    return int(size[0]), int(size[1])


@validate_params(
    {"image": ["array-like"], "size": [tuple, list, np.ndarray]},
    prefer_skip_nested_validation=True,
)
def resize_image(image, size):
    """Resize an image with bilinear interpolation, channel by channel.

    Uses Pillow in 32-bit float mode ("F") with ``Image.Resampling.BILINEAR``,
    so no precision is lost to 8-bit rounding. When downscaling, Pillow widens
    the bilinear kernel by the scale factor, i.e. it antialiases instead of
    sampling a 2x2 neighbourhood.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W, C)
        The image, normally the float32 output of :func:`to_rgb_float`.
    size : tuple of (int, int)
        Target ``(height, width)``, both >= 1.

    Returns
    -------
    numpy.ndarray of shape (height, width, C), dtype float32
        The resized image; `image` itself (not a copy) when it already has
        that size.

    Raises
    ------
    ValueError
        If `size` is not two positive integers, or `image` is not 3-D.
    """
    height, width = _check_size(size)
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise InputError(f"resize_image expects an (H, W, C) image, got shape {image.shape}")
    if image.shape[:2] == (height, width):
        return image
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(image[:, :, c])).resize(
                (width, height), Image.Resampling.BILINEAR  # Pillow takes (width, height)
            )
        )
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=-1).astype(np.float32, copy=False)


# --------------------------------------------------------------------------
# Cropping the info banner (scale bar, magnification, detector) off SEM images

_CROP_FORMS = (
    "None (no crop), an int >= 0 (rows removed at the bottom), a float in [0, 1) "
    "(fraction of the height removed at the bottom) or 'auto' (detect the info banner "
    "with find_banner_height)"
)

# The banner rule of find_banner_height; its docstring explains each number.
_BANNER_TOLERANCE = 0.05
_BANNER_COVERAGE, _BANNER_PLAIN = 0.6, 0.98
_BANNER_MIN_ROWS, _BANNER_MIN_FRACTION = 3, 0.02
_BANNER_MAX_FRACTION = 0.4
_BANNER_GAP_ROWS, _BANNER_GAP_FRACTION = 2, 0.02


def check_crop(crop):
    """Validate a crop specification and return it in canonical form.

    Parameters
    ----------
    crop : None, int, float or "auto"
        How much to remove from the bottom of each image:

        - ``None``: nothing.
        - int >= 0: that many rows of pixels.
        - float in [0, 1): that fraction of the image height (rounded to
          whole rows by :func:`crop_bottom`).
        - ``"auto"``: the height of the info banner found by
          :func:`find_banner_height` (0 where there is none).

        Booleans are rejected: ``True`` is far more likely a mistake than a
        request to crop one row.

    Returns
    -------
    None, int, float or str
        `crop` as a plain Python ``int``/``float`` (NumPy scalars are
        converted), ``None`` or ``"auto"``.

    Raises
    ------
    TypeError
        If `crop` is of any other type (including ``bool``).
    ValueError
        If `crop` is a negative int, a float outside [0, 1) or NaN, or a
        string other than ``"auto"``.

    Examples
    --------
    >>> from sklearn_cnntexture.io import check_crop
    >>> check_crop(38), check_crop(0.1), check_crop("auto"), check_crop(None)
    (38, 0.1, 'auto', None)
    >>> check_crop(1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_cnntexture.exceptions.InputError: crop as a float is a fraction of the image ...
    """
    if crop is None:
        return crop
    if isinstance(crop, str):
        if crop == "auto":
            return crop
        raise InputError(f"crop must be {_CROP_FORMS}; got the string {crop!r}")  # "Auto", "10"
    if isinstance(crop, (bool, np.bool_)) or not isinstance(crop, Real):
        raise TypeError(f"crop must be {_CROP_FORMS}; got {crop!r} of type {type(crop).__name__}")
    if isinstance(crop, Integral):
        if crop < 0:
            raise InputError(f"crop must be {_CROP_FORMS}; got the negative int {crop!r}")
        return int(crop)
    if not 0 <= crop < 1:  # also rejects NaN
        raise InputError(
            f"crop as a float is a fraction of the image height and must be in [0, 1), got "
            f"{crop!r}; for a number of rows pass an int. crop must be {_CROP_FORMS}"
        )
    return float(crop)


@validate_params(
    {"image": ["array-like"], "crop": CROP_CONSTRAINT, "source": _SOURCE},
    prefer_skip_nested_validation=True,
)
def crop_bottom(image, crop, *, source=None):
    """Remove rows from the bottom of an image, such as an SEM info banner.

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W) or (H, W, C)
        The image, any dtype.
    crop : None, int, float or "auto"
        Rows to remove, see :func:`check_crop`: ``None`` none, an int that
        many, a float ``round(crop * H)`` rows, ``"auto"``
        ``find_banner_height(image)`` rows.
    source : str or os.PathLike, optional
        How to name the image in error messages, e.g. its file path or
        ``"image 3"``. Defaults to ``"image"``.

    Returns
    -------
    numpy.ndarray of shape (H - rows, W) or (H - rows, W, C)
        A view of `image` without its bottom rows (no copy).

    Raises
    ------
    TypeError, ValueError
        If `crop` is not a valid crop (see :func:`check_crop`).
    ValueError
        If `image` is not 2-D or 3-D, or the crop would remove every row; the
        message names `source`, the crop and the image height.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture.io import crop_bottom
    >>> image = np.zeros((100, 80), np.uint8)
    >>> crop_bottom(image, 10).shape
    (90, 80)
    >>> crop_bottom(image, 0.25).shape
    (75, 80)
    >>> crop_bottom(image, 100, source="scan.tif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_cnntexture.exceptions.InputError: crop=100 would remove all 100 rows of scan.tif ...
    """
    crop = check_crop(crop)
    source = "image" if source is None else str(source)
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise InputError(
            f"{source} has shape {image.shape}; expected (H, W) grayscale or (H, W, C) colour"
        )
    height = image.shape[0]
    if crop is None:
        rows = 0
    elif crop == "auto":
        rows = find_banner_height(image, source=source)
    elif isinstance(crop, float):
        rows = round(crop * height)
    else:
        rows = crop
    if rows >= height:
        raise InputError(
            f"crop={crop!r} would remove {'all ' if rows == height else ''}{rows} rows of "
            f"{source} ({height} rows high), leaving no image; use a smaller crop"
        )
    return image[: height - rows]


def _gray_for_banner(image, source):
    array = np.asarray(image)
    _check_pixel_dtype(array, source)
    if array.ndim not in (2, 3) or array.size == 0:
        raise InputError(
            f"{source} has shape {array.shape}; expected a non-empty (H, W) grayscale or "
            "(H, W, C) colour image"
        )
    gray = array.astype(np.float64) if array.ndim == 2 else array.mean(axis=2, dtype=np.float64)
    if not np.isfinite(gray).all():
        raise InputError(f"{source} contains NaN or infinite pixel values")
    return gray


def _extreme_fraction(rows, low, high):
    """Per row, the fraction of pixels at the dark end or at the bright end, the larger."""
    if high == low:
        return np.ones(rows.shape[0])  # a flat image is "all banner", i.e. too tall
    tolerance = _BANNER_TOLERANCE * (high - low)
    dark = (rows <= low + tolerance).mean(axis=1)
    bright = (rows >= high - tolerance).mean(axis=1)
    return np.maximum(dark, bright)


def _banner_depth(fraction, max_gap):
    """Rows from the bottom to the highest plain row of the banner-like block touching it."""
    banner_like = fraction >= _BANNER_COVERAGE
    plain = fraction >= _BANNER_PLAIN
    if not banner_like[-1]:
        return 0
    depth, gap = 0, 0
    for row in range(1, len(fraction) + 1):  # row 1 is the bottom row
        if banner_like[-row]:
            gap = 0
            if plain[-row]:
                depth = row
        else:
            gap += 1
            if gap > max_gap:
                break
    return depth


@validate_params(
    {"image": ["array-like"], "source": _SOURCE},
    prefer_skip_nested_validation=True,
)
def find_banner_height(image, *, source=None):
    """Find the height of the info banner at the bottom of an SEM micrograph.

    SEM software writes the scale bar, magnification, voltage, etc. on a
    band under the micrograph: a flat background, black or white, with text
    in the other colour, often separated from the micrograph by a line.
    Micrograph rows are textured instead. The rule:

    1. Convert to gray (the mean of the channels). Take the image's own
       range, its minimum to its maximum, so that 8-bit, 16-bit and float
       images behave alike; *dark* pixels are within 5 % of the range of
       the minimum, *bright* pixels within 5 % of the maximum.
    2. A row is *banner-like* when at least 60 % of its pixels are dark, or
       at least 60 % are bright: background crossed by text or a scale bar
       (text covers well under 40 % of a row). It is *plain* when at least
       98 % are: a margin of the banner above or below the text, or a
       separator line.
    3. Starting at the bottom row, which must be banner-like, go up through
       the banner-like rows, bridging up to ``max(2, 2 % of H)`` other rows
       (a line of large text). The banner ends at the highest *plain* row of
       that block. Requiring a plain top edge is what tells a banner from a
       micrograph that fades into a saturated region: those rows are mostly
       saturated, never almost all.
    4. Accept it only if it is between ``max(3, ceil(2 % of H))`` rows and
       40 % of H rows high; otherwise return 0. Thinner blocks are borders
       or artifacts; taller ones mean a flat or saturated image, where
       guessing would cut away micrograph.

    On the real data sets we tried (600 UHCS micrographs and 1800 NEU steel
    surface images, all without a banner) the rule finds no banner; on
    synthetic banners with rendered text, saved as JPEG down to quality 50,
    it finds the exact height. It remains a heuristic: a micrograph whose
    bottom rows are flat, saturated black or white looks like a banner.
    Check the result on a few images, or pass an int crop to
    :func:`crop_bottom` where the banner height is known.

    Parameters
    ----------
    image : array-like of shape (H, W) or (H, W, C)
        The micrograph, any real dtype (uint8, uint16, float, ...).
    source : str or os.PathLike, optional
        How to name the image in error messages. Defaults to ``"image"``.

    Returns
    -------
    int
        The banner height in rows, 0 if no banner is found.

    Raises
    ------
    TypeError
        If the image is not numeric.
    ValueError
        If the image is empty, not 2-D or 3-D, or contains NaN or infinite
        values.

    See Also
    --------
    crop_bottom : removes the banner, with ``crop="auto"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture.io import find_banner_height
    >>> rng = np.random.default_rng(0)
    >>> image = rng.integers(0, 256, size=(200, 300), dtype=np.uint8)  # texture
    >>> find_banner_height(image)
    0
    >>> image[180:] = 0                # a black banner of 20 rows ...
    >>> image[185:195, 10:60] = 255    # ... with a white scale bar
    >>> find_banner_height(image)
    20
    """
    source = "image" if source is None else str(source)
    gray = _gray_for_banner(image, source)
    height = gray.shape[0]
    max_rows = int(_BANNER_MAX_FRACTION * height)
    min_rows = max(_BANNER_MIN_ROWS, int(np.ceil(_BANNER_MIN_FRACTION * height)))
    max_gap = max(_BANNER_GAP_ROWS, round(_BANNER_GAP_FRACTION * height))
    # Only the bottom rows can be banner; one row more than allowed (plus a
    # gap) is enough to tell that a uniform block is too tall.
    bottom = gray[-(max_rows + max_gap + 1):]
    depth = _banner_depth(_extreme_fraction(bottom, gray.min(), gray.max()), max_gap)
    return depth if min_rows <= depth <= max_rows else 0


# --------------------------------------------------------------------------
# Physical scale: resampling to a common pixel size (read_pixel_size: _metadata)


@validate_params(
    # Pixel sizes are data (an image's metadata, a CSV column): their range is
    # checked with the image named (resampled_size), as InputError.
    {"image": [np.ndarray], "pixel_size": [Real], "target": [Real], "source": _SOURCE},
    prefer_skip_nested_validation=True,
)
def resample_to_pixel_size(image, pixel_size, target, *, source=None):
    """Resample an image to another physical scale (bilinear, antialiased).

    Parameters
    ----------
    image : numpy.ndarray of shape (H, W, C)
        Normally the float32 output of :func:`to_rgb_float`.
    pixel_size : float
        The image's micrometres per pixel.
    target : float
        The micrometres per pixel wanted: the image grows by
        ``pixel_size / target`` along each side (rounded to whole pixels).
    source : str or os.PathLike, optional
        How to name the image in error messages, e.g. its file path.

    Returns
    -------
    numpy.ndarray of shape (H', W', C), dtype float32

    Raises
    ------
    ValueError
        If the resampled image would be below one pixel or above
        :data:`MAX_IMAGE_PIXELS` (see :func:`resampled_size`), before any
        memory is taken.
    """
    size = resampled_size(image.shape[:2], pixel_size, target, source=source)
    return resize_image(image, size)


@validate_params(
    # Pixel sizes are data (an image's metadata, a CSV column): their range is
    # checked below with the image named, as InputError.
    {"size": [tuple, list], "pixel_size": [Real], "target": [Real], "source": _SOURCE},
    prefer_skip_nested_validation=True,
)
def resampled_size(size, pixel_size, target, *, source=None):
    """The ``(height, width)`` an image of ``size`` takes at another pixel size, checked.

    What :func:`resample_to_pixel_size` makes: each side times
    ``pixel_size / target``, rounded to whole pixels. Computed in floating
    point and checked before anything is allocated, so that a pixel size off
    by orders of magnitude (a metadata tag in the wrong unit, ``1e-300``
    typed for ``1e-3``) is one clear line rather than an OverflowError or a
    MemoryError.

    Parameters
    ----------
    size : tuple of (int, int)
        ``(height, width)`` at ``pixel_size``, e.g. from :func:`image_size`.
    pixel_size : float
        The image's micrometres per pixel.
    target : float
        The micrometres per pixel wanted.
    source : str or os.PathLike, optional
        How to name the image in error messages, e.g. its file path.

    Returns
    -------
    tuple of (int, int)

    Raises
    ------
    ValueError
        If a pixel size is not a positive finite number, or the result would
        be less than one pixel high or wide, or more than
        :data:`MAX_IMAGE_PIXELS` pixels; the message names the image, both
        pixel sizes and the resulting size.

    Examples
    --------
    >>> from sklearn_cnntexture.io import resampled_size
    >>> resampled_size((480, 640), 0.1, 0.2)
    (240, 320)
    >>> resampled_size((480, 640), 1e3, 0.1, source="fei.tif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_cnntexture.exceptions.InputError: fei.tif, 480 x 640 pixels of 1000 um, resampled ...
    """
    problem, new = _resample_problem(size, pixel_size, target, source)
    if problem is not None:
        raise InputError(f"{problem}; {_PIXEL_SIZE_ADVICE}")
    return new


_PIXEL_SIZE_ADVICE = ("check the two pixel sizes (pixel_size, --pixel-size; the image's own "
                      "from its metadata, a pixel_size column or --data-pixel-size)")
_TOO_LARGE = f"above the limit of {MAX_IMAGE_PIXELS} pixels (io.MAX_IMAGE_PIXELS)"


def _resample_problem(size, pixel_size, target, source):
    """(what is wrong, None) for a resampling refused by resampled_size, else (None, size)."""
    source = "image" if source is None else str(source)
    for name, value in (("pixel size", pixel_size), ("target pixel size", target)):
        if isinstance(value, bool) or not isinstance(value, Real) \
                or not (math.isfinite(value) and value > 0):
            return (f"{source}: its {name} {value!r} is not a positive number of micrometres "
                    "per pixel"), None
    height, width = int(size[0]), int(size[1])
    factor = float(pixel_size) / float(target)  # inf or 0.0 at the extremes, never an error
    exact = (height * factor, width * factor)
    where = (f"{source}, {height} x {width} pixels of {float(pixel_size):g} um, resampled to "
             f"{float(target):g} um per pixel would be {_side(exact[0])} x {_side(exact[1])} "
             "pixels")
    # Compared as floats first: round() of an infinite side raises.
    if not exact[0] * exact[1] <= 4 * MAX_IMAGE_PIXELS:
        return f"{where}, {_TOO_LARGE}", None
    new = (round(exact[0]), round(exact[1]))
    if new[0] * new[1] > MAX_IMAGE_PIXELS:
        return f"{where}, {_TOO_LARGE}", None
    if min(new) < 1:
        return f"{where}, less than one pixel", None
    return None, new


def _side(length):
    return f"{length:.4g}" if math.isfinite(length) else "over 1e308"


@validate_params(
    {
        "images": ["array-like"],
        "crop": CROP_CONSTRAINT,
        "resize": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        # Data, one per image or one for all: checked per image, named.
        "image_pixel_sizes": [Real, "array-like", None],
        "min_size": [Interval(Integral, 1, None, closed="left")],
        "needed_by": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def network_input_sizes(images, *, crop=None, resize=None, pixel_size=None,
                        image_pixel_sizes=None, min_size=1, needed_by=None):
    """Each image's ``(height, width)`` as the network gets it, from headers, checked.

    The size after the bottom crop, the resampling to ``pixel_size`` and the
    resize, in the order :class:`~sklearn_cnntexture.VGGLayerTransformer`
    applies them, computed from each file's header (:func:`image_size`:
    about a millisecond a file, no pixels read), so that a data set's
    impossible images are refused, all of them at once, before any image
    goes through the network.

    Parameters
    ----------
    images : sequence of str, os.PathLike or array
        Image files (their headers are read) or arrays (their shape).
    crop : None, int, float or "auto", default=None
        As ``VGGLayerTransformer(crop=...)``. With ``"auto"`` the banner's
        height is only known once the pixels are read: the sizes given are
        those before that crop (the banner takes at most 40 % of the height,
        see :func:`find_banner_height`), and an image is refused only where
        no banner could save or doom it.
    resize : int, (height, width) or None, default=None
        As ``VGGLayerTransformer(resize=...)``: the network's input size
        whatever the rest (the resampling before it is still checked).
    pixel_size : float or None, default=None
        The micrometres per pixel every image is resampled to.
    image_pixel_sizes : float or sequence of float, optional
        Each image's own micrometres per pixel (one number for all, or one per
        image, e.g. ``VGGLayerTransformer.image_pixel_sizes(images)``).
        Required with ``pixel_size``.
    min_size : int, default=1
        The fewest pixels each side must have, e.g. ``2 ** n_pools`` before a
        deep layer of VGG16.
    needed_by : str, optional
        What needs ``min_size``, for the message (e.g. ``"block5_conv3"``).

    Returns
    -------
    list of tuple of (int, int)
        One ``(height, width)`` per image.

    Raises
    ------
    ValueError
        Naming every image (the first few, and a count) whose crop removes
        every row, whose resampled size is below one pixel or above
        :data:`MAX_IMAGE_PIXELS`, or whose size is below ``min_size``; or,
        as :func:`image_size`, files that cannot be read as images.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture.io import network_input_sizes
    >>> images = [np.zeros((100, 80)), np.zeros((12, 300))]
    >>> network_input_sizes(images, crop=10, pixel_size=0.2, image_pixel_sizes=0.1)
    [(45, 40), (1, 150)]
    >>> network_input_sizes(images, crop=10, min_size=16,
    ...                     needed_by="block5_conv3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_cnntexture.exceptions.InputError: 1 of the 2 images is too small for ...
    """
    images = list(images)
    crop = check_crop(crop)
    if resize is not None:
        resize = (resize, resize) if isinstance(resize, Integral) else _check_size(resize)
    sizes_given = _per_image(image_pixel_sizes, len(images)) if pixel_size is not None else None
    sizes, cropped, resampled, small = [], [], [], []
    for index, item in enumerate(images):
        source = f"'{item}'" if is_image_path(item) else f"image {index}"
        height, width = image_size(item) if is_image_path(item) else np.shape(item)[:2]
        low, high = _rows_left(height, crop)
        if high < 1:
            cropped.append(f"{source} ({height} rows high)")
            continue
        if pixel_size is not None:
            problem, new = _resample_problem((high, width), sizes_given[index], pixel_size,
                                             source)
            if problem is not None and low < high and problem.endswith(_TOO_LARGE):
                # An auto crop may leave fewer rows, which may fit: checked when read.
                problem = _resample_problem((low, width), sizes_given[index], pixel_size,
                                            source)[0]
                new = (round(high * sizes_given[index] / pixel_size),
                       round(width * sizes_given[index] / pixel_size))
            if problem is not None:
                resampled.append(problem)
                continue
            high, width = new
        size = tuple(resize) if resize is not None else (high, width)
        sizes.append(size)
        if min(size) < min_size:
            small.append(f"{source} ({size[0]} x {size[1]})")
    problems = resampled + ([f"crop={crop!r} removes every row of {_first_few(cropped)}"]
                            if cropped else [])
    if problems:
        advice = "; ".join(([_PIXEL_SIZE_ADVICE] if resampled else [])
                           + (["use a smaller crop"] if cropped else []))
        n_bad = len(resampled) + len(cropped)
        head = f"{n_bad} of the {len(images)} images cannot go through the network: "
        raise InputError((head if n_bad > 1 else "") + "; ".join(_first(problems))
                         + f"; {advice}")
    if small:
        what = needed_by if needed_by is not None else "the network"
        raise InputError(
            f"{len(small)} of the {len(images)} images {'is' if len(small) == 1 else 'are'} "
            f"too small for {what}, which needs at least {min_size} x {min_size} pixels "
            f"(after crop, resampling and resize): {_first_few(small)}; use a shallower "
            "layer, or resize the images"
        )
    return sizes


_N_LISTED = 5  # how many offending images a message names


def _first_few(items):
    more = f" and {len(items) - _N_LISTED} more" if len(items) > _N_LISTED else ""
    return ", ".join(items[:_N_LISTED]) + more


def _first(problems):
    if len(problems) <= _N_LISTED:
        return problems
    return problems[:_N_LISTED] + [f"and {len(problems) - _N_LISTED} more"]


def _rows_left(height, crop):
    """The fewest and the most rows a crop leaves of ``height`` (they differ for "auto")."""
    if crop is None:
        return height, height
    if crop == "auto":
        return height - int(_BANNER_MAX_FRACTION * height), height
    rows = round(crop * height) if isinstance(crop, float) else crop
    return height - rows, height - rows


def _per_image(sizes, n):
    if sizes is None:
        raise InputError("pixel_size resamples every image: image_pixel_sizes must give "
                         "their own pixel sizes (e.g. VGGLayerTransformer.image_pixel_sizes)")
    if isinstance(sizes, Real) and not isinstance(sizes, bool):
        return [sizes] * n
    sizes = list(sizes)
    if len(sizes) != n:
        raise InputError(f"image_pixel_sizes has {len(sizes)} values for {n} images")
    return sizes
