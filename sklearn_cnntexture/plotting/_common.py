"""What every figure shares: the colours, the font size, saving, layer names, images.

The Okabe-Ito colour scheme of the figures (one colour and marker per encoder, the same
in every figure; the classes' colours), :func:`save_figure`, :func:`layer_label`, and
the helpers the study and the explanation figures both draw with. Besides numpy and
matplotlib, only the package's layer names are imported (no TensorFlow).
"""

import os
from numbers import Integral
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure, SubFigure
from sklearn.utils._param_validation import validate_params

from .._atomic import atomic_path
from ..exceptions import InputError
from ..features._layers import IMAGE_LAYER, canonical_layer, paper_name

__all__ = ["ENCODER_COLORS", "filter_label", "layer_label", "save_figure"]

#: The encoders in the paper's order; the study figure draws them in this order.
ENCODERS = ("mean", "max", "gram", "vlad")
#: One Okabe-Ito colour per encoder, the same in every figure. The Okabe-Ito colours stay
#: distinct under the common colour-vision deficiencies; markers differ too, for grayscale.
ENCODER_COLORS = {"mean": "#0072B2", "max": "#D55E00", "gram": "#009E73", "vlad": "#CC79A7"}
ENCODER_MARKERS = {"mean": "o", "max": "s", "gram": "^", "vlad": "D"}
# Colours of the classes (Okabe-Ito, yellow last as it
# is the faintest on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
# Okabe-Ito colours that none of the paper's encoders (nor the union bar) uses.
EXTRA_COLORS = ("#56B4E9", "#000000", "#F0E442")
# Orange is no encoder's colour, so the union bar stands out whatever the encoder.
UNION_COLOR = "#E69F00"
SMALL = 9  # the smallest font size used anywhere
_SAVE_DPI = 150

# Parameter constraints of @validate_params shared by the figures.
TEXT_CONSTRAINT = [str, None]  # titles, labels, names
FIG_CONSTRAINT = [Figure, SubFigure, None]  # where to draw


# --------------------------------------------------------------------------- saving


@validate_params(
    {"fig": [Figure], "path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def save_figure(fig, path):
    """Write a figure as PNG (150 dpi) and SVG, each atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write.
    path : str or path-like
        Where to write; its suffix, if any, is replaced by ``.png`` and by ``.svg``.
        Missing parent folders are created.

    Returns
    -------
    png_path, svg_path : pathlib.Path
        The two files written.

    Notes
    -----
    Each file is first written under a hidden temporary name in the same folder and then
    renamed with :func:`os.replace`, so a run killed mid-write never leaves a truncated
    file under the final name.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.add_subplot().plot([0, 1], [1, 0])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png, svg = save_figure(fig, Path(folder) / "sub" / "study.pdf")
    ...     print(png.name, svg.name, png.stat().st_size > 0)
    study.png study.svg True
    """
    path = Path(path)
    written = []
    for fmt in ("png", "svg"):
        final = path.with_suffix(f".{fmt}")
        with atomic_path(final) as tmp:
            # bbox_inches="tight" keeps legends placed outside the axes in the file even
            # when the caller's figure has no layout engine.
            fig.savefig(tmp, format=fmt, dpi=_SAVE_DPI, bbox_inches="tight")
        written.append(final)
    return tuple(written)


# --------------------------------------------------------------------------- labels


@validate_params(
    {"layer": [str], "index": [Integral]},
    prefer_skip_nested_validation=True,
)
def filter_label(layer, index):
    """One filter's name, the same on every figure, table and page: ``C3,3 #174``.

    The paper's layer name (:func:`layer_label`) and the filter's index in the
    layer, from 0 (the ``filter`` column of the explanations' tables).

    Parameters
    ----------
    layer : str
        A Keras layer name (``"block3_conv3"``) or a paper name.
    index : int
        The filter's index in the layer.

    Returns
    -------
    str

    Examples
    --------
    >>> filter_label("block3_conv3", 174)
    'C3,3 #174'
    """
    return f"{layer_label(layer)} #{int(index)}"


@validate_params(
    {"layer": [str, None]},
    prefer_skip_nested_validation=True,
)
def layer_label(layer):
    """The paper's name of a VGG16 layer: ``blockB_convK`` gives ``CB,K``.

    Parameters
    ----------
    layer : str or None
        A Keras layer name (``"block3_conv3"``), a paper name (``"C3_3"``, ``"C3,3"``),
        ``"image"`` (the raw-image baseline) or any other name (returned unchanged); None
        (a feature fitted without a layer) gives ``"None"``.

    Returns
    -------
    str

    Examples
    --------
    >>> layer_label("block3_conv3"), layer_label("C5_3"), layer_label("image")
    ('C3,3', 'C5,3', 'raw image')
    """
    if layer == IMAGE_LAYER:
        return "raw image"
    try:
        return paper_name(canonical_layer(layer))
    except ValueError:
        return str(layer)


# --------------------------------------------------------------------------- shared helpers


def root_figure(figure):
    """The top-level Figure of a Figure or SubFigure."""
    return getattr(figure, "figure", None) or figure


def require_columns(table, needed, what):
    """Refuse a table without the ``needed`` columns, naming them and those it has."""
    missing = [column for column in needed if column not in table.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {missing}; found {[str(c) for c in table.columns]}"
        )


def displayable(image):
    """A 2-D gray or (H, W, 3|4) colour image as floats in [0, 1] for imshow.

    uint8 is divided by 255; floats already in [0, 1] are kept; anything else (uint16
    micrographs, raw activation-maximization output) is stretched to [0, 1].
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] not in (3, 4)):
        raise InputError(f"expected a 2-D gray or (H, W, 3) colour image, got shape {img.shape}")
    if img.dtype == np.uint8:
        return img / 255.0
    img = img.astype(float)
    low, high = np.nanmin(img), np.nanmax(img)
    if low >= 0 and high <= 1:
        return img
    return (img - low) / (high - low) if high > low else np.zeros_like(img)


def show_image(ax, image):
    """Draw an image on ``ax`` without ticks (a thin frame is kept around it)."""
    img = displayable(image)
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img)
    ax.set_xticks([])
    ax.set_yticks([])


def max_aspect(images):
    """The largest height / width among images: a row of them at one width is that tall."""
    shapes = [np.shape(image)[:2] for image in images]
    return max((h / w for h, w in shapes if w), default=1.0)
