"""The layer x encoder study of Ling et al. 2017 (their Figs. 6 and 7), as a GridSearchCV.

For a labelled set of micrographs: the cross-validated score of a random
forest on the features of every VGG16 layer x every encoder, each encoder on
the raw image (no CNN), and the union of the mean features of all layers.

The study is a plain :class:`~sklearn.model_selection.GridSearchCV` over
``vgg__layers`` and ``encode`` of one pipeline (:func:`make_study`), made
cheap by the per-image cache of :class:`VGGLayerTransformer`: every image
goes through the network once per distinct input (VLAD's 255 x 255 resize
is a second one), not once per candidate and fold. :func:`run_study` fills
the cache first, with a progress bar, then fits the grid; :func:`study_results`
turns ``cv_results_`` into the paper's table.
"""

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import (
    BaseCrossValidator,
    GridSearchCV,
    GroupKFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.multiclass import type_of_target

from . import _cache, _layers
from ._layers import IMAGE_LAYER, PAPER_LAYERS, n_channels
from .encoders import GramEncoder, MaxPool, MeanPool, VLADEncoder
from .union import MultiLayerUnion
from .vgg import VGGLayerTransformer

__all__ = [
    "ENCODERS",
    "RepeatedGroupSplits",
    "check_study_data",
    "fill_cache",
    "make_study",
    "run_study",
    "study_cv",
    "study_grid",
    "study_pipeline",
    "study_results",
]

#: The encoders of the study, by the name used in its table.
ENCODERS = {"mean": MeanPool, "max": MaxPool, "gram": GramEncoder, "vlad": VLADEncoder}

#: The union row's ``layer`` in the results table.
UNION = "union"


def study_pipeline(
    *,
    weights="imagenet",
    task="classification",
    n_estimators=400,
    crop=None,
    resize=None,
    cache=None,
    cache_layers=None,
    batch_size=8,
    n_jobs=None,
    random_state=0,
):
    """The pipeline the study searches: VGG16 layer -> encoder -> random forest.

    Parameters
    ----------
    weights : {"imagenet", "hed-bsds500"}, path or None, default="imagenet"
        VGG16 weights, see :class:`VGGLayerTransformer`.
    task : {"classification", "regression"}, default="classification"
        A :class:`~sklearn.ensemble.RandomForestClassifier` or a
        :class:`~sklearn.ensemble.RandomForestRegressor` at the end.
    n_estimators : int, default=400
        Trees of the forest (the paper's 400).
    crop, resize, cache, cache_layers, batch_size
        Passed to :class:`VGGLayerTransformer`.
    n_jobs : int or None, default=None
        Cores of the forest.
    random_state : int, default=0
        Seeds the forest (and the random weights when ``weights=None``).

    Returns
    -------
    pipeline : Pipeline
        Steps ``"vgg"``, ``"encode"`` (:class:`MeanPool` until the grid sets
        it) and ``"model"``.
    """
    forest = {"classification": RandomForestClassifier, "regression": RandomForestRegressor}
    if task not in forest:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    vgg = VGGLayerTransformer(
        PAPER_LAYERS[0],
        weights=weights,
        resize=resize,
        crop=crop,
        cache=cache,
        cache_layers=cache_layers,
        batch_size=batch_size,
        random_state=random_state if weights is None else None,
    )
    model = forest[task](n_estimators=n_estimators, n_jobs=n_jobs, random_state=random_state)
    return Pipeline([("vgg", vgg), ("encode", MeanPool()), ("model", model)])


def study_grid(
    layers=PAPER_LAYERS,
    encoders=("mean", "max", "gram", "vlad"),
    *,
    raw_image=True,
    union=True,
    vlad_resize=255,
    random_state=0,
):
    """The parameter grid of the layer x encoder study, for :class:`GridSearchCV`.

    Parameters
    ----------
    layers : list of str, default=PAPER_LAYERS
        VGG16 layers to compare (the paper's five by default).
    encoders : list of {"mean", "max", "gram", "vlad"}
        Encoders to compare, each with its default parameters.
    raw_image : bool, default=True
        Also apply each encoder to the raw gray image (layer ``"image"``), the
        paper's no-CNN baseline.
    union : bool, default=True
        Also the union of the mean features of all ``layers``
        (:class:`MultiLayerUnion`), the paper's Fig. 7.
    vlad_resize : int, (height, width) or None, default=255
        Size VLAD's images are resized to; the paper used 255 x 255 to bound
        memory. None keeps the pipeline's own ``resize``.
    random_state : int, default=0
        Seed of VLAD's descriptor sample and k-means.

    Returns
    -------
    param_grid : list of dict
        For ``GridSearchCV(study_pipeline(...), param_grid)``.

    Examples
    --------
    >>> from sklearn_cnntexture.study import study_grid
    >>> grid = study_grid(["block3_conv3"], ["mean", "vlad"], union=False)
    >>> [sorted(part) for part in grid]
    [['encode', 'vgg__layers'], ['encode', 'vgg__layers', 'vgg__resize']]
    >>> grid[0]["vgg__layers"]
    ['block3_conv3', 'image']
    """
    unknown = [name for name in encoders if name not in ENCODERS]
    if unknown or not encoders:
        raise ValueError(f"encoders must be among {list(ENCODERS)}, got {list(encoders)}")
    layers = [_layers.canonical_layer(layer) for layer in layers]
    grid_layers = layers + ([IMAGE_LAYER] if raw_image else [])
    grid = []
    pooled = [ENCODERS[name]() for name in encoders if name != "vlad"]
    if pooled:
        grid.append({"vgg__layers": grid_layers, "encode": pooled})
    if "vlad" in encoders:
        part = {"vgg__layers": grid_layers, "encode": [VLADEncoder(random_state=random_state)]}
        if vlad_resize is not None:
            part["vgg__resize"] = [vlad_resize]
        grid.append(part)
    if union:
        grid.append({"vgg__layers": [layers], "encode": [MultiLayerUnion(MeanPool())]})
    return grid


class RepeatedGroupSplits(BaseCrossValidator):
    """Repeat a shuffling group-aware splitter with a new seed each time.

    Scikit-learn repeats ``StratifiedKFold`` and ``KFold``
    (``RepeatedStratifiedKFold``), but not their group-aware versions. Groups
    (several micrographs of one physical sample) must not be split between
    training and test folds, or the scores are inflated.

    Parameters
    ----------
    cv : {StratifiedGroupKFold, GroupKFold}
        The splitter class; made with ``shuffle=True`` and a new seed per repeat.
    n_splits : int, default=3
        Folds per repeat.
    n_repeats : int, default=10
        Repeats.
    random_state : int, default=0
        Seeds the repeats.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import StratifiedGroupKFold
    >>> from sklearn_cnntexture.study import RepeatedGroupSplits
    >>> cv = RepeatedGroupSplits(StratifiedGroupKFold, n_splits=2, n_repeats=3)
    >>> y, groups = np.array([0, 0, 1, 1] * 2), np.arange(8) // 2 * 2 % 8
    >>> cv.get_n_splits()
    6
    """

    def __init__(self, cv, *, n_splits=3, n_repeats=10, random_state=0):
        self.cv = cv
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def split(self, X, y=None, groups=None):
        rng = check_random_state(self.random_state)
        for _ in range(self.n_repeats):
            seed = rng.randint(np.iinfo(np.int32).max)
            splitter = self.cv(n_splits=self.n_splits, shuffle=True, random_state=seed)
            yield from splitter.split(X, y, groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits * self.n_repeats

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError  # split is overridden


def study_cv(task="classification", *, n_splits=3, n_repeats=10, groups=False, random_state=0):
    """The cross-validation of the study: repeated (stratified) (group) k-fold.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
        Classification stratifies by class.
    n_splits : int, default=3
        Folds (the paper's 3).
    n_repeats : int, default=10
        Repeats with new random folds (the paper's 10).
    groups : bool, default=False
        Keep each group (physical sample) within one fold: then
        ``StratifiedGroupKFold`` (or ``GroupKFold`` for regression), repeated.
    random_state : int, default=0
        Seeds the folds.

    Returns
    -------
    cv : cross-validation splitter
    """
    if groups:
        splitter = StratifiedGroupKFold if task == "classification" else GroupKFold
        return RepeatedGroupSplits(
            splitter, n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
        )
    repeated = RepeatedStratifiedKFold if task == "classification" else RepeatedKFold
    return repeated(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)


def _task_of(y):
    kind = type_of_target(y)
    if kind == "continuous":
        return "regression"
    if kind in ("binary", "multiclass"):
        return "classification"
    raise ValueError(
        f"the target is {kind!r}: the study takes one class label per image "
        "(classification) or one number per image (regression)"
    )


def make_study(
    task="classification",
    *,
    layers=PAPER_LAYERS,
    encoders=("mean", "max", "gram", "vlad"),
    raw_image=True,
    union=True,
    weights="imagenet",
    n_splits=3,
    n_repeats=10,
    groups=False,
    n_estimators=400,
    scoring=None,
    crop=None,
    resize=None,
    vlad_resize=255,
    cache=None,
    batch_size=8,
    n_jobs=None,
    random_state=0,
    verbose=0,
):
    """The study as an unfitted :class:`~sklearn.model_selection.GridSearchCV`.

    ``study_pipeline`` x ``study_grid`` x ``study_cv``, scored by F1 with
    macro averaging for classification (every class counts the same, whatever
    its size) or R^2 for regression. With a ``cache``, the whole grid needs one
    forward pass per image and distinct input; :func:`run_study` fills it
    first, with a progress bar.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
    layers, encoders, raw_image, union, vlad_resize
        See :func:`study_grid`.
    weights, n_estimators, crop, resize, cache, batch_size
        See :func:`study_pipeline`.
    n_splits, n_repeats, groups
        See :func:`study_cv`.
    scoring : str, callable or None, default=None
        Any scikit-learn scoring; None is ``"f1_macro"`` or ``"r2"``.
    n_jobs : int or None, default=None
        Candidates and folds fitted in parallel (joblib); the forests use the
        cores otherwise.
    random_state : int, default=0
        Seeds folds, forests and VLAD.
    verbose : int, default=0
        GridSearchCV's verbosity.

    Returns
    -------
    search : GridSearchCV
    """
    cache_layers = [_layers.canonical_layer(layer) for layer in layers]
    if raw_image:
        cache_layers.append(IMAGE_LAYER)
    pipeline = study_pipeline(
        weights=weights,
        task=task,
        n_estimators=n_estimators,
        crop=crop,
        resize=resize,
        cache=cache,
        cache_layers=cache_layers,
        batch_size=batch_size,
        n_jobs=None if n_jobs not in (None, 1) else -1,
        random_state=random_state,
    )
    grid = study_grid(
        layers,
        encoders,
        raw_image=raw_image,
        union=union,
        vlad_resize=vlad_resize,
        random_state=random_state,
    )
    cv = study_cv(
        task, n_splits=n_splits, n_repeats=n_repeats, groups=groups, random_state=random_state
    )
    if scoring is None:
        scoring = "f1_macro" if task == "classification" else "r2"
    return GridSearchCV(
        pipeline, grid, scoring=scoring, cv=cv, n_jobs=n_jobs, refit=False, verbose=verbose
    )


def check_study_data(X, y, *, groups=None, task=None, n_splits=3):
    """Check that a labelled image set can go through the study's folds.

    Returns the task ("classification" or "regression"). Raises a
    ``ValueError`` that says what is wrong: no images, one class, a class
    with fewer images (or groups) than folds, labels and images of different
    lengths.
    """
    n = len(X)
    if n == 0:
        raise ValueError("no images: the data set is empty")
    y = np.asarray(y)
    if len(y) != n:
        raise ValueError(f"{n} images but {len(y)} labels")
    task = _task_of(y) if task is None else task
    if groups is not None and len(groups) != n:
        raise ValueError(f"{n} images but {len(groups)} group labels")
    if task == "regression":
        units = n if groups is None else len(np.unique(groups))
        if units < n_splits:
            raise ValueError(f"{units} images/groups cannot make {n_splits} folds")
        return task
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"only one class ('{classes[0]}'): a classification study needs at least two"
        )
    if groups is not None:
        counts = np.array([len(np.unique(np.asarray(groups)[y == c])) for c in classes])
    few = [f"'{c}' ({k})" for c, k in zip(classes, counts) if k < n_splits]
    if few:
        unit = "groups" if groups is not None else "images"
        raise ValueError(
            f"{n_splits}-fold cross-validation needs at least {n_splits} {unit} per class; "
            f"too few in: {', '.join(few)}. Add {unit}, or lower the number of folds."
        )
    return task


def run_study(X, y, *, groups=None, task=None, verbose=True, grid_verbose=0, **options):
    """Run the layer x encoder study on images ``X`` with labels ``y``.

    Checks the data, builds the search with :func:`make_study`, runs every
    image through the network once per distinct input to fill the cache (a
    progress bar per input), fits VLAD's dictionaries for each training fold
    and caches their codes in one more pass, then fits the grid.

    Parameters
    ----------
    X : list of str or array-like of images
        File paths (streamed) or images.
    y : array-like of shape (n_images,)
        Class labels, or numbers for regression.
    groups : array-like of shape (n_images,) or None
        Physical sample of each image; a group never spans training and test.
    task : {"classification", "regression"} or None
        None infers it from ``y`` (numbers with fractions: regression).
    verbose : bool, default=True
        Progress bars while the features are computed.
    grid_verbose : int, default=0
        GridSearchCV's verbosity while the models are fitted (1: one line).
    **options
        Passed to :func:`make_study`. ``cache`` should be a folder: without
        one, every candidate and fold runs the network again.

    Returns
    -------
    result : Bunch
        ``search`` (the fitted GridSearchCV), ``results`` (the table of
        :func:`study_results`), ``best`` (its best row, as a dict),
        ``featurize_time`` (seconds spent filling the cache), ``fit_time``
        (seconds of the grid search), ``task`` and ``metric``.
    """
    n_splits = options.get("n_splits", 3)
    task = check_study_data(X, y, groups=groups, task=task, n_splits=n_splits)
    search = make_study(task, groups=groups is not None, verbose=grid_verbose, **options)
    start = time.perf_counter()
    if search.estimator.named_steps["vgg"].cache is not None:
        fill_cache(search, X, y, groups=groups, verbose=verbose)
    featurize_time = time.perf_counter() - start
    start = time.perf_counter()
    search.fit(X, y, groups=groups)
    fit_time = time.perf_counter() - start
    results = study_results(search)
    metric = _metric_name(search.scoring)
    best = results.loc[results[f"{metric}_mean"].idxmax()].to_dict()
    cv = search.cv
    return Bunch(
        search=search,
        results=results,
        best=best,
        featurize_time=featurize_time,
        fit_time=fit_time,
        task=task,
        metric=metric,
        scoring=search.scoring,
        n_images=len(X),
        cv_description=(
            f"{cv.get_n_splits() // cv.n_repeats} folds x {cv.n_repeats} repeats"
            f"{' (grouped)' if groups is not None else ''}"
        ),
    )


def fill_cache(search, X, y=None, *, groups=None, verbose=True):
    """Put every result the study's grid will ask for into the cache.

    One forward pass per distinct input (each ``vgg__resize`` of the grid)
    stores the statistics of every layer; then, for VLAD, each training
    fold's dictionary is fitted from the cached descriptors, and one more pass
    stores every image's codes under each dictionary. The grid search then
    runs no network at all.

    Parameters
    ----------
    search : GridSearchCV
        From :func:`make_study`, or any search over a pipeline whose first
        step ``"vgg"`` has a ``cache``.
    X, y, groups
        As for ``search.fit``.
    verbose : bool, default=True
        Progress bars.
    """
    vgg = search.estimator.named_steps["vgg"]
    layers = {}  # resize -> layers wanted with it
    vlad = []  # (resize, layer, VLAD encoder prototype)
    for part in _grid_parts(search.param_grid):
        resize = part.get("vgg__resize", [vgg.resize])[0]
        for layers_value in part.get("vgg__layers", [vgg.layers]):
            names = [layers_value] if isinstance(layers_value, str) else list(layers_value)
            layers.setdefault(_hashable(resize), set()).update(
                _layers.canonical_layer(name) for name in names
            )
            for encoder in part.get("encode", []):
                if isinstance(encoder, VLADEncoder):
                    for name in names:
                        vlad.append((resize, _layers.canonical_layer(name), encoder))
    X = list(X)
    for resize, wanted in layers.items():
        all_layers = sorted(wanted | set(vgg.cache_layers or ()), key=_layers.layer_order)
        filler = clone(vgg).set_params(layers=all_layers, resize=resize, verbose=verbose)
        acts = filler.transform(X)
        _cache.fetch(acts, [_cache.stats_request(layer, ("mean",)) for layer in all_layers],
                     keep=False)
    if not vlad:
        return
    splits = list(search.cv.split(X, y, groups))
    requests = {}
    for resize, layer, prototype in vlad:
        fold_vgg = clone(vgg).set_params(layers=layer, resize=resize)
        for train, _ in splits:
            encoder = clone(prototype).fit(fold_vgg.transform([X[i] for i in train]))
            requests.setdefault(_hashable(resize), []).append(encoder._cache_request(layer))
    for resize, wanted in requests.items():
        all_layers = sorted({r.layer for r in wanted}, key=_layers.layer_order)
        filler = clone(vgg).set_params(layers=all_layers, resize=resize, verbose=verbose)
        _cache.fetch(filler.transform(X), wanted, keep=False)


def _grid_parts(param_grid):
    return [param_grid] if isinstance(param_grid, dict) else list(param_grid)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _metric_name(scoring):
    if isinstance(scoring, str):
        return "f1" if scoring.startswith("f1") else scoring
    return "score"


def _layer_label(layers):
    if isinstance(layers, str):
        return _layers.canonical_layer(layers)
    layers = [_layers.canonical_layer(layer) for layer in layers]
    return layers[0] if len(layers) == 1 else UNION


def _encoder_name(encoder):
    if isinstance(encoder, MultiLayerUnion):
        encoder = encoder.encoder or MeanPool()
    return encoder._name


def _n_features(encoder, layers):
    """Features an encoder makes from ``layers`` (without fitting it)."""
    if isinstance(layers, str):
        layers = [layers]
    if isinstance(encoder, MultiLayerUnion):
        return sum(_n_features(encoder.encoder or MeanPool(), [layer]) for layer in layers)
    (layer,) = layers
    c = n_channels(_layers.canonical_layer(layer))
    if isinstance(encoder, GramEncoder):
        return c * c if encoder.triangle == "full" else c * (c + 1) // 2
    if isinstance(encoder, VLADEncoder):
        return encoder.n_words * c
    return c


def study_results(search):
    """The study's table from a fitted search's ``cv_results_``.

    Parameters
    ----------
    search : GridSearchCV
        Fitted, from :func:`make_study` (or any search over ``vgg__layers``
        and ``encode`` of a pipeline with steps ``"vgg"`` and ``"encode"``).

    Returns
    -------
    results : pandas.DataFrame
        One row per candidate: ``layer`` (Keras name, ``"image"`` for the raw
        image, ``"union"`` for the union of layers), ``encoder`` (``"mean"``,
        ``"max"``, ``"gram"``, ``"vlad"``), ``n_features``,
        ``<metric>_mean`` and ``<metric>_std`` over all folds and repeats
        (``f1`` for F1 scorings, ``r2`` ...), ``time`` (mean seconds to fit
        and score one fold) and ``params`` (the candidate's parameters).
        Sorted by layer (network order, image first, union last), then encoder.
    """
    cv = search.cv_results_
    metric = _metric_name(search.scoring)
    default_encoder = search.estimator.named_steps["encode"]
    default_layers = search.estimator.named_steps["vgg"].layers
    rows = []
    for i, params in enumerate(cv["params"]):
        encoder = params.get("encode", default_encoder)
        layers = params.get("vgg__layers", default_layers)
        rows.append(
            {
                "layer": _layer_label(layers),
                "encoder": _encoder_name(encoder),
                "n_features": _n_features(encoder, layers),
                f"{metric}_mean": cv["mean_test_score"][i],
                f"{metric}_std": cv["std_test_score"][i],
                "time": cv["mean_fit_time"][i] + cv["mean_score_time"][i],
                "params": params,
            }
        )
    table = pd.DataFrame(rows)
    encoder_rank = {name: k for k, name in enumerate(ENCODERS)}
    table["_l"] = [99 if name == UNION else _layers.layer_order(name) for name in table["layer"]]
    table["_e"] = [encoder_rank.get(name, 9) for name in table["encoder"]]
    table = table.sort_values(["_l", "_e"], kind="stable").drop(columns=["_l", "_e"])
    return table.reset_index(drop=True)

