"""Two more dimensions of a study, side by side: sources and physical scales.

What the micrograph adds to the process record (:func:`plot_sources`), and
whether the model learned the magnification or the microstructure
(:func:`plot_scales`).

A study with a data table's columns (``Study(columns=...)``) scores each
candidate on the micrograph's textures alone (``image``), with the columns
beside them (``both``), and the columns alone (``columns``). This figure puts
the three next to each other: the score of each layer for the best encoder,
image and both, and the columns alone as a band across the layers.
"""

from numbers import Real

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.utils._param_validation import Interval, validate_params

from ..exceptions import InputError
from ._common import ENCODER_COLORS, SMALL, TEXT_CONSTRAINT, layer_label

__all__ = ["plot_scales", "plot_sources"]

_SOURCE_STYLE = {"image": "-", "both": "--"}
_SOURCE_NAME = {"image": "micrograph", "both": "micrograph + columns",
                "columns": "columns alone"}


@validate_params(
    {"results": [pd.DataFrame], "metric": [str],
     "chance": [Interval(Real, None, None, closed="neither"), None],
     "columns": [list, tuple, None], "title": TEXT_CONSTRAINT, "data": TEXT_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def plot_sources(results, *, metric="f1", chance=None, columns=None, title=None, data=None):
    """Score per layer of the micrograph alone and with the columns, and the columns alone.

    Parameters
    ----------
    results : pandas.DataFrame
        A study's table with a ``source`` column (one model's rows).
    metric : str, default="f1"
        The table's metric stem (``<metric>_mean``, ``<metric>_std``).
    chance : float or None, default=None
        A blind guess's score, drawn dotted.
    columns : list of str or None, default=None
        The columns' names, for the legend.
    title, data : str or None
        The figure's title and the data's line above it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "source" not in results.columns:
        raise InputError("results have no source column: the study had no data columns")
    mean, std = f"{metric}_mean", f"{metric}_std"
    image = results[results["source"] == "image"]
    # The encoder of the best image row: its layers, with and without the columns.
    encoder = (image.loc[image[mean].idxmax(), "encoder"] if len(image)
               else results.loc[results[mean].idxmax(), "encoder"])
    textured = results[(results["source"] != "columns") & (results["encoder"] == encoder)]
    layers = list(dict.fromkeys(textured["layer"]))
    fig, ax = _figure(layers)
    for source, style in _SOURCE_STYLE.items():
        rows = textured[textured["source"] == source]
        if len(rows):
            _line(ax, rows, layers, mean, std, style, encoder,
                  f"{_SOURCE_NAME[source]} ({encoder})")
    named = f": {', '.join(columns)}" if columns else ""
    _band(ax, results[results["source"] == "columns"], mean, std,
          f"{_SOURCE_NAME['columns']}{named}")
    _finish(ax, layers, metric, chance,
            data, title or "What the micrograph adds to the data columns")
    return fig


_SCALE_STYLES = ("-", "--", ":", "-.")


@validate_params(
    {"results": [pd.DataFrame], "metric": [str],
     "chance": [Interval(Real, None, None, closed="neither"), None],
     "title": TEXT_CONSTRAINT, "data": TEXT_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def plot_scales(results, *, metric="f1", chance=None, title=None, data=None):
    """Score per layer at each compared scale (native pixels, a common pixel size).

    The best encoder's rows (of the micrograph alone), one line per scale: a
    model that scores well at native pixels and not at a common pixel size
    told the magnification apart, not the microstructure. A study with data
    columns alone (the pixel size, say) draws their score as a band.

    Parameters
    ----------
    results : pandas.DataFrame
        A study's table with a ``pixel_size`` column (one model's rows).
    metric : str, default="f1"
        The table's metric stem.
    chance : float or None, default=None
        A blind guess's score, drawn dotted.
    title, data : str or None
        The figure's title and the data's line above it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "pixel_size" not in results.columns:
        raise InputError("results have no pixel_size column: the study compared no scales")
    mean, std = f"{metric}_mean", f"{metric}_std"
    alone = None
    if "source" in results.columns:
        alone = results[results["source"] == "columns"]
        results = results[results["source"] == "image"]
    scales = [label for label in dict.fromkeys(results["pixel_size"].astype(str))
              if label != "-"]
    encoder = results.loc[results[mean].idxmax(), "encoder"]
    rows = results[results["encoder"] == encoder]
    layers = list(dict.fromkeys(rows["layer"]))
    fig, ax = _figure(layers)
    for k, scale in enumerate(scales):
        name = "native pixels" if scale == "native" else f"{scale} um per pixel"
        _line(ax, rows[rows["pixel_size"].astype(str) == scale], layers, mean, std,
              _SCALE_STYLES[k % 4], encoder, f"{name} ({encoder})")
    if alone is not None:  # e.g. the pixel size alone: the magnification
        _band(ax, alone, mean, std, "the data columns alone")
    _finish(ax, layers, metric, chance,
            data, title or "Magnification or microstructure: the images at each scale")
    return fig


def _figure(layers):
    """A figure with one axes, as wide as its layers need."""
    fig = Figure(figsize=(max(5.0, 1.0 * len(layers) + 2.5), 4.0), layout="constrained")
    return fig, fig.add_subplot()


def _line(ax, rows, layers, mean, std, style, encoder, label):
    """One series of rows over the layers: mean with std bars, the encoder's colour."""
    rows = rows.set_index("layer").reindex(layers)
    ax.errorbar(np.arange(len(layers)), rows[mean], yerr=rows[std], linestyle=style,
                marker="o", capsize=3, color=ENCODER_COLORS.get(encoder, "0.2"), label=label)


def _band(ax, rows, mean, std, label):
    """The best of rows that have no layer (the data columns alone), across the axes."""
    if not len(rows):
        return
    best = rows.loc[rows[mean].idxmax()]
    ax.axhspan(best[mean] - best[std], best[mean] + best[std], color="0.85", zorder=0)
    ax.axhline(best[mean], color="0.3", linewidth=1.5, label=label)


def _finish(ax, layers, metric, chance, data, title):
    """The chance line, the layer names, the labels, the legend and the two-line title."""
    if chance is not None:
        ax.axhline(chance, color="0.4", linestyle=":", linewidth=1.3,
                   label=f"chance ({chance:.2f})")
    ax.set_xticks(np.arange(len(layers)), [layer_label(name) for name in layers],
                  fontsize=SMALL)
    ax.set_xlabel("layer")
    ax.set_ylabel(f"{metric} (mean +- std over folds)")
    ax.legend(fontsize=SMALL, loc="best")
    ax.set_title("\n".join(part for part in (data, title) if part), fontsize=SMALL + 1)
