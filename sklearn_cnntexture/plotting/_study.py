"""Matplotlib figures of the layer x encoder study and of the texture explanations.

The figures follow Ling et al. 2017: the study (Fig. 6, :func:`plot_study`), the union of
layers (Fig. 7, :func:`plot_union`), filter textures (Fig. 8, :func:`plot_texture_grid`),
important textures (Fig. 9, :func:`plot_important_textures`), heat maps (Fig. 10,
:func:`plot_heatmap`) and characteristic textures (Figs. 11-12,
:func:`plot_characteristic_textures`).

Every function builds a :class:`matplotlib.figure.Figure` itself instead of going through
``matplotlib.pyplot``: no figure is left in pyplot's registry, nothing depends on an
interactive backend (it all works headless), and the caller decides what to do with the
figure (show it in a notebook, :func:`save_figure` it). Besides numpy and matplotlib,
only the package's layer names are imported (no TensorFlow); the study tables are used
through their pandas methods.
"""

import os
import zlib
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator
from pandas import DataFrame
from sklearn.utils._param_validation import Interval, validate_params

from .._atomic import atomic_path
from ..exceptions import InputError
from ..features._layers import CONV_LAYERS, IMAGE_LAYER, canonical_layer, layer_order, paper_name

__all__ = [
    "ENCODER_COLORS",
    "chance_level",
    "describe_data",
    "layer_label",
    "plot_characteristic_textures",
    "plot_heatmap",
    "plot_heatmaps",
    "plot_important_textures",
    "plot_models",
    "plot_study",
    "plot_texture_grid",
    "plot_union",
    "save_figure",
]

#: The encoders in the paper's order; the study figure draws them in this order.
ENCODERS = ("mean", "max", "gram", "vlad")
#: One Okabe-Ito colour per encoder, the same in every figure. The Okabe-Ito colours stay
#: distinct under the common colour-vision deficiencies; markers differ too, for grayscale.
ENCODER_COLORS = {"mean": "#0072B2", "max": "#D55E00", "gram": "#009E73", "vlad": "#CC79A7"}
_ENCODER_MARKERS = {"mean": "o", "max": "s", "gram": "^", "vlad": "D"}
# Colours of the classes (Okabe-Ito, yellow last as it
# is the faintest on white).
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
# Okabe-Ito colours that none of the paper's encoders (nor the union bar) uses.
_EXTRA_COLORS = ("#56B4E9", "#000000", "#F0E442")
# Orange is no encoder's colour, so the union bar stands out whatever the encoder.
_UNION_COLOR = "#E69F00"
_SMALL = 9  # the smallest font size used anywhere
_UNION_LAYER = "union"
_METRIC_LABELS = {"f1": "F1 score", "r2": "R²", "accuracy": "Accuracy"}
_SAVE_DPI = 150

# Parameter constraints of @validate_params shared by the figures.
_TEXT = [str, None]  # titles, labels, names
_FIG = [Figure, SubFigure, None]  # where to draw
_CHANCE = [Real, None]
#: plot_study's and plot_union's own; plot_models' are a subset.
_STUDY_CONSTRAINTS = {
    "results": [DataFrame], "metric": [str], "chance": _CHANCE, "ylabel": _TEXT,
    "title": _TEXT, "ax": [Axes, None], "model": _TEXT, "data": _TEXT,
}


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


def _conv_layers(layers):
    """The distinct CNN layers among ``layers``, in network order.

    Names that are neither convolutions nor the image/union pseudo-layers come last, in
    alphabetical order, so that nothing in a results table is silently dropped.
    """

    def order(name):
        try:
            return layer_order(canonical_layer(name)), str(name)
        except ValueError:
            return len(CONV_LAYERS), str(name)

    names = [name for name in dict.fromkeys(layers) if name not in (IMAGE_LAYER, _UNION_LAYER)]
    return sorted(names, key=order)


def _metric_label(metric):
    return _METRIC_LABELS.get(metric, metric)


def _encoder_order(encoders):
    """The paper's encoders in the paper's order, then any others alphabetically."""
    present = set(encoders)
    return [e for e in ENCODERS if e in present] + sorted(present.difference(ENCODERS), key=str)


def _encoder_style(encoder):
    """(colour, marker) of an encoder, fixed for the paper's four.

    Other encoders get a colour from their name's checksum, so that an encoder keeps its
    colour from one figure to the next whatever else a table holds.
    """
    if encoder in ENCODER_COLORS:
        return ENCODER_COLORS[encoder], _ENCODER_MARKERS[encoder]
    return _EXTRA_COLORS[zlib.crc32(str(encoder).encode()) % len(_EXTRA_COLORS)], "v"


# --------------------------------------------------------------------------- helpers


def _root_figure(figure):
    """The top-level Figure of a Figure or SubFigure."""
    return getattr(figure, "figure", None) or figure


def _axes_or_new(ax, figsize):
    """(figure, axes): the caller's axes, or one axes on a new constrained-layout figure."""
    if ax is not None:
        return _root_figure(ax.figure), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _require_columns(table, needed, what):
    missing = [column for column in needed if column not in table.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {missing}; found {[str(c) for c in table.columns]}"
        )


def _check_results(results, metric):
    """Validate a study table and return it."""
    _require_columns(results, ["layer", "encoder", f"{metric}_mean", f"{metric}_std"], "results")
    duplicated = results.duplicated(["layer", "encoder"])
    if duplicated.any():
        pairs = results.loc[duplicated, ["layer", "encoder"]].drop_duplicates()
        raise InputError(
            "results have several rows for the same (layer, encoder): "
            f"{list(map(tuple, pairs.to_numpy()))}; keep one row per pair"
        )
    return results


def _displayable(image):
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


def _show(ax, image):
    """Draw an image on ``ax`` without ticks (a thin frame is kept around it)."""
    img = _displayable(image)
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img)
    ax.set_xticks([])
    ax.set_yticks([])


def _resize_bilinear(array, shape):
    """Bilinear resize of a 2-D array with pixel centres aligned (as Pillow's BILINEAR).

    >>> _resize_bilinear(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]])
    """
    out = np.asarray(array, dtype=float)
    for axis, n_out in enumerate(shape):
        n_in = out.shape[axis]
        position = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        weight = (position - low).reshape([-1 if a == axis else 1 for a in range(out.ndim)])
        out = np.take(out, low, axis) * (1 - weight) + np.take(out, high, axis) * weight
    return out


#: Width of one image cell in the grids of textures and micrographs, in inches, and the
#: room for a one-line caption under it and for a block's title above it.
_CELL, _CAPTION, _TITLE = 1.3, 0.28, 0.32


def _aspect(images):
    """The largest height / width among images: a row of them at one width is that tall."""
    shapes = [np.shape(image)[:2] for image in images]
    return max((h / w for h, w in shapes if w), default=1.0)


def _named(item):
    """(name, image) from a (name, image) pair or a bare image (name None)."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item
    return None, item


def _format_value(value):
    return value if isinstance(value, str) else f"{value:.3g}"


# --------------------------------------------------------------------------- study


@validate_params(
    {"metric": [str], "y": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def chance_level(metric, y):
    """The score of a model that ignores the images, for the study figures' chance line.

    "Chance" is the best expected score of any predictor that does not look at the image:
    one that guesses, from the labels' shares alone (large-sample expectations, as a
    cross-validated mean estimates them). With ``k`` classes of shares ``p_c``:

    - macro F1 (``"f1"``, the study's ``"f1_macro"``): ``1/k``, whatever the shares. A
      guess drawing class ``c`` with probability ``q_c`` has precision ``p_c`` and recall
      ``q_c`` in class ``c``, so a macro F1 of the mean of ``2 p_c q_c / (p_c + q_c)``,
      largest at ``q = p`` (scikit-learn's ``DummyClassifier(strategy="stratified")``),
      where each class's F1 is ``p_c`` and their mean ``1/k``. Uniform guessing and always
      answering the largest class score less on imbalanced classes;
    - ``"balanced_accuracy"``: ``1/k`` (every guess has mean recall ``1/k``);
    - ``"accuracy"`` (and ``"f1_micro"``, which equals it): the largest share,
      always answering the largest class;
    - ``"r2"`` (regression): 0, predicting the mean.

    Parameters
    ----------
    metric : str
        The study's scoring (``result.scoring``: ``"f1_macro"``, ``"r2"``, ...) or its
        table's metric stem (``"f1"`` is read as macro F1, the study's default).
    y : array-like
        The labels (or targets) of the data set.

    Returns
    -------
    chance : float or None
        None for another metric (``"f1_weighted"``, a log loss, ...): no line is drawn.

    Examples
    --------
    >>> chance_level("f1_macro", ["a", "b", "c", "a", "b", "c"])
    0.3333333333333333
    >>> chance_level("f1", ["a"] * 8 + ["b"] * 2)
    0.5
    >>> chance_level("accuracy", ["a"] * 8 + ["b"] * 2)
    0.8
    """
    if metric == "r2":
        return 0.0
    _, counts = np.unique(np.asarray(y), return_counts=True)
    if metric in ("f1", "f1_macro", "balanced_accuracy"):
        return 1.0 / len(counts)
    if metric in ("accuracy", "f1_micro"):
        return float(counts.max() / counts.sum())
    return None


@validate_params(
    {
        "name": _TEXT,
        "n_images": [Interval(Integral, 0, None, closed="left"), None],
        "n_classes": [Interval(Integral, 0, None, closed="left"), None],
        "cv": _TEXT,
    },
    prefer_skip_nested_validation=True,
)
def describe_data(name=None, *, n_images=None, n_classes=None, cv=None):
    """One line naming a study's data, for the figures' titles.

    Parameters
    ----------
    name : str, optional
        The data set's name (its folder's, say).
    n_images, n_classes : int, optional
        How many images and classes (None for regression, or unknown).
    cv : str, optional
        The folds, as ``result.cv_description`` says them (``"5 folds x 2 repeats"``).

    Returns
    -------
    str or None
        None when nothing is given.

    Examples
    --------
    >>> describe_data("steel", n_images=120, n_classes=3, cv="5 folds x 1 repeats")
    'steel: 120 images, 3 classes, 5 folds x 1 repeats'
    >>> describe_data(n_images=1)
    '1 image'
    """
    counts = [f"{n} {one if n == 1 else many}"
              for n, one, many in ((n_images, "image", "images"),
                                   (n_classes, "class", "classes"))
              if n is not None]
    facts = ", ".join([*counts, *([cv] if cv else [])])
    if name and facts:
        return f"{name}: {facts}"
    return name or facts or None


def _title(data, title):
    """The data's line above the figure's own title, either one alone, or None."""
    return "\n".join(part for part in (data, title) if part) or None


def _chance_line(ax, chance):
    """The dotted gray chance line, labelled with its value, beneath everything else."""
    return ax.axhline(float(chance), color="0.4", linestyle=":", linewidth=1.3, zorder=1.2,
                      label=f"chance ({float(chance):.2f})")


def _one_model(results, model):
    """The rows of one model of a study table with a ``model`` column (the paper's "rf"
    when ``model`` is None and it is there, else the first listed); a table without the
    column is returned whole."""
    if not hasattr(results, "columns") or "model" not in results.columns:
        return results
    names = list(dict.fromkeys(results["model"]))
    if model is None:
        model = "rf" if "rf" in names else names[0]
    if model not in names:
        raise InputError(f"no rows of model {model!r}; models found: {names}")
    return results[results["model"] == model]


@validate_params(
    _STUDY_CONSTRAINTS,
    prefer_skip_nested_validation=True,
)
def plot_study(results, *, metric="f1", chance=None, ylabel=None, title=None, ax=None,
               model=None, data=None):
    """Score of each encoder on each VGG16 layer, as in Fig. 6 of Ling et al. 2017.

    One line with markers and standard-deviation error bars per encoder over the layers in
    network order (labelled C1,2 ... C5,3). The raw-image baseline of each encoder is a
    dashed horizontal line in the encoder's colour, lighter and drawn beneath the series
    (so it never hides a point), with the encoder's hollow marker at both ends of the
    axes. A dotted gray line marks ``chance``. Rows of the ``"union"`` layer are ignored
    (see :func:`plot_union`).

    Parameters
    ----------
    results : pandas.DataFrame
        The study table: columns ``layer`` (Keras names such as ``"block3_conv3"``, or
        ``"image"``/``"union"``), ``encoder`` (``"mean"``, ``"max"``, ``"gram"``,
        ``"vlad"``, ...), ``{metric}_mean`` and ``{metric}_std``; one row per
        (layer, encoder). Other columns (``n_features``, ``time``) are ignored.
    metric : str, default="f1"
        Which score to plot.
    chance : float, optional
        The score of a model that ignores the images, drawn as a dotted gray line labelled
        "chance (value)" in the legend: pass ``chance_level(scoring, y)``
        (:func:`chance_level`: ``1/k`` for macro F1 on ``k`` classes, 0 for R²). None
        draws no line.
    ylabel : str, optional
        Label of the y axis; by default ``"F1 score"`` for f1, ``"R²"`` for r2, else the
        metric's name.
    title : str, optional
        Title of the axes.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    model : str, optional
        With a ``model`` column, the model whose rows are drawn; None draws the paper's
        forest (``"rf"``) when present, else the first model (see :func:`plot_models`
        for all of them).
    data : str, optional
        A line naming the data (:func:`describe_data`: name, images, classes, folds),
        shown as the title's first line.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If columns are missing, a (layer, encoder) pair has several rows, or there is no
        CNN-layer row.

    Examples
    --------
    >>> import pandas as pd
    >>> results = pd.DataFrame({
    ...     "layer": ["block1_conv2", "block3_conv3", "image"], "encoder": "mean",
    ...     "f1_mean": [0.7, 0.9, 0.5], "f1_std": [0.02, 0.01, 0.03]})
    >>> fig = plot_study(results)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['C1,2', 'C3,3']
    """
    results = _one_model(results, model)
    _check_results(results, metric)
    mean, std = f"{metric}_mean", f"{metric}_std"
    layers = _conv_layers(results["layer"])
    if not layers:
        raise InputError("results have no CNN-layer rows (only 'image' or 'union' rows)")
    fig, ax = _axes_or_new(ax, figsize=(7.5, 4.2))
    x_of = {layer: i for i, layer in enumerate(layers)}
    drawn = results[results["layer"] != _UNION_LAYER]
    encoders = _encoder_order(drawn["encoder"])
    # A few hundredths of a tick apart, so the series' error bars do not hide each other.
    offsets = (np.arange(len(encoders)) - (len(encoders) - 1) / 2) * 0.08
    series, baselines = [], []
    for encoder, offset in zip(encoders, offsets):
        color, marker = _encoder_style(encoder)
        rows = drawn[drawn["encoder"] == encoder]
        conv = rows[rows["layer"].isin(layers)]
        conv = conv.iloc[np.argsort([x_of[layer] for layer in conv["layer"]])]
        if len(conv):
            x = np.array([x_of[layer] for layer in conv["layer"]]) + offset
            series.append(ax.errorbar(
                x, conv[mean], yerr=conv[std], color=color, marker=marker, markersize=6,
                linewidth=1.8, capsize=4, label=encoder,
            ))  # fmt: skip
        raw = rows[rows["layer"] == IMAGE_LAYER]
        if len(raw):
            # Beneath the series and lighter, so a point on it stays visible; its hollow
            # markers sit on the axes' edges, where no layer is.
            baselines.append(ax.axhline(
                float(raw[mean].iloc[0]), color=color, linestyle="--", linewidth=1.2,
                alpha=0.6, zorder=1.5, marker=marker, markersize=6, markerfacecolor="white",
                clip_on=False, label=f"{encoder} on raw image",
            ))  # fmt: skip
    if chance is not None:
        baselines.append(_chance_line(ax, chance))
    ax.set_xticks(range(len(layers)), [layer_label(layer) for layer in layers])
    ax.set_xlim(-0.5, len(layers) - 0.5)
    ax.set_xlabel("VGG16 layer")
    ax.set_ylabel(_metric_label(metric) if ylabel is None else ylabel)
    ax.grid(axis="y", alpha=0.3)
    if _title(data, title) is not None:
        ax.set_title(_title(data, title))
    # Outside the axes, on the right, so it never covers a point; series before baselines.
    ax.legend(
        handles=series + baselines, title="encoder", loc="upper left",
        bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize=_SMALL, title_fontsize=_SMALL + 1,
    )  # fmt: skip
    return fig


@validate_params(
    {**_STUDY_CONSTRAINTS, "encoder": [str]},
    prefer_skip_nested_validation=True,
)
def plot_union(results, *, metric="f1", encoder="mean", chance=None, ylabel=None, title=None,
               ax=None, model=None, data=None):
    """Each single layer against the union of layers for one encoder, as in Fig. 7.

    Bars with standard-deviation error bars of ``{metric}_mean`` for each CNN layer (in
    network order, in the encoder's colour) and one hatched orange bar for the rows whose
    ``layer`` is ``"union"``; each bar is annotated with its value.

    Parameters
    ----------
    results : pandas.DataFrame
        The study table, as for :func:`plot_study`.
    metric : str, default="f1"
        Which score to plot.
    encoder : str, default="mean"
        Which encoder's rows to plot (the paper unites the mean features).
    chance : float, optional
        As for :func:`plot_study`: a dotted line across the bars, in the legend.
    ylabel : str, optional
        Label of the y axis; by default as in :func:`plot_study`.
    title : str, optional
        Title of the axes; by default "<encoder> encoder: single layers and their union".
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    model, data : str, optional
        As for :func:`plot_study`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If columns are missing or no row has this encoder.

    Examples
    --------
    >>> import pandas as pd
    >>> results = pd.DataFrame({
    ...     "layer": ["block2_conv2", "block1_conv2", "union"], "encoder": "mean",
    ...     "f1_mean": [0.8, 0.7, 0.9], "f1_std": [0.02, 0.01, 0.03]})
    >>> fig = plot_union(results)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['C1,2', 'C2,2', 'union']
    """
    results = _one_model(results, model)
    _check_results(results, metric)
    mean, std = f"{metric}_mean", f"{metric}_std"
    rows = results[results["encoder"] == encoder]
    if rows.empty:
        found = sorted(map(str, set(results["encoder"])))
        raise InputError(f"no rows with encoder {encoder!r}; encoders found: {found}")
    layers = _conv_layers(rows["layer"])
    single = rows.set_index("layer").loc[layers]
    union = rows[rows["layer"] == _UNION_LAYER]
    fig, ax = _axes_or_new(ax, figsize=(6.5, 4.2))
    color, _ = _encoder_style(encoder)
    bars = dict(capsize=4, edgecolor="black", linewidth=0.6, error_kw={"elinewidth": 1.2})
    x = np.arange(len(layers))
    # A gap before the union bar sets it apart from the single layers.
    x_union = len(layers) + (0.4 if len(layers) else 0)
    handles = []
    if len(layers):
        handles.append(ax.bar(x, single[mean], yerr=single[std], color=color,
                              label=f"{encoder}, one layer", **bars))
    if len(union):
        handles.append(ax.bar([x_union], union[mean].iloc[:1], yerr=union[std].iloc[:1],
                              color=_UNION_COLOR, hatch="//",
                              label=f"{encoder}, union of layers", **bars))
    heights = np.concatenate([single[mean].to_numpy(float), union[mean].to_numpy(float)[:1]])
    errors = np.nan_to_num(
        np.concatenate([single[std].to_numpy(float), union[std].to_numpy(float)[:1]])
    )
    # Values above the error bars, not at the bar tops, where the caps would cross them.
    positions = np.append(x, x_union)[: len(heights)]
    for xi, height, error in zip(positions, heights, errors):
        top = height + error if height >= 0 else height - error
        ax.annotate(
            f"{height:.3f}", (xi, top), xytext=(0, 3 if height >= 0 else -3),
            textcoords="offset points", ha="center", va="bottom" if height >= 0 else "top",
            fontsize=_SMALL,
        )  # fmt: skip
    chance_line = [] if chance is None else [_chance_line(ax, chance)]
    # Bars start at zero (shorter bars must mean lower scores); leave room for the values.
    low, high = min(0.0, np.nanmin(heights - errors)), max(0.0, np.nanmax(heights + errors))
    pad = 0.12 * (high - low or 1.0)
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    labels = [layer_label(layer) for layer in layers] + ([_UNION_LAYER] if len(union) else [])
    ax.set_xticks(positions, labels)
    ax.set_xlabel("VGG16 layer")
    ax.set_ylabel(_metric_label(metric) if ylabel is None else ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    default = f"{encoder} encoder: single layers and their union"
    ax.set_title(_title(data, default if title is None else title))
    # Outside the axes, on the right, as in plot_study (bars reach any height); the
    # bars first, the chance line last, as in plot_study's legend.
    ax.legend(handles=handles + chance_line, loc="upper left", bbox_to_anchor=(1.02, 1),
              borderaxespad=0, fontsize=_SMALL)
    return fig


@validate_params(
    {"results": [DataFrame], "metric": [str], "chance": _CHANCE, "title": _TEXT, "data": _TEXT},
    prefer_skip_nested_validation=True,
)
def plot_models(results, *, metric="f1", chance=None, title=None, data=None):
    """Fig. 6 once per model, stacked, on one score axis: the paper's protocol beside the others.

    Parameters
    ----------
    results : pandas.DataFrame
        A study table with a ``model`` column (one panel per model, in the table's
        order; the paper's forest is ``"rf"``).
    metric : str, default="f1"
        Which score to plot.
    chance : float, optional
        As for :func:`plot_study`: drawn in every panel.
    title : str, optional
        Title of the figure.
    data : str, optional
        As for :func:`plot_study`: the figure title's first line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> results = pd.DataFrame({
    ...     "layer": ["block1_conv2", "block3_conv3"] * 2, "encoder": "mean",
    ...     "model": ["rf", "rf", "logreg", "logreg"],
    ...     "f1_mean": [0.7, 0.9, 0.8, 0.95], "f1_std": 0.02})
    >>> [ax.get_title() for ax in plot_models(results).axes]
    ['model: rf', 'model: logreg']
    """
    _require_columns(results, ["model"], "results")
    models = list(dict.fromkeys(results["model"]))
    fig = Figure(figsize=(7.5, 3.4 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 1, squeeze=False, sharey=True)[:, 0]
    for ax, model in zip(axes, models):
        plot_study(results, metric=metric, chance=chance, ax=ax, model=model,
                   title=f"model: {model}")
    if _title(data, title) is not None:
        fig.suptitle(_title(data, title))
    return fig


# --------------------------------------------------------------------------- explanations


@validate_params(
    {
        "textures": ["array-like", dict],
        "labels": ["array-like", dict, None],
        "ncols": [Interval(Integral, 1, None, closed="left")],
        "title": _TEXT,
        "fig": _FIG,
    },
    prefer_skip_nested_validation=True,
)
def plot_texture_grid(textures, labels=None, *, ncols=8, title=None, fig=None):
    """A grid of filter textures with a label under each, as in Fig. 8.

    Parameters
    ----------
    textures : sequence of array-like or dict
        The textures, each (H, W, 3) floats in [0, 1] or uint8 (2-D gray works too). A dict
        ``{layer: [texture, ...]}`` draws one block of rows per layer, titled with the
        layer's paper name (``"block3_conv3"`` gives ``"C3,3"``).
    labels : sequence of str or dict, optional
        One label per texture (for example ``"C3,3 #17"``); for a dict of textures a dict
        of the same keys. By default ``"#0"``, ``"#1"``, ... in each block.
    ncols : int, default=8
        Textures per row.
    title : str, optional
        Title of the whole figure.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_texture_grid(rng.random((3, 8, 8, 3)), ["a", "b", "c"], ncols=2)
    >>> sum(len(ax.images) for ax in fig.axes)
    3
    """
    if isinstance(textures, Mapping):
        blocks = [
            (layer_label(key), list(images), None if labels is None else list(labels[key]))
            for key, images in textures.items()
        ]
    else:
        blocks = [(None, list(textures), None if labels is None else list(labels))]
    for name, images, names in blocks:
        if names is not None and len(names) != len(images):
            where = "" if name is None else f" of {name}"
            raise InputError(f"{len(images)} textures{where} but {len(names)} labels")
    blocks = [block for block in blocks if block[1]]
    if not blocks:
        raise InputError("no textures to draw")
    ncols = max(1, min(ncols, max(len(images) for _, images, _ in blocks)))
    nrows = [-(-len(images) // ncols) for _, images, _ in blocks]
    titled = blocks[0][0] is not None
    # One grid of rows, each as tall as its images at the cell's width plus a caption:
    # a figure taller than its content is what left blank bands. A block's layer
    # names its rows in the left margin, bold, instead of a title band of its own.
    row_heights = [
        _CELL * _aspect(images) + _CAPTION for (_, images, _), rows in zip(blocks, nrows)
        for _ in range(rows)
    ]  # fmt: skip
    if fig is None:
        width = _CELL * ncols + (0.45 if titled else 0.15)
        height = sum(row_heights) + (_TITLE if title else 0) + 0.1
        fig = Figure(figsize=(width, height), layout="constrained")
    if title is not None:
        fig.suptitle(title)
    grid = fig.add_gridspec(len(row_heights), ncols, height_ratios=row_heights)
    first_row = np.cumsum([0, *nrows])
    for (name, images, names), top in zip(blocks, first_row):
        for i in range(-(-len(images) // ncols) * ncols):
            ax = fig.add_subplot(grid[top + i // ncols, i % ncols])
            if i >= len(images):
                ax.set_axis_off()
                continue
            _show(ax, images[i])
            ax.set_xlabel(f"#{i}" if names is None else names[i], fontsize=_SMALL)
            if i == 0 and name is not None:
                ax.set_ylabel(name, fontsize=_SMALL + 2, fontweight="bold")
    return _root_figure(fig)


@validate_params(
    {
        "textures": ["array-like"],
        "table": [DataFrame],
        "class_names": ["array-like", None],
        "title": _TEXT,
        "fig": _FIG,
    },
    prefer_skip_nested_validation=True,
)
def plot_important_textures(textures, table, *, class_names=None, title=None, fig=None):
    """The most important textures with their per-class activations, as in Fig. 9.

    Textures are drawn in a row by decreasing importance, each titled with its rank, its
    (layer, filter) and its importance; under each, horizontal bars give the filter's mean
    activation in each class (one colour per class, the same under every texture).

    Parameters
    ----------
    textures : sequence of array-like
        One texture per row of ``table``, in the same order.
    table : pandas.DataFrame
        Columns ``layer``, ``filter``, ``importance`` and ``mean_<class>`` per class.
    class_names : sequence of str, optional
        Which classes to show, in this order; by default every ``mean_<class>`` column.
    title : str, optional
        Title of the whole figure.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If columns are missing or the numbers of textures and rows differ.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"layer": ["block3_conv3", "block1_conv2"], "filter": [17, 3],
    ...                       "importance": [0.05, 0.08], "mean_a": [1.0, 2.0],
    ...                       "mean_b": [0.5, 0.1]})
    >>> fig = plot_important_textures(np.zeros((2, 8, 8, 3)), table)
    >>> [ax.get_title() for ax in fig.axes if ax.images]
    ['#1  C1,2 #3\\nimportance 0.08', '#2  C3,3 #17\\nimportance 0.05']
    """
    _require_columns(table, ["layer", "filter", "importance"], "table")
    if class_names is None:
        class_names = [str(c)[len("mean_"):] for c in table.columns if str(c).startswith("mean_")]
    class_names = list(class_names)
    _require_columns(table, [f"mean_{name}" for name in class_names], "table")
    if not class_names:
        raise InputError("table has no mean_<class> column")
    textures = list(textures)
    if len(textures) != len(table):
        raise InputError(f"{len(textures)} textures but {len(table)} table rows")
    if not textures:
        raise InputError("no textures to draw")
    # Rank by importance; a stable sort keeps ties in the caller's order.
    order = np.argsort(-table["importance"].to_numpy(float), kind="stable")
    k, n_classes = len(textures), len(class_names)
    bar_height = 0.28 * n_classes + 0.3
    if fig is None:
        fig = Figure(figsize=(1.9 * k + 1.4, 2.6 + bar_height), layout="constrained")
    if title is not None:
        fig.suptitle(title)
    grid = fig.add_gridspec(2, k, height_ratios=[1.9, bar_height])
    colors = [_PALETTE[i % len(_PALETTE)] for i in range(n_classes)]
    first_bars = None
    for rank, i in enumerate(order, start=1):
        row = table.iloc[i]
        image_ax = fig.add_subplot(grid[0, rank - 1])
        _show(image_ax, textures[i])
        image_ax.set_title(
            f"#{rank}  {layer_label(row['layer'])} #{row['filter']}\n"
            f"importance {row['importance']:.3g}", fontsize=_SMALL,
        )  # fmt: skip
        bars_ax = fig.add_subplot(grid[1, rank - 1], sharey=first_bars)
        values = [float(row[f"mean_{name}"]) for name in class_names]
        bars_ax.barh(np.arange(n_classes), values, color=colors, edgecolor="black", linewidth=0.5)
        bars_ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
        bars_ax.tick_params(labelsize=_SMALL)
        if first_bars is None:  # class names once, on the left; the y axis is shared
            first_bars = bars_ax
            bars_ax.set_yticks(np.arange(n_classes), class_names)
            bars_ax.invert_yaxis()  # first class on top
        else:
            bars_ax.tick_params(labelleft=False)
    fig.supxlabel("mean activation of the filter in each class", fontsize=_SMALL + 1)
    return _root_figure(fig)


@validate_params(
    {
        "image": ["array-like"],
        "heatmap": ["array-like"],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "cmap": [str, Colormap],
        "title": _TEXT,
        "label": _TEXT,
        "name": _TEXT,
        "fig": _FIG,
    },
    prefer_skip_nested_validation=True,
)
def plot_heatmap(image, heatmap, *, alpha=0.5, cmap="inferno", title=None, label="activation",
                 name=None, fig=None):  # fmt: skip
    """A micrograph and a filter's activation over it, as in Fig. 10.

    Left, the micrograph; right, the micrograph with the heat map laid over it, with a
    colorbar.

    Parameters
    ----------
    image : array-like
        The micrograph, 2-D gray or (H, W, 3) colour.
    heatmap : array-like
        2-D activation map; resized bilinearly to the image's size if it differs (VGG
        layers after pooling are smaller than the input).
    alpha : float, default=0.5
        Opacity of the heat map.
    cmap : str or matplotlib.colors.Colormap, default="inferno"
        Colormap of the heat map (inferno is perceptually uniform and colour-blind safe).
    title : str, optional
        Title of the whole figure.
    label : str, default="activation"
        Label of the colorbar.
    name : str, optional
        The micrograph's name (its file name, say), the title of the left panel; by
        default ``"micrograph"``.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_heatmap(np.zeros((32, 32)), np.arange(16.0).reshape(4, 4))
    >>> fig.axes[1].images[1].get_array().shape
    (32, 32)
    """
    img = _displayable(image)
    heat = np.asarray(heatmap, dtype=float)
    if heat.ndim != 2:
        raise InputError(f"heatmap must be 2-D, got shape {heat.shape}")
    if heat.shape != img.shape[:2]:
        heat = _resize_bilinear(heat, img.shape[:2])
    if fig is None:
        aspect = img.shape[0] / img.shape[1]
        fig = Figure(figsize=(9, min(4.2 * aspect, 9) + 0.8), layout="constrained")
    if title is not None:
        fig.suptitle(title)
    left, right = fig.subplots(1, 2)
    _show(left, img)
    left.set_title("micrograph" if name is None else name, fontsize=_SMALL + 1)
    _show(right, img)
    norm = Normalize(np.nanmin(heat), np.nanmax(heat))
    right.imshow(heat, cmap=cmap, norm=norm, alpha=alpha)
    right.set_title("heat map")
    # The colorbar shows the colormap opaque: the overlay's alpha would wash its colours out.
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=right, label=label, shrink=0.9)
    return _root_figure(fig)


@validate_params(
    {"heatmaps": [dict], "names": [dict, None], "title": _TEXT},
    prefer_skip_nested_validation=True,
)
def plot_heatmaps(heatmaps, names=None, *, title=None):
    """One :func:`plot_heatmap` row per class, as in Fig. 10.

    Parameters
    ----------
    heatmaps : dict
        ``{class: (image, heatmap, layer, filter)}``, as in the ``heatmaps`` of
        :func:`~sklearn_cnntexture.explain.explain_model`.
    names : dict, optional
        ``{class: name}`` of each micrograph (its file name, as in the explanation's
        ``sources``), the title of its left panel.
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> heat = {"a": (np.zeros((16, 24)), np.ones((4, 6)), "block3_conv3", 17)}
    >>> fig = plot_heatmaps(heat, {"a": "a_0.png"})
    >>> fig.subfigs[0]._suptitle.get_text(), fig.axes[0].get_title()
    ('a: C3,3 #17', 'a_0.png')
    """
    if not heatmaps:
        raise InputError("no heat maps to draw")
    names = names or {}
    aspect = _aspect([image for image, *_ in heatmaps.values()])
    fig = Figure(figsize=(9, (4.2 * min(aspect, 2) + 0.9) * len(heatmaps)), layout="constrained")
    if title is not None:
        fig.suptitle(title)
    rows = fig.subfigures(len(heatmaps), 1, squeeze=False)[:, 0]
    for sub, (cls, (image, heat, layer, f)) in zip(rows, heatmaps.items()):
        plot_heatmap(image, heat, title=f"{cls}: {layer_label(layer)} #{f}",
                     name=names.get(cls), fig=sub)  # fmt: skip
    return fig


def _label_and_texture(item):
    """(label, texture) from a (label, texture) pair or a bare texture."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item
    return None, item


@validate_params(
    {
        "textures": [dict],
        "examples": [dict],
        "values": [dict, None],
        "class_names": ["array-like", None],
        "title": _TEXT,
        "fig": _FIG,
    },
    prefer_skip_nested_validation=True,
)
def plot_characteristic_textures(textures, examples, values=None, *, class_names=None,
                                 title=None, fig=None):  # fmt: skip
    """Example micrographs and characteristic textures of each class, as in Figs. 11-12.

    One column per class: on top up to two example micrographs of the class, below its
    characteristic textures, each captioned with its label and value.

    Parameters
    ----------
    textures : dict
        ``{class: [(label, texture), ...]}``; bare textures instead of pairs are allowed.
    examples : dict
        ``{class: [(name, micrograph), ...]}``; the first two of each class are shown,
        each captioned with its name (its file name, say). Bare micrographs instead of
        pairs are allowed (no caption).
    values : dict, optional
        ``{class: [value, ...]}`` parallel to ``textures``: floats (shown with 3
        significant digits) or strings, added to the captions.
    class_names : sequence, optional
        The classes (columns) in order; by default the keys of ``textures``.
    title : str, optional
        Title of the whole figure.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a class has no textures entry or values do not match textures.

    Examples
    --------
    >>> texture = np.zeros((8, 8, 3))
    >>> fig = plot_characteristic_textures(
    ...     {"a": [("C3,3 #1", texture)], "b": [("C4,3 #2", texture)]},
    ...     {"a": [np.zeros((16, 16))], "b": []}, {"a": [0.5], "b": ["high"]})
    >>> [ax.get_xlabel() for ax in fig.axes if ax.images][1:]
    ['C3,3 #1\\n0.5', 'C4,3 #2\\nhigh']
    """
    classes = list(textures) if class_names is None else list(class_names)
    missing = [c for c in classes if c not in textures]
    if missing:
        raise InputError(f"no textures for class(es) {missing}; textures has {list(textures)}")
    pairs = {c: [_label_and_texture(item) for item in textures[c]] for c in classes}
    shown = {c: [_named(item) for item in list(examples.get(c, []))[:2]] for c in classes}
    captions = {c: list((values or {}).get(c, [None] * len(pairs[c]))) for c in classes}
    for c in classes:
        if len(captions[c]) != len(pairs[c]):
            raise InputError(
                f"class {c!r}: {len(pairs[c])} textures but {len(captions[c])} values"
            )
    n_examples = max(len(shown[c]) for c in classes)
    n_textures = max(len(pairs[c]) for c in classes)
    if not classes or n_examples + n_textures == 0:
        raise InputError("nothing to draw")
    # Rows as tall as their images at the column's width (micrographs are often wider
    # than tall), plus their captions: no blank bands between rows.
    width = 2.1
    heights = [
        width * _aspect([shown[c][i][1] for c in classes if i < len(shown[c])]) + _CAPTION
        for i in range(n_examples)
    ] + [
        width * _aspect([pairs[c][i][1] for c in classes if i < len(pairs[c])]) + 2 * _CAPTION
        for i in range(n_textures)
    ]  # fmt: skip
    if fig is None:
        size = (width * len(classes) + 0.5, sum(heights) + _TITLE * (1 + (title is not None)))
        fig = Figure(figsize=size, layout="constrained")
    if title is not None:
        fig.suptitle(title)
    axes = fig.subplots(n_examples + n_textures, len(classes), squeeze=False,
                        gridspec_kw={"height_ratios": heights})  # fmt: skip
    for j, c in enumerate(classes):
        axes[0, j].set_title(str(c), fontsize=_SMALL + 2, fontweight="bold")
        for i in range(n_examples):
            ax = axes[i, j]
            if i < len(shown[c]):
                name, image = shown[c][i]
                _show(ax, image)
                ax.set_xlabel(name or "", fontsize=_SMALL)
            else:
                ax.set_axis_off()
        for i in range(n_textures):
            ax = axes[n_examples + i, j]
            if i >= len(pairs[c]):
                ax.set_axis_off()
                continue
            label, texture = pairs[c][i]
            _show(ax, texture)
            value = captions[c][i]
            parts = [label, None if value is None else _format_value(value)]
            ax.set_xlabel("\n".join(p for p in parts if p), fontsize=_SMALL)
    # Row names in the left margin say which images are micrographs and which textures.
    for i in range(n_examples + n_textures):
        if axes[i, 0].axison:
            name = "example" if i < n_examples else "characteristic\ntexture"
            axes[i, 0].set_ylabel(name, fontsize=_SMALL + 1)
    return _root_figure(fig)
