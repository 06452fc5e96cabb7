"""Images as records: X as a table of images and what is known about each.

Every estimator of the library takes ``X`` as a list of images (file paths or
arrays) or as a pandas DataFrame with one row per image: its ``path`` column
names the image file, and its other columns are data about that image. The
network step reads ``pixel_size`` (micrometres per pixel; empty cells leave it
to the file's metadata); :class:`~sklearn_cnntexture.features.WithColumns`
turns processing records (``anneal_time_minutes``, ``cool_method``, ...) into
features beside the textures. Per-image data thus travels with the images,
through ``Pipeline``, ``GridSearchCV`` and ``clone``, as scikit-learn carries
per-sample data; nothing keyed by file path sits in a constructor.

A data CSV read by :func:`~sklearn_cnntexture.load_image_dataset` is such a
table: its ``frame``.
"""

import math
import os
from numbers import Real

from sklearn.utils._param_validation import Interval, validate_params

from ..exceptions import InputError

__all__ = ["IMAGE_COLUMN", "PIXEL_SIZE_COLUMN", "as_rows", "given_pixel_sizes", "images_of",
           "is_table", "table_of", "take", "with_pixel_sizes"]

#: The column of a table X that holds the image files.
IMAGE_COLUMN = "path"
#: The column of a table X that holds each image's micrometres per pixel.
PIXEL_SIZE_COLUMN = "pixel_size"


def is_table(X):
    """Whether ``X`` is a table of images (a DataFrame), not a list of images."""
    return hasattr(X, "columns") and hasattr(X, "iloc")


def table_of(X):
    """``X`` when it is a table of images (checked: it has a ``path`` column), else None."""
    if not is_table(X):
        return None
    if IMAGE_COLUMN not in X.columns:
        raise InputError(
            f"X is a table without a '{IMAGE_COLUMN}' column (its columns: "
            f"{', '.join(map(str, X.columns))}): the images of a table are the files its "
            f"'{IMAGE_COLUMN}' column names")
    return X


def images_of(X):
    """The images of ``X``: the files of a table's ``path`` column, else ``X`` itself.

    Parameters
    ----------
    X : list of images, array of images, or DataFrame with a ``path`` column

    Returns
    -------
    images : list of str, or ``X`` unchanged when it is not a table
    """
    table = table_of(X)
    if table is None:
        return X
    paths = []
    for row, value in enumerate(table[IMAGE_COLUMN].tolist()):
        if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
            raise InputError(f"X's '{IMAGE_COLUMN}' column has {value!r} in row {row}: each "
                             "row names one image file")
        paths.append(os.fspath(value))
    return paths


def given_pixel_sizes(X):
    """Each image's pixel size as ``X`` gives it, None where it gives none.

    Parameters
    ----------
    X : list of images, array of images, or DataFrame

    Returns
    -------
    sizes : list of (float or None), or None
        From a table's ``pixel_size`` column (an empty cell, NaN, gives
        None); None for a list of images or a table without that column.

    Raises
    ------
    InputError
        Naming the row and its image, for a value that is not a positive
        number of micrometres.
    """
    table = table_of(X)
    if table is None or PIXEL_SIZE_COLUMN not in table.columns:
        return None
    sizes = []
    for row, (path, value) in enumerate(zip(table[IMAGE_COLUMN].tolist(),
                                            table[PIXEL_SIZE_COLUMN].tolist())):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            sizes.append(None)
        elif isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(
                value) and value > 0:
            sizes.append(float(value))
        else:
            raise InputError(f"pixel_size {value!r} in row {row} ('{path}'): a pixel size is a "
                             "positive number of micrometres (an empty cell leaves it to the "
                             "file's metadata)")
    return sizes


def as_rows(X):
    """``X`` as something :func:`take` indexes: a table or array as it is, else a list."""
    return X if is_table(X) or hasattr(X, "shape") else list(X)


def take(X, index):
    """The images (rows) of ``X`` at ``index`` (a slice, or a sequence of positions)."""
    if is_table(X):
        return X.iloc[index]
    if hasattr(X, "shape"):
        return X[index]
    if isinstance(index, slice):
        return list(X[index])
    return [X[i] for i in index]


@validate_params(
    {"X": ["array-like"], "default": [Interval(Real, 0, None, closed="neither"), None]},
    prefer_skip_nested_validation=True,
)
def with_pixel_sizes(X, default=None):
    """A table of ``X``'s images with every pixel size it can know: read once, carried after.

    Each image's pixel size is the one ``X`` gives (a table's ``pixel_size``
    cell), else the one its file records
    (:func:`~sklearn_cnntexture.io.read_pixel_size`), else ``default`` (the
    data set's, where neither says); NaN where none is known, which the
    network step refuses, naming the images, when it resamples. The network
    step then reads no file's metadata again.

    Parameters
    ----------
    X : list of image files, or DataFrame with a ``path`` column
    default : float or None, default=None
        Micrometres per pixel of the images that give none.

    Returns
    -------
    table : pandas.DataFrame
        A copy of ``X`` (a table with a ``path`` column for a list), its
        ``pixel_size`` column filled.
    """
    import pandas as pd

    from . import is_image_path, read_pixel_size  # the package's face, loaded by now

    table = table_of(X)
    table = (pd.DataFrame({IMAGE_COLUMN: [os.fspath(x) for x in X]}) if table is None
             else table.copy())
    sizes = given_pixel_sizes(table) or [None] * len(table)
    for row, (path, size) in enumerate(zip(images_of(table), sizes)):
        if size is None and is_image_path(path):
            size = read_pixel_size(path)
        sizes[row] = default if size is None else size
    table[PIXEL_SIZE_COLUMN] = [math.nan if size is None else float(size) for size in sizes]
    return table
