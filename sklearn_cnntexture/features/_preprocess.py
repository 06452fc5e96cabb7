"""The one preprocessing of an image before VGG16: crop, intensities, pixel size, resize.

Every path that puts an image through the network goes through
:func:`prepare`: the lazy activations (features and the cache) and the heat
maps of ``explain.activation_heatmap`` and ``predict.heatmap_figure``, which
must show where a filter fires on the very pixels the features came from.
Written once, the paths cannot drift apart (they did: each heat map
preprocessed on its own, and only one of them resampled to the pixel size).

The steps, in order, each only when the preprocessing asks for it:

1. ``crop``: banner rows removed at the bottom (a view, no copy);
2. intensities: float on the 0-255 scale, keeping the channels (gray stays
   one channel);
3. ``pixel_size``: resampled from the image's own micrometres per pixel;
4. ``resize``: to a fixed (height, width).

Step 2 runs only when 3 or 4 do. Otherwise the image stays in its own dtype
and channels and is made float RGB at the network's door, a tile at a time
for a large image: an 8-bit mosaic is never held whole as float RGB, twelve
times its size.
"""

import dataclasses

import numpy as np

from .. import io
from .weights import weights_fingerprint


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """Everything that decides an image's activations, besides the image and the layer.

    The cache key is made of every field (:meth:`fingerprint`), so a field
    added here is part of the key without anyone listing it; a field at its
    default is left out, so adding one keeps the entries already cached valid.
    """

    weights_key: tuple  # from weights.resolve_weights
    resize: tuple | None = None  # (height, width) or None
    crop: object = None  # None, rows (int), fraction (float) or "auto"
    float_scale: float = 255.0
    precision: str = "float32"  # of the forward pass, see _backbone.PRECISIONS
    # Micrometres per pixel every image is resampled to; None keeps the pixels.
    pixel_size: float | None = None

    def fingerprint(self):
        """A JSON-able dict naming this configuration, the weights by content."""
        values = {"weights": weights_fingerprint(self.weights_key)}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name != "weights_key" and value != field.default:
                values[field.name] = value
        return values


@dataclasses.dataclass(frozen=True, eq=False)
class PreparedImage:
    """An image as the network will see it, all but its RGB conversion.

    ``array`` is (H, W) or (H, W, C) in the file's dtype, or float on the
    0-255 scale once resampled or resized; ``float_scale`` takes its values to
    that scale. ``cropped`` (kept only when asked) is the image as read, after
    ``crop``: what a heat map is drawn on.
    """

    array: np.ndarray
    float_scale: float
    source: str
    cropped: np.ndarray | None = None

    @property
    def size(self):
        """(height, width) at the network's input."""
        return tuple(self.array.shape[:2])

    def rgb(self, rows=slice(None), cols=slice(None)):
        """Float32 RGB on the 0-255 scale of the whole image, or of one tile."""
        return io.to_rgb_float(self.array[rows, cols], float_scale=self.float_scale,
                               source=self.source)


def source_name(item, index=None):
    """How messages name an image: its path, or its index in the input."""
    if io.is_image_path(item):
        return f"'{item}'"
    return "image" if index is None else f"image at index {index}"


def prepare(item, preprocessing, *, pixel_size=None, source=None, keep_cropped=False):
    """One image (a file path or an array) preprocessed for the network.

    Parameters
    ----------
    item : str, path or ndarray
        The image. A file is memory-mapped where its format allows, so a
        large TIFF is read a tile at a time.
    preprocessing : Preprocessing
        ``crop``, ``float_scale``, ``pixel_size`` and ``resize`` are used.
    pixel_size : float or None
        The image's own micrometres per pixel; needed when
        ``preprocessing.pixel_size`` is set.
    source : str or None
        How messages name the image; by default from ``item``.
    keep_cropped : bool, default=False
        Keep the cropped image as read in the result (for a heat map). Off by
        default: it would hold a large image's file pixels while its
        resampled pixels go through the network.

    Returns
    -------
    PreparedImage
    """
    source = source_name(item) if source is None else source
    image = io.read_image_lazily(item) if io.is_image_path(item) else np.asarray(item)
    if preprocessing.crop is not None:
        image = io.crop_bottom(image, preprocessing.crop, source=source)
    cropped = image if keep_cropped else None
    float_scale = preprocessing.float_scale
    if preprocessing.pixel_size is not None or preprocessing.resize is not None:
        image = io.to_float_intensities(image, float_scale=float_scale, source=source)
        float_scale = 1.0  # on the 0-255 scale now
        if preprocessing.pixel_size is not None:
            if pixel_size is None:  # callers look sizes up first: a bug if it happens
                raise ValueError(f"{source} needs its own pixel size to be resampled")
            image = io.resample_to_pixel_size(image, pixel_size, preprocessing.pixel_size,
                                              source=source)
        if preprocessing.resize is not None:
            image = io.resize_image(image, preprocessing.resize)
    return PreparedImage(image, float_scale, source, cropped)
