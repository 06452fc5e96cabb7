"""Use the study's winner: fit it, predict new micrographs, score and explain them.

:func:`study_configuration` reads a study folder's best row back as a
pipeline (the same network settings, layer or union, encoder and model, VLAD
at the study's size), :func:`fit_model` fits it on all the data,
:func:`predict_table` gives one row per image, :func:`score_predictions` the
F1, accuracy and confusion matrix where labels are known, and
:func:`supporting_filters` the filters that most support each prediction.

Before any image goes through the network, :func:`check_images` refuses
images a model cannot predict honestly: another channel count than the
training images', or too small for the model's deepest layer (both named).
"""

import os
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from .. import io
from ..exceptions import InputError
from ..features import _layers
from ..features.columns import COLUMN_PREFIX, WithColumns, check_columns
from ..features.encoders import ENCODERS
from ..features.featurize import make_featurizer
from ..features.union import UNION, MultiLayerUnion
from ..io import records
from ..plotting import filter_label
from ..study._table import EXPLAINABLE, describe_row, row_pixel_size
from ..study.models import TASKS, make_model

__all__ = ["check_images", "configuration_pipeline", "explained_figure_paths", "fit_model",
           "predict_table", "score_predictions", "study_configuration", "supporting_filters"]


@validate_params(
    {
        "vgg": [HasMethods(["fit", "transform"])],
        "layers": [str, list, tuple],
        "encoder": [StrOptions(set(ENCODERS)), None],
        "task": [StrOptions(set(TASKS))],
        "model": [str, HasMethods(["fit"])],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "vlad_resize": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "columns": [list, tuple, None],
        "missing": [StrOptions({"error", "impute"})],
    },
    prefer_skip_nested_validation=True,
)
def configuration_pipeline(vgg, layers, encoder="mean", *, task="classification", model="rf",
                           n_estimators=400, random_state=0, vlad_resize=None, columns=None,
                           missing="error"):
    """The unfitted pipeline ``vgg -> encode -> model`` of one study configuration.

    :func:`~sklearn_cnntexture.features.featurize.make_featurizer` then
    :func:`~sklearn_cnntexture.study.models.make_model`: the same features and model
    the study scored, whether read from its table or given by hand.

    Parameters
    ----------
    vgg : VGGLayerTransformer
        Weights and preprocessing (cloned; ``layers`` set here).
    layers : str or list of str
        One layer, or several for the union of their features.
    encoder : {"mean", "max", "gram", "vlad"} or None, default="mean"
        Several layers take the union of this encoder over each; None, with
        ``columns``, takes the columns alone.
    task : {"classification", "regression"}
    model : str or estimator, default="rf"
        ``"rf"`` (the paper's forest) or another name of
        :data:`sklearn_cnntexture.study.models.MODELS`, or an estimator (cloned).
    n_estimators, random_state : int
        Trees and seed of the model (and VLAD's seed).
    vlad_resize : int, (height, width) or None
        VLAD's image size, as in the study (None keeps ``vgg.resize``).
    columns : list of str or None, default=None
        Columns of the data table beside the textures (see
        :func:`~sklearn_cnntexture.features.featurize.make_featurizer`).
    missing : {"error", "impute"}, default="error"
        Their empty cells: refused or imputed.

    Returns
    -------
    pipeline : Pipeline
        Steps ``"vgg"``, ``"encode"`` and ``"model"``.

    Examples
    --------
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.model.predict import configuration_pipeline
    >>> vgg = VGGLayerTransformer(weights=None, random_state=0)
    >>> pipeline = configuration_pipeline(vgg, ["C1_2", "C2_2"], "max", n_estimators=10)
    >>> [type(step).__name__ for _, step in pipeline.steps]
    ['VGGLayerTransformer', 'MultiLayerUnion', 'RandomForestClassifier']
    """
    features = make_featurizer(vgg, encoder, layers=layers, vlad_resize=vlad_resize,
                               random_state=random_state, columns=columns, missing=missing)
    # All cores: a model of fit (or predict) runs alone, unlike the study's many.
    estimator = make_model(model, task, n_estimators=n_estimators, n_jobs=-1,
                           random_state=random_state)
    return Pipeline([*features.steps, ("model", estimator)])


@validate_params({"study": [dict], "task": [StrOptions(set(TASKS))]},
                 prefer_skip_nested_validation=True)
def study_configuration(study, *, task="classification"):
    """The best row of a study, as an unfitted pipeline and what the card says of it.

    Parameters
    ----------
    study : Bunch
        From :func:`sklearn_cnntexture.study.load_study`.
    task : {"classification", "regression"}

    Returns
    -------
    choice : Bunch
        ``pipeline`` (unfitted), ``configuration`` (``layers``, ``encoder``,
        ``model``; ``source`` and ``columns`` for a row with data columns),
        ``cv_score`` (``metric``, ``mean``, ``std``) and ``pixel_size`` (the
        row's scale, where the study compared scales: the network's else).

    Raises
    ------
    ValueError
        If the study has no config (written before ``study.json``), its
        task is not ``task``, or its best row is a candidate this function
        does not rebuild.
    """
    if study.config is None or study.vgg is None:
        raise InputError("the study folder has no study.json (written by an older version): "
                         "give --layers and --encoder instead of --study")
    results, config = study.results, study.config
    metric = next(c[: -len("_mean")] for c in results.columns if c.endswith("_mean"))
    # Studies before "task" was recorded: their default metrics tell.
    studied = config.get("task") or {"f1": "classification", "r2": "regression"}.get(metric)
    if studied is not None and studied != task:
        raise InputError(f"the study is a {studied} study ({metric}), but the data have "
                         f"{'class labels' if task == 'classification' else 'numeric targets'}"
                         f": fit a {task} model with --layers and --encoder, or run a study "
                         "of these data")
    best = results.loc[results[f"{metric}_mean"].idxmax()].to_dict()
    layer, encoder, model = best["layer"], best["encoder"], best.get("model", "rf")
    source = best.get("source", "image")
    # The best row's scale where the study compared scales, else the network's.
    study.vgg.set_params(pixel_size=row_pixel_size(best, default=study.vgg.pixel_size))
    columns = config.get("columns") if source != "image" else None
    if source == "columns":
        pipeline = configuration_pipeline(
            study.vgg, [_layers.PAPER_LAYERS[0]], None, task=task, model=model,
            n_estimators=config["n_estimators"], random_state=config["random_state"],
            columns=columns, missing=config.get("missing", "error"))
        return Bunch(pipeline=pipeline,
                     configuration={"layers": ["-"], "encoder": "-", "model": model,
                                    "source": source, "columns": list(columns),
                                    "row": f"{describe_row(best)}, {model}"},
                     cv_score=_cv_score(best, metric), pixel_size=study.vgg.pixel_size)
    if encoder not in ENCODERS or layer not in (UNION, *_layers.CONV_LAYERS,
                                                 _layers.IMAGE_LAYER):
        raise InputError(f"the study's best candidate is {encoder} of {layer}, which fit "
                         "cannot rebuild: give --layers and --encoder")
    layers = config["layers"] if layer == UNION else [layer]
    if layer == UNION:
        encoder = "mean"  # the study's union is of mean features
    pipeline = configuration_pipeline(
        study.vgg, layers, encoder, task=task, model=model,
        n_estimators=config["n_estimators"], random_state=config["random_state"],
        vlad_resize=config.get("vlad_resize"), columns=columns,
        missing=config.get("missing", "error"),
    )
    configuration = {"layers": layers, "encoder": encoder, "model": model,
                     "row": f"{describe_row(best)}, {model}"}
    if columns:
        configuration.update(source=source, columns=list(columns))
    return Bunch(pipeline=pipeline, configuration=configuration,
                 cv_score=_cv_score(best, metric), pixel_size=study.vgg.pixel_size)


def _cv_score(best, metric):
    return {"metric": metric, "mean": float(best[f"{metric}_mean"]),
            "std": float(best[f"{metric}_std"])}


@validate_params({"pipeline": [Pipeline], "X": ["array-like"], "y": ["array-like"]},
                 prefer_skip_nested_validation=True)
def fit_model(pipeline, X, y):
    """Fit a pipeline on all of ``X`` and the training features' statistics.

    Raises
    ------
    ValueError
        For a classifier, if ``y`` holds one class only; if the data table
        lacks the pipeline's columns or leaves them empty (both before any
        image goes through the network).

    Returns
    -------
    model : Pipeline
        Fitted.
    feature_stats : dict or None
        For mean and max encoders, per-class means and the overall mean and
        std of every feature (lists), which :func:`supporting_filters` ranks
        filters with; None for other encoders.
    """
    if is_classifier(pipeline) and len(np.unique(np.asarray(y))) < 2:
        raise InputError(f"only one class ('{np.unique(np.asarray(y))[0]}'): a classifier "
                         "needs at least two")
    step = pipeline.named_steps.get("encode")
    if isinstance(step, WithColumns) and step.columns:  # before any image is read
        check_columns(X, list(step.columns), step.missing)
    model = clone(pipeline)
    features = model[:-1].fit_transform(X, y)
    model.steps[-1][1].fit(features, y)
    encoder = model.named_steps["encode"]
    if isinstance(encoder, WithColumns):  # the textures beside the data columns
        encoder = encoder.encoder
    inner = encoder.encoder if isinstance(encoder, MultiLayerUnion) else encoder
    per_filter = tuple(ENCODERS[name] for name in EXPLAINABLE)
    if not isinstance(inner, per_filter) or not is_classifier(model):
        return model, None
    y = np.asarray(y)
    classes = model.classes_
    return model, {
        "names": [str(n) for n in model[:-1].get_feature_names_out()],
        "mean": features.mean(axis=0).tolist(),
        "std": features.std(axis=0).tolist(),
        "class_means": {str(c): features[y == c].mean(axis=0).tolist() for c in classes},
    }


@validate_params({"model": [Pipeline], "X": ["array-like"], "card": [dict]},
                 prefer_skip_nested_validation=True)
def check_images(model, X, card):
    """Refuse images a model cannot predict honestly, before the network runs.

    Raises
    ------
    ValueError
        Naming the data columns the model takes beside the textures that
        ``X`` lacks (or leaves empty, for a model fitted without empty
        cells); naming the images (the first few, and a count) whose content is of
        another kind than the training images' (gray or colour, decided by
        the pixels: gray saved as RGB is gray), or too small for the model's
        deepest layer after its crop, resampling and resize
        (:meth:`VGGLayerTransformer.check_input_sizes`).
    """
    vgg = model.named_steps["vgg"]
    trained = set(card.get("channels") or [1, 3])
    kinds = {1: "gray", 3: "colour"}
    _check_columns(card.get("columns"), X)
    images = records.images_of(X)
    other = [f"'{item}' ({kinds[channels]})" for item in images if io.is_image_path(item)
             for channels in [io.image_channels(item)] if channels not in trained]
    if other:
        named = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise InputError(
            f"{len(other)} of the {len(images)} images are not "
            f"{' or '.join(kinds[c] for c in sorted(trained))} as the model's training images "
            f"were: {named}; their features would not be comparable: convert them first"
        )
    vgg.check_input_sizes(X)


def _check_columns(columns, X):
    """Refuse data without the table columns the model was fitted with, naming them."""
    if not columns:
        return
    names = list(columns["numeric"]) + list(columns["categorical"])
    check_columns(X, names, columns["missing"], fitted=True)


@validate_params({"model": [Pipeline], "X": ["array-like"]},
                 prefer_skip_nested_validation=True)
def predict_table(model, X):
    """One row per image: ``path``, ``predicted``, and each class's probability.

    Parameters
    ----------
    model : Pipeline
        Fitted.
    X : list of str, or DataFrame with a ``path`` column
        Image files (see :mod:`sklearn_cnntexture.io.records`).

    Returns
    -------
    table : pandas.DataFrame
        ``path``, ``predicted`` and ``probability_<class>`` per class for a
        classifier; ``path`` and ``predicted`` (the value) for a regressor.
    features : ndarray
        The images' features (what the model's last step saw).
    """
    features = model[:-1].transform(X)
    estimator = model.steps[-1][1]
    table = pd.DataFrame({"path": [str(x) for x in records.images_of(X)]})
    if is_classifier(estimator):
        proba = estimator.predict_proba(features)
        table["predicted"] = estimator.classes_[proba.argmax(axis=1)]
        for k, name in enumerate(estimator.classes_):
            table[f"probability_{name}"] = proba[:, k]
    else:
        table["predicted"] = estimator.predict(features)
    return table, features


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "classes": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def score_predictions(y_true, y_pred, classes):
    """F1 (macro), accuracy and the confusion matrix of labelled predictions.

    Scored over the classes present (among the labels or the predictions),
    so a data set of one class is not marked down for the classes it lacks.
    A label the model does not know stays in the confusion matrix (as a row
    no prediction can match) and is named in ``unknown``.

    Parameters
    ----------
    y_true : array-like of str
        The images' labels.
    y_pred : array-like of str
        The predicted classes.
    classes : list of str
        The model's classes.

    Returns
    -------
    scores : Bunch
        ``f1``, ``accuracy``, ``confusion`` (DataFrame, rows true, columns
        predicted, over the model's classes then the unknown labels),
        ``classes`` (its labels), ``scored`` (the classes present, which F1
        averages over) and ``unknown`` (dict of unknown label -> image count).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    y_true = np.asarray(y_true, dtype=str)
    y_pred = np.asarray(y_pred, dtype=str)
    known = [str(c) for c in classes]
    names, counts = np.unique(y_true, return_counts=True)
    unknown = {str(n): int(k) for n, k in zip(names, counts) if n not in known}
    labels = known + list(unknown)
    present = set(y_true) | set(y_pred)
    scored = [c for c in labels if c in present]
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    # zero_division: a present class never predicted has F1 0, said without a warning.
    f1 = f1_score(y_true, y_pred, labels=scored, average="macro", zero_division=0.0)
    return Bunch(f1=float(f1), accuracy=float(accuracy_score(y_true, y_pred)),
                 confusion=pd.DataFrame(matrix, index=labels, columns=labels), classes=labels,
                 scored=scored, unknown=unknown)


@validate_params({"folder": [str, os.PathLike], "X": ["array-like"]},
                 prefer_skip_nested_validation=True)
def explained_figure_paths(folder, X):
    """One figure file per image in ``folder``, mirroring the images' own folders.

    Images of the same name in different folders (class folders) get
    different figures: each path keeps the image's folders below the deepest
    folder all images share.

    Examples
    --------
    >>> [str(p) for p in explained_figure_paths("out", ["d/a/x.png", "d/b/x.png"])]
    ['out/a/x.png', 'out/b/x.png']
    """
    import os
    from pathlib import Path

    paths = [Path(os.path.abspath(x)) for x in records.images_of(X)]
    common = Path(os.path.commonpath([p.parent for p in paths])) if paths else Path()
    return [Path(folder) / p.relative_to(common).with_suffix(".png") for p in paths]


def plot_confusion(scores, title=None):
    """The confusion matrix as a matplotlib figure (counts, rows true)."""
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.metrics import ConfusionMatrixDisplay

    display = ConfusionMatrixDisplay(scores.confusion.to_numpy(), display_labels=scores.classes)
    display.plot(cmap="Blues", colorbar=False)
    display.ax_.set_title(title or f"F1 (macro) {scores.f1:.3f}, accuracy {scores.accuracy:.3f}")
    display.figure_.tight_layout()
    return display.figure_


@validate_params(
    {"model": "no_validation",  # a fitted pipeline; only its last step is read
     "features": ["array-like"], "predicted": ["array-like"], "stats": [dict],
     "n": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def supporting_filters(model, features, predicted, stats, n):
    """The ``n`` filters that most support each image's predicted class.

    Only texture features are ranked (a data column beside them has no heat
    map). A filter supports class c in an image when the image's value of it lies on
    class c's side of the training mean (``(x - mean) / std`` has the sign of
    ``class_mean_c - mean``), weighted by the model's importance of it
    (``feature_importances_``; equal weights for a model without them).

    Returns
    -------
    chosen : list of list of (str, int)
        Per image, ``(layer, filter)`` pairs, most supporting first.
    """
    estimator = model.steps[-1][1]
    weights = getattr(estimator, "feature_importances_", None)
    weights = np.ones(features.shape[1]) if weights is None else np.asarray(weights)
    mean, std = np.asarray(stats["mean"]), np.asarray(stats["std"]) + 1e-12
    # Only filters have heat maps: a data column beside the textures never supports here.
    texture = np.array([not name.startswith(COLUMN_PREFIX) for name in stats["names"]])
    chosen = []
    for x, label in zip(features, predicted):
        side = np.sign(np.asarray(stats["class_means"][str(label)]) - mean)
        support = np.where(texture, weights * side * (x - mean) / std, -np.inf)
        top = np.argsort(-support, kind="stable")[:min(n, int(texture.sum()))]
        chosen.append([_layer_filter(stats["names"][j]) for j in top])
    return chosen


def _layer_filter(name):
    """``block3_conv3__mean__17`` (or ``mean__17`` of one layer) -> (layer, 17)."""
    parts = name.split("__")
    return parts[0], int(parts[-1])


#: Most pixels a side of the micrograph in a heat-map figure.
_SHOWN_PIXELS = 2048


def heatmap_figure(model, item, pairs, *, pixel_size=None, title=None):
    """An image next to the heat maps of ``pairs`` of (layer, filter), as the model sees it.

    The image is cropped and resampled to the model's pixel size as the model
    does, so each heat map lies on the image it shows; one forward pass
    gives every map.

    Parameters
    ----------
    model : Pipeline
        Fitted; its ``"vgg"`` step decides the network and preprocessing.
    item : str or array
        One image.
    pairs : list of (str, int)
        Layers and filters, e.g. from :func:`supporting_filters`.
    pixel_size : float or None
        The image's own micrometres per pixel (needed when the model has a
        ``pixel_size``).
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vgg = model.named_steps["vgg"]
    layers = sorted({layer for layer, _ in pairs}, key=_layers.layer_order)
    wanted = {layer: [f for other, f in pairs if other == layer] for layer in layers}
    # Preprocessed as the model's features are (crop, pixel size, resize), read once.
    maps, image, _ = vgg.filter_maps(item, wanted, pixel_size=pixel_size)
    # The cropped image as read, shown at most _SHOWN_PIXELS a side (a figure
    # cannot show more); imshow scales it, so its intensity scale does not matter.
    step = -(-max(image.shape[:2]) // _SHOWN_PIXELS)
    gray = np.asarray(image[::step, ::step], dtype=np.float32)
    gray = gray.mean(axis=-1) if gray.ndim == 3 else gray
    fig, axes = plt.subplots(1, len(pairs) + 1, figsize=(3.2 * (len(pairs) + 1), 3.4),
                             squeeze=False)
    axes = axes[0]
    axes[0].imshow(gray, cmap="gray")
    axes[0].set_title("micrograph" if title is None else title, fontsize=9)
    for ax, (layer, f) in zip(axes[1:], pairs):
        activation = maps[layer][:, :, [wanted[layer].index(f)]]
        heat = io.resize_image(activation, gray.shape)[:, :, 0]
        ax.imshow(gray, cmap="gray")
        ax.imshow(heat, cmap="inferno", alpha=0.55)
        ax.set_title(filter_label(layer, f), fontsize=9)  # one naming everywhere: C3,3 #174
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return fig
