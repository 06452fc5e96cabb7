"""Thumbnails of the micrographs: small JPEG files in a folder beside a page.

A page shows a micrograph where the reader looks for it (a misclassified
image, a point of the map under the mouse), so each image gets one small file,
named by its position in the data (``thumbs/000012.jpg``): names of images
repeat across class folders, positions do not. 128 pixels on the long side at
JPEG quality 70 is about 3-5 kB for a gray micrograph: 10,000 images stay
tens of megabytes, and the map loads each file only when its point is shown.
"""

from pathlib import Path

import numpy as np

__all__ = ["THUMB_FOLDER", "THUMB_SIZE", "thumbnail_name", "write_thumbnails"]

#: The folder beside a page that holds its thumbnails.
THUMB_FOLDER = "thumbs"
#: Pixels on a thumbnail's long side.
THUMB_SIZE = 128


def thumbnail_name(index):
    """The thumbnail of the ``index``-th image, relative to the page."""
    return f"{THUMB_FOLDER}/{index:06d}.jpg"


def _to_uint8(image):
    """Any image the library reads, as 8-bit gray or RGB for display.

    8-bit images are kept as they are; other depths (16-bit, float) are
    stretched between their own 0.5 and 99.5 percentiles, as a viewer would.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float64)
    low, high = np.nanpercentile(image, [0.5, 99.5])
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return (np.clip(np.nan_to_num(scaled), 0, 1) * 255).astype(np.uint8)


def write_thumbnails(images, directory, *, size=THUMB_SIZE, indices=None):
    """Write one thumbnail per image into ``directory/thumbs/``.

    Parameters
    ----------
    images : sequence of str, path or array
        Image files (read with :func:`~sklearn_cnntexture.io.read_image`) or
        in-memory images.
    directory : path
        The page's folder.
    size : int, default=THUMB_SIZE
        Pixels on the long side (images never grow).
    indices : sequence of int, optional
        The positions of ``images`` in the data (their file names); default
        ``0, 1, ...``.

    Returns
    -------
    names : list of str
        Each thumbnail's path relative to ``directory``.
    """
    from PIL import Image

    from .. import io

    folder = Path(directory) / THUMB_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    indices = range(len(images)) if indices is None else indices
    names = []
    for index, item in zip(indices, images):
        is_file = isinstance(item, (str, bytes)) or hasattr(item, "__fspath__")
        pixels = _to_uint8(io.read_image(item) if is_file else item)
        picture = Image.fromarray(pixels)
        picture.thumbnail((size, size), Image.Resampling.LANCZOS)
        name = thumbnail_name(index)
        picture.convert("L" if pixels.ndim == 2 else "RGB").save(
            Path(directory) / name, quality=70, optimize=True)
        names.append(name)
    return names
