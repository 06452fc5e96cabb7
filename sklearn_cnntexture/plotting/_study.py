"""Figures of the layer x encoder study: Figs. 6 and 7 of Ling et al. 2017, per model.

:func:`plot_study` (Fig. 6), :func:`plot_union` (Fig. 7), :func:`plot_models` (Fig. 6 once
per model), with :func:`chance_level` for their chance line and :func:`describe_data` for
their title. The study tables are used through their pandas methods.
"""

import zlib
from numbers import Integral, Real

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pandas import DataFrame
from sklearn.utils._param_validation import Interval, validate_params

from ..exceptions import InputError
from ..features._layers import CONV_LAYERS, IMAGE_LAYER, canonical_layer, layer_order
from ._common import (
    ENCODER_COLORS,
    ENCODER_MARKERS,
    ENCODERS,
    EXTRA_COLORS,
    SMALL,
    TEXT_CONSTRAINT,
    UNION_COLOR,
    layer_label,
    require_columns,
    root_figure,
)

__all__ = ["chance_level", "describe_data", "plot_models", "plot_study", "plot_union"]

_UNION_LAYER = "union"
_METRIC_LABELS = {"f1": "F1 score", "r2": "R²", "accuracy": "Accuracy"}

# Parameter constraints of @validate_params shared by the study figures.
_CHANCE = [Real, None]
#: plot_study's and plot_union's own; plot_models' are a subset.
_STUDY_CONSTRAINTS = {
    "results": [DataFrame], "metric": [str], "chance": _CHANCE, "ylabel": TEXT_CONSTRAINT,
    "title": TEXT_CONSTRAINT, "ax": [Axes, None], "model": TEXT_CONSTRAINT,
    "data": TEXT_CONSTRAINT,
}


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
        return ENCODER_COLORS[encoder], ENCODER_MARKERS[encoder]
    return EXTRA_COLORS[zlib.crc32(str(encoder).encode()) % len(EXTRA_COLORS)], "v"


def _axes_or_new(ax, figsize):
    """(figure, axes): the caller's axes, or one axes on a new constrained-layout figure."""
    if ax is not None:
        return root_figure(ax.figure), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _check_results(results, metric):
    """Validate a study table and return it."""
    require_columns(results, ["layer", "encoder", f"{metric}_mean", f"{metric}_std"], "results")
    duplicated = results.duplicated(["layer", "encoder"])
    if duplicated.any():
        pairs = results.loc[duplicated, ["layer", "encoder"]].drop_duplicates()
        raise InputError(
            "results have several rows for the same (layer, encoder): "
            f"{list(map(tuple, pairs.to_numpy()))}; keep one row per pair"
        )
    return results


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
        "name": TEXT_CONSTRAINT,
        "n_images": [Interval(Integral, 0, None, closed="left"), None],
        "n_classes": [Interval(Integral, 0, None, closed="left"), None],
        "cv": TEXT_CONSTRAINT,
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
        bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize=SMALL, title_fontsize=SMALL + 1,
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
                              color=UNION_COLOR, hatch="//",
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
            fontsize=SMALL,
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
              borderaxespad=0, fontsize=SMALL)
    return fig


@validate_params(
    {"results": [DataFrame], "metric": [str], "chance": _CHANCE, "title": TEXT_CONSTRAINT,
     "data": TEXT_CONSTRAINT},
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
    require_columns(results, ["model"], "results")
    models = list(dict.fromkeys(results["model"]))
    fig = Figure(figsize=(7.5, 3.4 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 1, squeeze=False, sharey=True)[:, 0]
    for ax, model in zip(axes, models):
        plot_study(results, metric=metric, chance=chance, ax=ax, model=model,
                   title=f"model: {model}")
    if _title(data, title) is not None:
        fig.suptitle(_title(data, title))
    return fig
