"""Figures of the textures: Fig. 8 (a grid), Fig. 9 (the most important), Figs. 11-12.

:func:`plot_texture_grid`, :func:`plot_important_textures` and
:func:`plot_characteristic_textures`: filter textures and example micrographs, each in a
cell of a grid as tall as its images.
"""

from collections.abc import Mapping
from numbers import Integral

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from pandas import DataFrame
from sklearn.utils._param_validation import Interval, validate_params

from ..exceptions import InputError
from ._common import (
    FIG_CONSTRAINT,
    PALETTE,
    SMALL,
    TEXT_CONSTRAINT,
    layer_label,
    max_aspect,
    require_columns,
    root_figure,
    show_image,
)

__all__ = ["plot_characteristic_textures", "plot_important_textures", "plot_texture_grid"]

#: Width of one image cell in the grids of textures and micrographs, in inches, and the
#: room for a one-line caption under it and for a block's title above it.
_CELL, _CAPTION, _TITLE = 1.3, 0.28, 0.32


def _named(item):
    """(name, image) from a (name, image) pair or a bare image (name None)."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item
    return None, item


def _format_value(value):
    return value if isinstance(value, str) else f"{value:.3g}"


@validate_params(
    {
        "textures": ["array-like", dict],
        "labels": ["array-like", dict, None],
        "ncols": [Interval(Integral, 1, None, closed="left")],
        "title": TEXT_CONSTRAINT,
        "fig": FIG_CONSTRAINT,
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
        _CELL * max_aspect(images) + _CAPTION for (_, images, _), rows in zip(blocks, nrows)
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
            show_image(ax, images[i])
            ax.set_xlabel(f"#{i}" if names is None else names[i], fontsize=SMALL)
            if i == 0 and name is not None:
                ax.set_ylabel(name, fontsize=SMALL + 2, fontweight="bold")
    return root_figure(fig)


@validate_params(
    {
        "textures": ["array-like"],
        "table": [DataFrame],
        "class_names": ["array-like", None],
        "title": TEXT_CONSTRAINT,
        "fig": FIG_CONSTRAINT,
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
    require_columns(table, ["layer", "filter", "importance"], "table")
    if class_names is None:
        class_names = [str(c)[len("mean_"):] for c in table.columns if str(c).startswith("mean_")]
    class_names = list(class_names)
    require_columns(table, [f"mean_{name}" for name in class_names], "table")
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
    colors = [PALETTE[i % len(PALETTE)] for i in range(n_classes)]
    first_bars = None
    for rank, i in enumerate(order, start=1):
        row = table.iloc[i]
        image_ax = fig.add_subplot(grid[0, rank - 1])
        show_image(image_ax, textures[i])
        image_ax.set_title(
            f"#{rank}  {layer_label(row['layer'])} #{row['filter']}\n"
            f"importance {row['importance']:.3g}", fontsize=SMALL,
        )  # fmt: skip
        bars_ax = fig.add_subplot(grid[1, rank - 1], sharey=first_bars)
        values = [float(row[f"mean_{name}"]) for name in class_names]
        bars_ax.barh(np.arange(n_classes), values, color=colors, edgecolor="black", linewidth=0.5)
        bars_ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
        bars_ax.tick_params(labelsize=SMALL)
        if first_bars is None:  # class names once, on the left; the y axis is shared
            first_bars = bars_ax
            bars_ax.set_yticks(np.arange(n_classes), class_names)
            bars_ax.invert_yaxis()  # first class on top
        else:
            bars_ax.tick_params(labelleft=False)
    fig.supxlabel("mean activation of the filter in each class", fontsize=SMALL + 1)
    return root_figure(fig)


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
        "title": TEXT_CONSTRAINT,
        "fig": FIG_CONSTRAINT,
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
        width * max_aspect([shown[c][i][1] for c in classes if i < len(shown[c])]) + _CAPTION
        for i in range(n_examples)
    ] + [
        width * max_aspect([pairs[c][i][1] for c in classes if i < len(pairs[c])]) + 2 * _CAPTION
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
        axes[0, j].set_title(str(c), fontsize=SMALL + 2, fontweight="bold")
        for i in range(n_examples):
            ax = axes[i, j]
            if i < len(shown[c]):
                name, image = shown[c][i]
                show_image(ax, image)
                ax.set_xlabel(name or "", fontsize=SMALL)
            else:
                ax.set_axis_off()
        for i in range(n_textures):
            ax = axes[n_examples + i, j]
            if i >= len(pairs[c]):
                ax.set_axis_off()
                continue
            label, texture = pairs[c][i]
            show_image(ax, texture)
            value = captions[c][i]
            parts = [label, None if value is None else _format_value(value)]
            ax.set_xlabel("\n".join(p for p in parts if p), fontsize=SMALL)
    # Row names in the left margin say which images are micrographs and which textures.
    for i in range(n_examples + n_textures):
        if axes[i, 0].axison:
            name = "example" if i < n_examples else "characteristic\ntexture"
            axes[i, 0].set_ylabel(name, fontsize=SMALL + 1)
    return root_figure(fig)
