"""The study's search: one GridSearchCV over layers x encoders (x models), and its cache.

One job: building the unfitted search of the study (:func:`make_study`) and
putting every result its grid will ask for into the network's cache first
(:func:`fill_cache`), so that fitting it runs no network. Public through
:mod:`sklearn_cnntexture.study`; :class:`~sklearn_cnntexture.Study` fits both.
"""

from numbers import Integral

from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ..features import parallel
from ..features._layers import IMAGE_LAYER, PAPER_LAYERS, canonical_layer, layer_order
from ..features.columns import WithColumns
from ..features.encoders import ENCODERS, VLADEncoder
from ..features.featurize import make_featurizer
from ..io import records
from ._cv import FOLDS, REPEATS, study_cv
from ._grid import study_grid
from .models import DEFAULT_MODELS, TASKS, check_models, make_model

__all__ = ["SEARCH_PARAMETERS", "STUDY_ENCODERS", "fill_cache", "make_study"]

#: The encoders a study compares by default: all four, in the paper's order.
STUDY_ENCODERS = tuple(ENCODERS)

#: The constraints of the search's settings, shared by :func:`make_study` and
#: :class:`~sklearn_cnntexture.Study` (scikit-learn's parameter validation).
SEARCH_PARAMETERS = {
    "vgg": [HasMethods(["fit", "transform"]), None],
    "layers": [list, tuple],
    "encoders": [list, tuple],
    "raw_image": ["boolean"],
    "union": ["boolean"],
    "vlad_resize": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
    "n_splits": FOLDS,
    "n_repeats": REPEATS,
    "n_estimators": [Interval(Integral, 1, None, closed="left")],
    "models": [list, tuple, str, HasMethods(["fit"])],
    "scoring": [str, callable, None],
    "n_jobs": [Integral, None],
    # An int, not a RandomState: it is written to study.json, and the nested
    # estimate's inner folds take the next seed.
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "columns": [list, tuple, None],
    "missing": [StrOptions({"error", "impute"})],
    "sources": [list, tuple, None],
    "pixel_sizes": [list, tuple, None],
}


@validate_params(
    {
        "task": [StrOptions(set(TASKS))],
        **SEARCH_PARAMETERS,
        "groups": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def make_study(
    task="classification",
    *,
    vgg=None,
    layers=PAPER_LAYERS,
    encoders=STUDY_ENCODERS,
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
    columns=None,
    missing="error",
    sources=None,
    pixel_sizes=None,
):
    """The study as an unfitted :class:`~sklearn.model_selection.GridSearchCV`.

    The pipeline ``vgg -> encode -> model``
    (:func:`~sklearn_cnntexture.features.featurize.make_featurizer` and
    :func:`~sklearn_cnntexture.study.models.make_model`) x :func:`study_grid` x
    :func:`study_cv`, scored by F1 with macro averaging for classification
    (every class counts the same, whatever its size) or R^2 for regression.
    With a ``vgg.cache``, the whole grid needs one forward pass per image and
    distinct input; :class:`~sklearn_cnntexture.Study` fills it first
    (:func:`fill_cache`), with progress bars, then fits this search.

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
        The models compared: names of :data:`~sklearn_cnntexture.study.models.MODELS`
        (``"rf"``, the paper's forest; ``"rf-balanced"``; ``"logreg"``,
        standardized logistic regression with C chosen by an inner CV;
        ``"logreg-balanced"``; ``"ridge"`` for regression) or estimators. One
        model is the pipeline's last step (the paper's grid, unchanged);
        several are a ``model`` dimension of the grid. With ``groups`` and
        one model, the logistic regression's inner CV keeps groups whole too,
        through scikit-learn's metadata routing (:class:`~sklearn_cnntexture.Study`
        switches it on; to fit the search yourself, do so inside
        ``sklearn.config_context(enable_metadata_routing=True)``). With
        several models scikit-learn cannot route the groups (the forests do
        not consume them), so C is chosen on stratified folds; the study's
        folds, which give the scores, keep groups whole either way.
    columns, missing, sources
        Data-table columns compared with and added to the textures (the
        ``source`` dimension); see :func:`study_grid`.
    pixel_sizes
        Physical scales compared (the ``pixel_size`` dimension); see
        :func:`study_grid`.

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
    # (the outer folds still keep groups whole; the study notes it).
    group_inner = groups and len(models) == 1
    built = [make_model(m, task, n_estimators=n_estimators, n_jobs=model_jobs,
                        random_state=random_state, groups=group_inner) for m in models]
    # The grid sets the layers and the encoder of every candidate; MeanPool
    # stands in until it does.
    features = make_featurizer(vgg, "mean")
    features.named_steps["vgg"].set_params(cache_layers=cache_layers)
    pipeline = Pipeline([*features.steps, ("model", built[0])])
    grid = study_grid(layers, encoders, raw_image=raw_image, union=union,
                      vlad_resize=vlad_resize, random_state=random_state,
                      models=built if len(built) > 1 else None, columns=columns,
                      missing=missing, sources=sources, pixel_sizes=pixel_sizes)
    cv = study_cv(task, n_splits=n_splits, n_repeats=n_repeats, groups=groups,
                  random_state=random_state)
    if scoring is None:
        scoring = "f1_macro" if task == "classification" else "r2"
    check_scoring(pipeline, scoring)  # an unknown scorer's name ends here, before any image
    return GridSearchCV(
        pipeline, grid, scoring=scoring, cv=cv, n_jobs=n_jobs, refit=False, verbose=verbose
    )


@validate_params(
    {
        "search": [GridSearchCV],
        "X": ["array-like"],
        "y": ["array-like", None],
        "groups": ["array-like", None],
        "verbose": ["boolean"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
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
        From :func:`make_study` (a :class:`~sklearn_cnntexture.Study`'s
        ``search_``), or any search over a pipeline whose first step ``"vgg"``
        has a ``cache``.
    X, y, groups
        As for ``search.fit``.
    verbose : bool, default=True
        Progress bars.
    n_jobs : int or None, default=None
        joblib workers for the forward passes
        (:func:`~sklearn_cnntexture.features.parallel.precompute`):
        local processes, or a Dask cluster inside ``joblib.parallel_backend("dask")``;
        None is the active backend's default (this process alone outside one).
    """
    vgg = search.estimator.named_steps["vgg"]
    inputs, vlad = _grid_inputs(search.param_grid, vgg)
    X = records.as_rows(X)
    for (resize, pixel_size), wanted, for_vlad in inputs:
        filler = clone(vgg).set_params(layers=sorted(wanted, key=layer_order), resize=resize,
                                       pixel_size=pixel_size, verbose=verbose)
        purpose = " for VLAD descriptors" if for_vlad else ""
        parallel.precompute(filler, X, n_jobs=n_jobs, verbose=verbose,
                            description=f"VGG16 {_size_label(resize, pixel_size)}{purpose}")
    if not vlad:
        return
    splits = list(search.cv.split(X, y, groups))
    for (resize, pixel_size), pairs in vlad:
        maps = []
        for layer, prototype in pairs:
            fold_vgg = clone(vgg).set_params(layers=layer, resize=resize, pixel_size=pixel_size)
            for train, _ in splits:
                encoder = clone(prototype).fit(fold_vgg.transform(records.take(X, train)))
                maps.append((layer, *encoder.per_image_encoding()))
        layers = sorted({layer for layer, _ in pairs}, key=layer_order)
        filler = clone(vgg).set_params(layers=layers, resize=resize, pixel_size=pixel_size,
                                       verbose=verbose)
        parallel.precompute(filler, X, maps, n_jobs=n_jobs, verbose=verbose,
                            description=f"VLAD codes of {len(maps)} fold dictionaries")


def _size_label(resize, pixel_size=None):
    scale = "" if pixel_size is None else f", {pixel_size} um per pixel"
    if resize is None:
        return ("at native size" if pixel_size is None else f"at {pixel_size} um per pixel")
    height, width = (resize, resize) if isinstance(resize, int) else resize
    return f"at {height} x {width}{scale}"


def _grid_inputs(param_grid, vgg):
    """The distinct network inputs of a grid, and VLAD's encoders per input.

    Returns ``inputs``, rows ``[(resize, pixel_size), layers, only_vlad]``,
    and ``vlad``, rows ``[(resize, pixel_size), [(layer, VLAD prototype), ...]]``:
    one input per size the images go in at and scale they are resampled to.
    Rows, not dicts: ``resize`` may be an unhashable list, and its one
    normalization is VGGLayerTransformer's.
    """
    inputs, vlad = [], []
    for part in [param_grid] if isinstance(param_grid, dict) else list(param_grid):
        resize = part.get("vgg__resize", [vgg.resize])[0]
        # A texture encoder with the data columns beside it is that encoder here;
        # the columns alone need no network input of their own.
        encoders = [getattr(e, "encoder", e) if isinstance(e, WithColumns) else e
                    for e in part.get("encode", [])]
        encoders = [e for e in encoders if e is not None]
        if not encoders:
            continue  # the columns alone: no image goes through the network for them
        layers = {canonical_layer(name) for value in part.get("vgg__layers", [vgg.layers])
                  for name in ([value] if isinstance(value, str) else value)}
        for pixel_size in part.get("vgg__pixel_size", [vgg.pixel_size]):
            key = (resize, pixel_size)
            row = _row(inputs, key) or _append(inputs, [key, set(), True])
            row[1] |= layers
            row[2] = row[2] and all(isinstance(e, VLADEncoder) for e in encoders)
            pairs = [(layer, encoder) for encoder in encoders
                     if isinstance(encoder, VLADEncoder)
                     for layer in sorted(layers, key=layer_order)]
            if pairs:
                (_row(vlad, key) or _append(vlad, [key, []]))[1].extend(pairs)
    return inputs, vlad


def _row(rows, key):
    return next((row for row in rows if row[0] == key), None)


def _append(rows, row):
    rows.append(row)
    return row
