"""The study's results table: one row per candidate, and the rows a reader asks for.

One job: turning a fitted search's ``cv_results_`` into the paper's table
(:func:`study_results`), and reading that table back: the best row, the rows
tied with it, the best model that filter textures can explain.
"""

import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ..exceptions import InputError
from ..features._layers import IMAGE_LAYER, canonical_layer, layer_order, n_channels, paper_name
from ..features.columns import WithColumns
from ..features.encoders import ENCODERS, GramEncoder, MeanPool, VLADEncoder, encoder_name
from ..features.union import UNION, MultiLayerUnion
from .models import model_name

__all__ = [
    "EXPLAINABLE",
    "PAPER_MODEL",
    "TIME_COLUMN",
    "best_explainable",
    "describe_layer",
    "describe_params",
    "describe_row",
    "metric_name",
    "model_rows",
    "row_pixel_size",
    "scale_label",
    "scale_rows",
    "source_rows",
    "study_results",
    "ties",
]

#: The paper's model's name in the ``model`` column: its rows are the paper's protocol.
PAPER_MODEL = "rf"

#: The seconds column: mean wall time to fit the forest (and the encoder) on
#: one training fold and score it on its test fold, features read from cache.
TIME_COLUMN = "fit_score_s_per_fold"

#: A row's ``pixel_size`` for the images' own pixels (with compared scales only).
NATIVE = "native"

#: A row's ``source`` (with columns only): the micrograph's textures, the data
#: table's columns beside them, or the columns alone.
SOURCES = ("image", "both", "columns")

#: The ``layer`` and ``encoder`` of a row of the columns alone: no texture.
NO_TEXTURE = "-"

#: Encoders whose features are one filter each, so filter textures and heat maps
#: explain them: the one list that study, fit, predict and explain read.
EXPLAINABLE = ("mean", "max")


def metric_name(scoring):
    """The table's column stem for a scoring: ``f1`` for every F1 scoring."""
    if isinstance(scoring, str):
        return "f1" if scoring.startswith("f1") else scoring
    return "score"


def metric_of(results):
    """The metric stem of a results table (from its ``<metric>_mean`` column)."""
    return next(c[: -len("_mean")] for c in results.columns if c.endswith("_mean"))


def _source(encoder):
    """A candidate's source, and its texture encoder (None for the columns alone)."""
    if isinstance(encoder, WithColumns):
        return ("columns" if encoder.encoder is None else "both"), encoder.encoder
    return "image", encoder


def _layer_label(layers, encoder):
    if encoder is None:
        return NO_TEXTURE
    # A union is labelled "union" whatever its layers, so that a union row can
    # never be mistaken for a single layer's (issue 10, item 1).
    if isinstance(encoder, MultiLayerUnion):
        return UNION
    if isinstance(layers, str):
        return canonical_layer(layers)
    (layer,) = layers
    return canonical_layer(layer)


def _n_features(encoder, layers):
    """Features an encoder makes from ``layers`` (without fitting it)."""
    if isinstance(layers, str):
        layers = [layers]
    if isinstance(encoder, MultiLayerUnion):
        return sum(_n_features(encoder.encoder or MeanPool(), [layer]) for layer in layers)
    (layer,) = layers
    c = n_channels(canonical_layer(layer))
    if isinstance(encoder, GramEncoder):
        return c * c if encoder.triangle == "full" else c * (c + 1) // 2
    if isinstance(encoder, VLADEncoder):
        return encoder.n_words * c
    return c


@validate_params({"search": [GridSearchCV], "n_column_features": [int, None]},
                 prefer_skip_nested_validation=True)
def study_results(search, n_column_features=None):
    """The study's table from a fitted search's ``cv_results_``.

    Parameters
    ----------
    search : GridSearchCV
        Fitted: a :class:`~sklearn_cnntexture.Study`'s ``search_``, or
        :func:`~sklearn_cnntexture.study.make_study` fitted (or any
        search over ``vgg__layers`` and ``encode`` of a pipeline with steps
        ``"vgg"`` and ``"encode"``).
    n_column_features : int or None, default=None
        Features the data table's columns make (a study with columns), added
        to ``n_features`` of the rows that take them.

    Returns
    -------
    results : pandas.DataFrame
        One row per candidate: ``layer`` (Keras name, ``"image"`` for the raw
        image, ``"union"`` for a :class:`MultiLayerUnion`), ``encoder``
        (``"mean"``, ``"max"``, ``"gram"``, ``"vlad"``),
        ``model`` (a name of :data:`~sklearn_cnntexture.study.models.MODELS`, or the
        class name of another estimator; ``"rf"`` is the paper's), ``n_features``,
        ``<metric>_mean`` and ``<metric>_std`` over all folds and repeats
        (``f1`` for F1 scorings, ``r2`` ...), ``fit_score_s_per_fold`` (mean
        seconds to fit the candidate on one training fold and score it on its
        test fold) and ``params`` (the candidate's parameters); with columns
        in the grid, ``source`` too (:data:`SOURCES`: ``"image"``, ``"both"``,
        ``"columns"``, whose ``layer`` and ``encoder`` are ``"-"``); with
        compared scales (``vgg__pixel_size`` in the grid), ``pixel_size``
        (:func:`scale_label`: ``"native"`` or the micrometres per pixel, as
        text; ``"-"`` for the columns alone). Sorted by model (in the grid's
        order), source, scale (the grid's order), layer (network order, image
        first, union last), then encoder.
    """
    cv = search.cv_results_
    metric = metric_name(search.scoring)
    rows = []
    for i, params in enumerate(cv["params"]):
        step, layers, model = _candidate(search, params)
        source, encoder = _source(step)
        textures = 0 if encoder is None else _n_features(encoder, layers)
        scale = params.get("vgg__pixel_size", search.estimator.named_steps["vgg"].pixel_size)
        rows.append({
            "source": source,
            "pixel_size": NO_TEXTURE if encoder is None else scale_label(scale),
            "layer": _layer_label(layers, encoder),
            "encoder": _encoder_label(encoder),
            "model": model_name(model),
            "n_features": textures + ((n_column_features or 0) if source != "image" else 0),
            f"{metric}_mean": cv["mean_test_score"][i],
            f"{metric}_std": cv["std_test_score"][i],
            TIME_COLUMN: cv["mean_fit_time"][i] + cv["mean_score_time"][i],
            "params": params,
        })
    table = pd.DataFrame(rows)
    if set(table["source"]) == {"image"}:
        table = table.drop(columns="source")  # the paper's table: images alone
    scales = _grid_scales(search.param_grid)
    if scales is None:
        table = table.drop(columns="pixel_size")  # one scale: the network's
    encoder_rank = {name: k for k, name in enumerate(ENCODERS)}
    model_rank = {name: k for k, name in enumerate(dict.fromkeys(table["model"]))}
    table["_m"] = [model_rank[name] for name in table["model"]]
    table["_s"] = [SOURCES.index(name) for name in table.get("source", ["image"] * len(table))]
    order = {label: k for k, label in enumerate(scales or [])}
    table["_p"] = [order.get(label, -1) for label in table.get("pixel_size", [None] * len(table))]
    table["_l"] = [99 if name == UNION else -1 if name == NO_TEXTURE else layer_order(name)
                   for name in table["layer"]]
    table["_e"] = [encoder_rank.get(name, 9) for name in table["encoder"]]
    order = ["_m", "_s", "_p", "_l", "_e"]
    table = table.sort_values(order, kind="stable").drop(columns=order)
    return table.reset_index(drop=True)


def scale_label(pixel_size):
    """A scale as the table names it: ``"native"``, or micrometres per pixel as text."""
    return NATIVE if pixel_size is None else f"{float(pixel_size):g}"


def _grid_scales(param_grid):
    """The scales a grid compares, as labels in its order; None when it sets none."""
    parts = [param_grid] if isinstance(param_grid, dict) else list(param_grid)
    scales = [scale_label(p) for part in parts for p in part.get("vgg__pixel_size", [])]
    return list(dict.fromkeys(scales)) or None


@validate_params({"results": [pd.DataFrame], "scale": [str, None]},
                 prefer_skip_nested_validation=True)
def scale_rows(results, scale=None):
    """The rows at one scale (the table's first when None; all rows of a table without
    compared scales). The columns alone, which have no scale, are kept."""
    if "pixel_size" not in results.columns:
        return results
    labels = [label for label in dict.fromkeys(results["pixel_size"].astype(str))
              if label != NO_TEXTURE]
    scale = labels[0] if scale is None and labels else scale
    return results[results["pixel_size"].astype(str).isin([scale, NO_TEXTURE])]


def _candidate(search, params):
    """A candidate's encoder, layers and model, the pipeline's own where the grid sets none."""
    steps = search.estimator.named_steps
    return (params.get("encode", steps["encode"]),
            params.get("vgg__layers", steps["vgg"].layers),
            params.get("model", steps["model"]))


def _encoder_label(encoder):
    return NO_TEXTURE if encoder is None else encoder_name(encoder)


def describe_params(search, params):
    """A candidate as a reader names it: ``"gram of block3_conv3, logreg"``."""
    step, layers, model = _candidate(search, params)
    source, encoder = _source(step)
    if source == "columns":
        return f"the data columns alone, {model_name(model)}"
    return (f"{_encoder_label(encoder)} of {_layer_label(layers, encoder)}"
            f"{' with the data columns' if source == 'both' else ''}, {model_name(model)}")


def describe_layer(layer):
    """A table's layer as a reader names it: ``block4_conv3 (C4,3)``, the raw image, the union."""
    if layer == UNION:
        return "the union of layers"
    if layer == IMAGE_LAYER:
        return "the raw image"
    return f"{layer} ({paper_name(layer)})"


def describe_row(row):
    """A table row as a reader names it, its source and scale included.

    ``mean of block4_conv3 (C4,3) with the data columns at native pixels``;
    ``the data columns alone``.
    """
    source = row.get("source", "image")
    if source == "columns":
        return "the data columns alone"
    scale = str(row.get("pixel_size", ""))
    return (f"{row['encoder']} of {describe_layer(row['layer'])}"
            + (" with the data columns" if source == "both" else "")
            + (" at native pixels" if scale == NATIVE
               else f" at {scale} um per pixel" if scale not in ("", NO_TEXTURE, "nan")
               else ""))


@validate_params({"results": [pd.DataFrame], "source": [StrOptions(set(SOURCES))]},
                 prefer_skip_nested_validation=True)
def source_rows(results, source="image"):
    """The rows of one source (all rows of a table without sources, for ``"image"``)."""
    if "source" not in results.columns:
        return results if source == "image" else results.iloc[:0]
    return results[results["source"] == source]


@validate_params({"results": [pd.DataFrame], "model": [str, None]},
                 prefer_skip_nested_validation=True)
def model_rows(results, model=None):
    """The rows of one model (the paper's when None and present, else the first listed).

    A table without a ``model`` column (written before models were a
    dimension of the study) is the paper's forest's, whole.
    """
    if "model" not in results.columns:
        return results
    if model is None:
        names = list(dict.fromkeys(results["model"]))
        if not names:
            return results  # no rows: none of any model
        model = PAPER_MODEL if PAPER_MODEL in names else names[0]
    return results[results["model"] == model]


@validate_params({"results": [pd.DataFrame], "best": [dict, pd.Series, None]},
                 prefer_skip_nested_validation=True)
def ties(results, best=None):
    """Rows within one standard deviation of the best row's mean score, best first.

    Parameters
    ----------
    results : pandas.DataFrame
        A table of :func:`study_results` (or its CSV).
    best : dict or None
        The row to compare with; None takes the highest mean score.

    Returns
    -------
    tied : pandas.DataFrame
        The other rows whose mean is at least the best mean minus its std.
    """
    metric = metric_of(results)
    mean, std = f"{metric}_mean", f"{metric}_std"
    if best is None:
        best = results.loc[results[mean].idxmax()]
    close = results[mean] >= best[mean] - best[std]
    same = (results["layer"] == best["layer"]) & (results["encoder"] == best["encoder"])
    for dimension in ("source", "pixel_size"):
        if dimension in results.columns:
            same &= results[dimension].astype(str) == str(best[dimension])
    if "model" in results.columns:
        same &= results["model"] == best["model"]
    return results[close & ~same].sort_values(mean, ascending=False, kind="stable")


@validate_params({"results": [pd.DataFrame]}, prefer_skip_nested_validation=True)
def best_explainable(results):
    """The best model of a study that filter textures can explain.

    Mean and max features are one filter each, so only they can be explained
    with filter textures; the raw image has no filters.

    Parameters
    ----------
    results : pandas.DataFrame
        A table of :func:`study_results`, or the ``results.csv`` a study wrote.

    Returns
    -------
    choice : Bunch
        ``layers`` (list of Keras names: all the study's layers for a union
        row), ``encoder`` (``"mean"`` or ``"max"``), ``row`` (the table row,
        a dict; its scale: :func:`row_pixel_size`) and ``metric``.

    Raises
    ------
    ValueError
        If the table holds no mean or max features of a CNN layer.
    """
    metric = metric_of(results)
    results = source_rows(results)  # the micrographs' own textures
    # explain_model fits the paper's forest (its importances name the textures).
    results = model_rows(results, PAPER_MODEL) if "model" in results.columns and (
        results["model"] == PAPER_MODEL).any() else results
    candidates = results[results["encoder"].isin(EXPLAINABLE)
                         & (results["layer"] != IMAGE_LAYER)]
    if candidates.empty:
        raise InputError("the study has no mean or max CNN features to explain")
    best = candidates.loc[candidates[f"{metric}_mean"].idxmax()]
    layers = [best["layer"]]
    if best["layer"] == UNION:
        layers = [name for name in dict.fromkeys(results["layer"])
                  if name not in (UNION, IMAGE_LAYER)]
    return Bunch(layers=layers, encoder=best["encoder"], row=best.to_dict(), metric=metric)


def row_pixel_size(row, default=None):
    """The scale of a table row, as ``VGGLayerTransformer(pixel_size=...)`` takes it.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`study_results` (or of its CSV).
    default : float or None, default=None
        What a row without a scale gives (a table that compares none, or the
        columns alone): the network's own ``pixel_size``.

    Returns
    -------
    pixel_size : float or None
        None for native pixels.
    """
    label = str(row.get("pixel_size", NO_TEXTURE))
    if label in (NO_TEXTURE, "nan"):
        return default
    return None if label == NATIVE else float(label)
