"""The layer x encoder study of Ling et al. 2017 (their Figs. 6 and 7), as a GridSearchCV.

For a labelled set of micrographs: the cross-validated score of a random
forest on the features of every VGG16 layer x every encoder, each encoder on
the raw image (no CNN), and the union of the mean features of all layers.

The study is a plain :class:`~sklearn.model_selection.GridSearchCV` over
``vgg__layers`` and ``encode`` of one pipeline (:func:`make_study`), made
cheap by the per-image cache of :class:`VGGLayerTransformer`: every image
goes through the network once per distinct input (VLAD's 255 x 255 resize
is a second one), not once per candidate and fold. :func:`run_study` fills
the cache first (:func:`fill_cache`), with a progress bar per pass, then fits
the grid with a bar over its fits; :func:`study_results` turns
``cv_results_`` into the paper's table.

Beyond the paper's protocol, the model is a dimension of the grid
(``models=``, names from :mod:`~sklearn_cnntexture.models`; the paper's
forest alone by default), and :func:`nested_study` (``run_study(nested=True)``) estimates what "run
the whole selection and use its winner" scores on unseen images: the number
to report, where the best cell's score is optimistic.

The folds and the data checks live in ``_cv``, the grid in ``_grid``, the
table in ``_table``, the nested estimate in ``_nested``; their public names
are importable from here.
"""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch

from . import parallel
from ._cv import RepeatedGroupSplits, check_folds, check_study_data, study_cv
from ._grid import study_grid
from ._layers import IMAGE_LAYER, PAPER_LAYERS, canonical_layer, layer_order
from ._nested import check_nested_data, nested_study, routing_for
from ._progress import fit_progress
from ._table import (
    TIME_COLUMN,
    best_explainable,
    metric_name,
    study_results,
    ties,
)
from .encoders import MeanPool, VLADEncoder
from .exceptions import InputError
from .models import DEFAULT_MODELS, check_models, make_model
from .plotting import chance_level
from .provenance import provenance
from .vgg import VGGLayerTransformer

__all__ = [
    "CONFIG_FILE",
    "RepeatedGroupSplits",
    "TIME_COLUMN",
    "best_explainable",
    "check_study_data",
    "fill_cache",
    "fit_progress",
    "load_study",
    "make_study",
    "nested_study",
    "run_study",
    "study_cv",
    "study_grid",
    "study_network",
    "study_pipeline",
    "study_results",
    "ties",
]

#: The file a study folder keeps its configuration in (see :func:`load_study`).
CONFIG_FILE = "study.json"

#: VGGLayerTransformer parameters that decide the features, saved with a study.
_VGG_CONFIG = ("weights", "crop", "resize", "float_scale", "precision", "pixel_size",
               "image_pixel_size", "batch_size", "cache", "random_state")

def study_pipeline(vgg=None, *, task="classification", n_estimators=400, n_jobs=None,
                   random_state=0, model="rf", groups=False):
    """The pipeline the study searches: VGG16 layer -> encoder -> model (the paper's forest).

    Parameters
    ----------
    vgg : VGGLayerTransformer or None, default=None
        The first step (cloned): weights, crop, resize, cache, batch size.
        None is ``VGGLayerTransformer()``.
    task : {"classification", "regression"}, default="classification"
        A :class:`~sklearn.ensemble.RandomForestClassifier` or a
        :class:`~sklearn.ensemble.RandomForestRegressor` at the end.
    n_estimators : int, default=400
        Trees of the forest (the paper's 400); at least 1.
    n_jobs : int or None, default=None
        Cores of the forest.
    random_state : int, default=0
        Seeds the forest.
    model : str or estimator, default="rf"
        The last step: a name of :data:`~sklearn_cnntexture.models.MODELS`
        (``"rf"`` is the paper's forest) or any scikit-learn estimator.
    groups : bool, default=False
        The study has groups (see :func:`~sklearn_cnntexture.models.make_model`).

    Returns
    -------
    pipeline : Pipeline
        Steps ``"vgg"``, ``"encode"`` (:class:`MeanPool` until the grid sets
        it) and ``"model"``.
    """
    if task not in ("classification", "regression"):
        raise InputError(f"task must be 'classification' or 'regression', got {task!r}")
    check_trees(n_estimators)
    vgg = VGGLayerTransformer() if vgg is None else clone(vgg)
    model = make_model(model, task, n_estimators=n_estimators, n_jobs=n_jobs,
                       random_state=random_state, groups=groups)
    return Pipeline([("vgg", vgg), ("encode", MeanPool()), ("model", model)])


def check_trees(n_estimators):
    """Refuse a forest without trees before any image is featurized."""
    if not isinstance(n_estimators, int) or n_estimators < 1:
        raise InputError(f"n_estimators={n_estimators!r}: a random forest needs at least 1 tree")


def make_study(
    task="classification",
    *,
    vgg=None,
    layers=PAPER_LAYERS,
    encoders=("mean", "max", "gram", "vlad"),
    raw_image=True,
    union=True,
    vlad_resize=255,
    n_splits=3,
    n_repeats=10,
    groups=False,
    n_estimators=400,
    scoring=None,
    n_jobs=None,
    random_state=0,
    verbose=0,
    models=DEFAULT_MODELS,
):
    """The study as an unfitted :class:`~sklearn.model_selection.GridSearchCV`.

    ``study_pipeline`` x ``study_grid`` x ``study_cv``, scored by F1 with
    macro averaging for classification (every class counts the same, whatever
    its size) or R^2 for regression. With a ``vgg.cache``, the whole grid
    needs one forward pass per image and distinct input; :func:`run_study`
    fills it first, with progress bars.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
    vgg : VGGLayerTransformer or None, default=None
        Weights, crop, resize, cache and batch size of the network (cloned;
        its ``cache_layers`` is set to the study's layers). None is
        ``VGGLayerTransformer()``.
    layers, encoders, raw_image, union, vlad_resize
        See :func:`study_grid`.
    n_splits, n_repeats, groups
        See :func:`study_cv`.
    n_estimators : int, default=400
        Trees of the forest.
    scoring : str, callable or None, default=None
        Any scikit-learn scoring; None is ``"f1_macro"`` or ``"r2"``.
    n_jobs : int or None, default=None
        Candidates and folds fitted in parallel (joblib); the forests use the
        cores otherwise.
    random_state : int, default=0
        Seeds folds, forests and VLAD.
    verbose : int, default=0
        GridSearchCV's verbosity.
    models : sequence of str or estimator, default=("rf",)
        The models compared: names of :data:`~sklearn_cnntexture.models.MODELS`
        (``"rf"``, the paper's forest; ``"rf-balanced"``; ``"logreg"``,
        standardized logistic regression with C chosen by an inner CV;
        ``"logreg-balanced"``; ``"ridge"`` for regression) or estimators. One
        model is the pipeline's last step (the paper's grid, unchanged);
        several are a ``model`` dimension of the grid. With ``groups`` and
        one model, the logistic regression's inner CV keeps groups whole too,
        through scikit-learn's metadata routing (:func:`run_study` switches it
        on; to fit the search yourself, do so inside
        ``sklearn.config_context(enable_metadata_routing=True)``). With
        several models scikit-learn cannot route the groups (the forests do
        not consume them), so C is chosen on stratified folds; the study's
        folds, which give the scores, keep groups whole either way.

    Returns
    -------
    search : GridSearchCV

    Examples
    --------
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.study import make_study
    >>> search = make_study(vgg=VGGLayerTransformer(weights=None), layers=["C3_3"],
    ...                     encoders=["mean"], models=["rf", "logreg"], union=False)
    >>> len(search.param_grid[0]["model"])
    2
    """
    check_folds(n_splits, n_repeats)
    check_models(models, task)
    if isinstance(models, str) or hasattr(models, "fit"):
        models = [models]
    cache_layers = [canonical_layer(layer) for layer in layers]
    if raw_image:
        cache_layers.append(IMAGE_LAYER)
    model_jobs = None if n_jobs not in (None, 1) else -1
    # scikit-learn routes the groups to a model's own inner CV only when every
    # candidate's pipeline consumes them: a forest does not, so in a grid of
    # several models the logistic regression picks C on plain stratified folds
    # (the outer folds still keep groups whole; run_study notes it).
    group_inner = groups and len(models) == 1
    built = [make_model(m, task, n_estimators=n_estimators, n_jobs=model_jobs,
                        random_state=random_state, groups=group_inner) for m in models]
    pipeline = study_pipeline(
        vgg, task=task, n_estimators=n_estimators, n_jobs=model_jobs,
        random_state=random_state, model=built[0],
    )
    pipeline.named_steps["vgg"].set_params(cache_layers=cache_layers)
    grid = study_grid(layers, encoders, raw_image=raw_image, union=union,
                      vlad_resize=vlad_resize, random_state=random_state,
                      models=built if len(built) > 1 else None)
    cv = study_cv(task, n_splits=n_splits, n_repeats=n_repeats, groups=groups,
                  random_state=random_state)
    if scoring is None:
        scoring = "f1_macro" if task == "classification" else "r2"
    return GridSearchCV(
        pipeline, grid, scoring=scoring, cv=cv, n_jobs=n_jobs, refit=False, verbose=verbose
    )


def run_study(
    X,
    y,
    *,
    vgg=None,
    groups=None,
    task=None,
    layers=PAPER_LAYERS,
    encoders=("mean", "max", "gram", "vlad"),
    raw_image=True,
    union=True,
    vlad_resize=255,
    n_splits=3,
    n_repeats=10,
    n_estimators=400,
    scoring=None,
    n_jobs=None,
    random_state=0,
    verbose=True,
    grid_verbose=0,
    models=DEFAULT_MODELS,
    nested=False,
):
    """Run the layer x encoder (x model) study on images ``X`` with labels ``y``.

    Checks the data, builds the search with :func:`make_study`, fills the
    cache (:func:`fill_cache`: one pass per distinct input, and one for
    VLAD's per-fold codes, each with a labelled progress bar), then fits the
    grid with a bar over its fits.

    Parameters
    ----------
    X : list of str or array-like of images
        File paths (streamed) or images.
    y : array-like of shape (n_images,)
        Class labels, or numbers for regression.
    vgg : VGGLayerTransformer or None, default=None
        The network's settings; give it a ``cache`` folder: without one,
        every candidate and fold runs the network again.
    groups : array-like of shape (n_images,) or None
        Physical sample of each image; a group never spans training and test.
    task : {"classification", "regression"} or None
        None infers it from ``y`` (numbers with fractions: regression).
    layers, encoders, raw_image, union, vlad_resize, n_splits, n_repeats, \
n_estimators, scoring, n_jobs, random_state, models
        See :func:`make_study`.
    nested : bool, default=False
        Also estimate, by nested cross-validation (:func:`nested_study`:
        ``n_splits`` outer folds, each re-running the whole selection on
        ``n_splits`` inner folds of its training part), what "run this study
        and use its winner" scores on unseen images. The best cell's score is
        optimistic (it is the maximum of many noisy scores); the nested
        estimate is the number to report for the winner. Features come from
        the cache, so it costs model fits only: about ``4 / n_repeats`` times
        the grid search's fitting time.
    verbose : bool, default=True
        Progress bars while the features are computed and the models fitted.
    grid_verbose : int, default=0
        GridSearchCV's own verbosity.

    Returns
    -------
    result : Bunch
        ``search`` (the fitted GridSearchCV), ``results`` (the table of
        :func:`study_results`), ``best`` (its best row, as a dict), ``ties``
        (rows within one std of it), ``featurize_time`` (seconds filling the
        cache), ``fit_time`` (seconds of the grid search), ``task``,
        ``metric``, ``scoring``, ``n_images``, ``n_classes`` (None for
        regression), ``chance`` (the score of a guess blind to the images,
        :func:`~sklearn_cnntexture.plotting.chance_level`), ``cv_description``, ``notes``
        (what the study left out, and why), ``vlad_resize``, ``config`` (what
        :func:`load_study` reads back), ``provenance``, ``models`` (the table's
        model names) and ``nested`` (the Bunch of :func:`nested_study`, or
        None).
    """
    check_trees(n_estimators)
    task = check_study_data(X, y, groups=groups, task=task, n_splits=n_splits)
    model_names = check_models(models, task)
    if nested:
        check_nested_data(y, groups=groups, task=task, n_splits=n_splits)
    search = make_study(
        task, vgg=vgg, layers=layers, encoders=encoders, raw_image=raw_image, union=union,
        vlad_resize=vlad_resize, n_splits=n_splits, n_repeats=n_repeats,
        groups=groups is not None, n_estimators=n_estimators, scoring=scoring,
        n_jobs=n_jobs, random_state=random_state, verbose=grid_verbose, models=models,
    )
    start = time.perf_counter()
    if search.estimator.named_steps["vgg"].cache is not None:
        fill_cache(search, X, y, groups=groups, verbose=verbose, n_jobs=n_jobs)
    featurize_time = time.perf_counter() - start
    start = time.perf_counter()
    with fit_progress(search, enabled=verbose), routing_for(groups):
        search.fit(X, y, **({} if groups is None else {"groups": groups}))
    fit_time = time.perf_counter() - start
    nested_result = None
    if nested:
        nested_result = nested_study(search, X, y, groups=groups, task=task, n_splits=n_splits,
                                     random_state=random_state, verbose=verbose)
    results = study_results(search)
    metric = metric_name(search.scoring)
    best = results.loc[results[f"{metric}_mean"].idxmax()].to_dict()
    fitted_vgg = search.estimator.named_steps["vgg"]
    config = {
        "task": task,
        "vgg": {name: _jsonable(fitted_vgg.get_params()[name]) for name in _VGG_CONFIG},
        "layers": [canonical_layer(layer) for layer in layers],
        "encoders": list(encoders), "raw_image": raw_image, "union": union,
        "vlad_resize": _jsonable(vlad_resize), "n_splits": n_splits, "n_repeats": n_repeats,
        "n_estimators": n_estimators, "scoring": search.scoring, "random_state": random_state,
        "models": model_names,
    }
    if nested_result is not None:
        config["nested"] = {key: _jsonable(nested_result[key])
                            for key in ("mean", "std", "winners", "time", "description")}
        config["nested"]["scores"] = nested_result.scores.tolist()
    return Bunch(
        search=search, results=results, best=best, ties=ties(results, best),
        featurize_time=featurize_time, fit_time=fit_time, task=task, metric=metric,
        scoring=search.scoring, n_images=len(X),
        n_classes=None if task == "regression" else len(np.unique(y)),
        chance=chance_level(search.scoring, y),
        cv_description=(f"{n_splits} folds x {n_repeats} repeats"
                        f"{' (grouped)' if groups is not None else ''}"),
        notes=_notes(layers, encoders, union, vlad_resize) + _group_notes(groups, search),
        vlad_resize=vlad_resize if "vlad" in encoders else None,
        config=config, provenance=provenance(fitted_vgg), models=model_names,
        nested=nested_result,
    )


def _notes(layers, encoders, union, vlad_resize):
    """What the study did not do as asked or as a reader would assume, in sentences."""
    notes = []
    if union and len(layers) < 2:
        notes.append("No union of layers: the study has one layer, and a union of one "
                     "layer is that layer again.")
    if "vlad" in encoders and vlad_resize is not None:
        size = vlad_resize if isinstance(vlad_resize, int) else "x".join(map(str, vlad_resize))
        notes.append(f"VLAD ran on images resized to {size} (the paper's choice, to bound "
                     "memory), whatever the other encoders' size; vlad_resize changes it.")
    return notes


def _group_notes(groups, search):
    models = search.param_grid[0].get("model", []) if search.param_grid else []
    inner = [m for m in models if hasattr(m, "steps") and hasattr(m.steps[-1][1], "Cs")]
    if groups is None or not inner:
        return []
    return ["The logistic regression chose its C on inner folds that may split a group (a "
            "grid of several models cannot route groups to it); the study's folds, which "
            "give every score, keep each group whole."]


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else (
        str(value) if isinstance(value, Path) else value)


def load_study(directory):
    """Read back a study folder: its table and the network settings it used.

    Parameters
    ----------
    directory : str or path
        A folder :func:`~sklearn_cnntexture.report.write_study` wrote.

    Returns
    -------
    study : Bunch
        ``results`` (the table, without ``params``), ``config`` (the dict of
        ``study.json``, or None for a folder written before it existed) and
        ``vgg`` (a :class:`VGGLayerTransformer` with the study's weights,
        crop, resize, float scale and cache, or None without a config).
    """
    directory = Path(directory)
    table = directory / "results.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} does not exist: is {directory} a study folder?")
    results = pd.read_csv(table)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        return Bunch(results=results, config=None, vgg=None)
    config = json.loads(config_path.read_text())
    params = dict(config["vgg"])
    if isinstance(params.get("resize"), list):
        params["resize"] = tuple(params["resize"])
    return Bunch(results=results, config=config, vgg=VGGLayerTransformer(**params))


def study_network(study, *, given=None, **run_options):
    """A study's network, for fitting or explaining its best configuration elsewhere.

    Parameters
    ----------
    study : Bunch
        From :func:`load_study` (with a config).
    given : dict, optional
        Network settings the caller asked for (``weights``, ``crop``,
        ``resize``, ``float_scale``, ``precision``): each must be the study's,
        since a model of other features would not be the one the study scored.
    **run_options
        Set on the network when not None: ``cache``, ``tile_pixels``,
        ``pixel_size`` (the scale a fitted model works at; the card records it
        as overridden), ``verbose``.

    Returns
    -------
    vgg : VGGLayerTransformer
        ``study.vgg``, changed in place.

    Raises
    ------
    InputError
        Naming a setting of ``given`` that differs from the study's.
    """
    vgg = study.vgg
    for name, value in (given or {}).items():
        studied = vgg.get_params()[name]
        if value != studied:
            raise InputError(f"{name}={value!r} differs from the study's {studied!r}: drop it "
                             "to use the study's, or do not use the study")
    return vgg.set_params(**{name: value for name, value in run_options.items()
                             if value is not None})


def fill_cache(search, X, y=None, *, groups=None, verbose=True, n_jobs=None):
    """Put every result the study's grid will ask for into the cache.

    One forward pass per distinct input (each ``vgg__resize`` of the grid)
    stores the statistics of every layer; then, for VLAD, each training
    fold's dictionary is fitted from the cached descriptors, and one more pass
    stores every image's codes under each dictionary. The grid search then
    runs no network at all. Each pass's progress bar says which it is.

    Parameters
    ----------
    search : GridSearchCV
        From :func:`make_study`, or any search over a pipeline whose first
        step ``"vgg"`` has a ``cache``.
    X, y, groups
        As for ``search.fit``.
    verbose : bool, default=True
        Progress bars.
    n_jobs : int or None, default=None
        joblib workers for the forward passes (:func:`~sklearn_cnntexture.parallel.precompute`):
        local processes, or a Dask cluster inside ``joblib.parallel_backend("dask")``;
        None is the active backend's default (this process alone outside one).
    """
    vgg = search.estimator.named_steps["vgg"]
    inputs, vlad = _grid_inputs(search.param_grid, vgg)
    X = list(X)
    for resize, wanted, for_vlad in inputs:
        filler = clone(vgg).set_params(layers=sorted(wanted, key=layer_order), resize=resize,
                                       verbose=verbose)
        purpose = " for VLAD descriptors" if for_vlad else ""
        parallel.precompute(filler, X, n_jobs=n_jobs, verbose=verbose,
                            description=f"VGG16 {_size_label(resize)}{purpose}")
    if not vlad:
        return
    splits = list(search.cv.split(X, y, groups))
    for resize, pairs in vlad:
        maps = []
        for layer, prototype in pairs:
            fold_vgg = clone(vgg).set_params(layers=layer, resize=resize)
            for train, _ in splits:
                encoder = clone(prototype).fit(fold_vgg.transform([X[i] for i in train]))
                maps.append((layer, *encoder.per_image_encoding()))
        layers = sorted({layer for layer, _ in pairs}, key=layer_order)
        filler = clone(vgg).set_params(layers=layers, resize=resize, verbose=verbose)
        parallel.precompute(filler, X, maps, n_jobs=n_jobs, verbose=verbose,
                            description=f"VLAD codes of {len(maps)} fold dictionaries")


def _size_label(resize):
    if resize is None:
        return "at native size"
    height, width = (resize, resize) if isinstance(resize, int) else resize
    return f"at {height} x {width}"


def _grid_inputs(param_grid, vgg):
    """The distinct network inputs of a grid, and VLAD's encoders per input.

    Returns ``inputs``, rows ``[resize, layers, only_vlad]``, and ``vlad``,
    rows ``[resize, [(layer, VLAD prototype), ...]]``. Rows, not dicts:
    ``resize`` may be an unhashable list, and its one normalization is
    VGGLayerTransformer's.
    """
    inputs, vlad = [], []
    for part in [param_grid] if isinstance(param_grid, dict) else list(param_grid):
        resize = part.get("vgg__resize", [vgg.resize])[0]
        encoders = part.get("encode", [])
        layers = {canonical_layer(name) for value in part.get("vgg__layers", [vgg.layers])
                  for name in ([value] if isinstance(value, str) else value)}
        row = _row(inputs, resize) or _append(inputs, [resize, set(), True])
        row[1] |= layers
        row[2] = row[2] and bool(encoders) and all(isinstance(e, VLADEncoder) for e in encoders)
        pairs = [(layer, encoder) for encoder in encoders if isinstance(encoder, VLADEncoder)
                 for layer in sorted(layers, key=layer_order)]
        if pairs:
            (_row(vlad, resize) or _append(vlad, [resize, []]))[1].extend(pairs)
    return inputs, vlad


def _row(rows, key):
    return next((row for row in rows if row[0] == key), None)


def _append(rows, row):
    rows.append(row)
    return row
