"""The layer x encoder study of Ling et al. 2017 (their Figs. 6 and 7), as an estimator.

For a labelled set of micrographs: the cross-validated score of a random
forest on the features of every VGG16 layer x every encoder, each encoder on
the raw image (no CNN), and the union of the mean features of all layers.

:class:`Study` is that experiment as a scikit-learn estimator: its settings
are its parameters (``get_params``, which is what ``study.json`` records),
``Study(...).fit(X, y, groups=...)`` runs it, and the results are fitted
attributes (``results_``, ``best_``, ``nested_``, ...). Inside, it is a plain
:class:`~sklearn.model_selection.GridSearchCV` over ``vgg__layers`` and
``encode`` of one pipeline (:func:`make_study`), made cheap by the per-image
cache of :class:`VGGLayerTransformer`: every image goes through the network
once per distinct input (VLAD's 255 x 255 resize is a second one), not once
per candidate and fold. :meth:`Study.fit` fills the cache first
(:func:`fill_cache`), with a progress bar per pass, then fits the grid with a
bar over its fits; :func:`study_results` turns ``cv_results_`` into the
paper's table.

Beyond the paper's protocol, the model is a dimension of the grid
(``models=``, names from :mod:`~sklearn_cnntexture.study.models`; the paper's
forest alone by default), and ``nested=True`` (:func:`nested_study`)
estimates what "run the whole selection and use its winner" scores on unseen
images: the number to report, where the best cell's score is optimistic.

:func:`~sklearn_cnntexture.report.write_study` writes a fitted study to a
folder; :func:`load_study` reads the folder back (its table, its network and
the :class:`Study` that made it) for ``cnntexture explain --study`` and
``cnntexture fit --study``.

The folds and the data checks live in ``_cv``, the grid in ``_grid``, the
search and its cache in ``_search``, the table in ``_table``, the nested
estimate in ``_nested``; their public names are importable from here.
"""

import json
import os
import time
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InputError
from ..features._layers import PAPER_LAYERS, canonical_layer
from ..features.columns import WithColumns, check_columns
from ..features.provenance import provenance
from ..features.vgg import VGGLayerTransformer
from ..io import records
from ._cv import RepeatedGroupSplits, check_study_data, study_cv
from ._grid import study_grid
from ._nested import check_nested_data, nested_study, routing_for
from ._oof import out_of_fold_predictions
from ._progress import fit_progress
from ._search import SEARCH_PARAMETERS, STUDY_ENCODERS, fill_cache, make_study
from ._table import EXPLAINABLE, TIME_COLUMN, best_explainable, metric_name, study_results, ties
from .models import DEFAULT_MODELS, TASKS, check_models

__all__ = [
    "OUT_OF_FOLD_FILE",
    "CONFIG_FILE",
    "EXPLAINABLE",
    "RepeatedGroupSplits",
    "STUDY_ENCODERS",
    "Study",
    "TIME_COLUMN",
    "best_explainable",
    "check_study_data",
    "fill_cache",
    "fit_progress",
    "load_study",
    "make_study",
    "nested_study",
    "run_study",
    "study_config",
    "study_cv",
    "study_grid",
    "study_network",
    "study_results",
    "ties",
]

#: The file a study folder keeps its configuration in (see :func:`load_study`).
CONFIG_FILE = "study.json"
#: The best configuration's out-of-fold predictions in a study folder.
OUT_OF_FOLD_FILE = "out_of_fold.csv"

#: The layout of ``study.json`` that :func:`study_config` writes. Format 1
#: (no ``format`` key, before :class:`Study`) kept the nested estimate under
#: ``"nested"``, which is now the parameter; :func:`load_study` reads both.
CONFIG_FORMAT = 2

#: VGGLayerTransformer parameters that decide the features, saved with a study.
_VGG_CONFIG = ("weights", "crop", "resize", "float_scale", "precision", "pixel_size",
               "batch_size", "cache", "random_state")


class Study(BaseEstimator):
    """The layer x encoder (x model) study of Ling et al. [1]_, as an estimator.

    ``fit`` checks the data and every setting, builds the search
    (:func:`make_study`), fills the network's cache (:func:`fill_cache`: one
    pass per distinct input, and one for VLAD's per-fold codes, each with a
    labelled progress bar), then fits the grid with a bar over its fits, and
    optionally the nested estimate of the whole selection.

    Parameters
    ----------
    vgg : VGGLayerTransformer or None, default=None
        The network's settings (weights, crop, resize, pixel size, cache,
        batch size); cloned, never changed. Give it a ``cache`` folder:
        without one, every candidate and fold runs the network again. None is
        ``VGGLayerTransformer()``.
    layers : sequence of str, default=PAPER_LAYERS
        VGG16 layers to compare (Keras or paper names; the paper's five).
    encoders : sequence of {"mean", "max", "gram", "vlad"}, default=all four
        Encoders to compare, each with its default parameters.
    raw_image : bool, default=True
        Also each encoder on the raw gray image (layer ``"image"``), the
        paper's no-CNN baseline.
    union : bool, default=True
        Also the union of the mean features of all ``layers`` (the paper's
        Fig. 7); with one layer there is none (a note says so).
    vlad_resize : int, (height, width) or None, default=255
        Size VLAD's images are resized to (the paper's 255 x 255, to bound
        memory); None keeps ``vgg.resize``.
    n_splits : int, default=3
        Folds (the paper's 3); at least 2.
    n_repeats : int, default=10
        Repeats with new random folds (the paper's 10); at least 1.
    n_estimators : int, default=400
        Trees of the forests (the paper's 400).
    models : sequence of str or estimator, default=("rf",)
        The models compared (see :func:`make_study`): names of
        :data:`~sklearn_cnntexture.study.models.MODELS` or estimators; the paper's
        forest alone by default.
    scoring : str, callable or None, default=None
        Any scikit-learn scoring; None is ``"f1_macro"`` (classification) or
        ``"r2"`` (regression).
    task : {"classification", "regression"} or None, default=None
        None infers it from ``y`` (numbers with fractions: regression). Give
        it for a regression target of whole numbers, which would read as
        classes.
    nested : bool, default=False
        Also estimate, by nested cross-validation (:func:`nested_study`:
        ``n_splits`` outer folds, each re-running the whole selection on
        ``n_splits`` inner folds of its training part), what "run this study
        and use its winner" scores on unseen images. The best cell's score is
        optimistic (the maximum of many noisy scores); the nested estimate is
        the number to report. Features come from the cache, so it costs model
        fits only: about ``4 / n_repeats`` times the grid search's fitting time.
    n_jobs : int or None, default=None
        Workers for the forward passes and for the candidates and folds
        (joblib: local processes, or a Dask cluster inside
        ``joblib.parallel_backend("dask")``); the forests use every core
        otherwise.
    random_state : int, default=0
        Seeds folds, forests and VLAD (not the weights: they are ``vgg``'s).
    verbose : bool, default=False
        Progress bars while the features are computed and the models fitted.
    columns : list of str or None, default=None
        Columns of the data table (``X`` a table of images, e.g. a data set's
        ``frame``) to compare the micrographs with: the table gets a
        ``source`` column, each candidate again with the columns beside its
        textures (``"both"``), and the columns alone (``"columns"``), so it
        shows what the micrograph adds beyond the process record (Ling et
        al.'s next step). Numbers are scaled, categories one-hot encoded
        (:class:`~sklearn_cnntexture.features.WithColumns`).
    missing : {"error", "impute"}, default="error"
        Empty cells of ``columns``: refused before any image goes through the
        network (naming the column and the first image), or imputed.
    sources : list of {"image", "both", "columns"} or None, default=None
        The sources compared with ``columns``; None: all three. A study of one
        source with ``nested=True`` gives that source's nested estimate.
    pixel_sizes : list of (float or None) or None, default=None
        Physical scales to compare, micrometres per pixel, None for native
        pixels: ``[None, 0.5]`` scores every candidate on the images as they
        are and resampled to 0.5 um per pixel (each image's own size from X's
        ``pixel_size`` column or its file), a ``pixel_size`` column of the
        table: whether the model learned the magnification or the
        microstructure. Every image is checked at every scale before the
        network runs. None: ``vgg.pixel_size`` alone.

    Attributes
    ----------
    search_ : GridSearchCV
        The fitted search (``refit=False``: the study compares, it keeps no
        model); ``search_.cv_results_`` holds every fold's score.
    results_ : pandas.DataFrame
        The study's table (:func:`study_results`): one row per candidate,
        ``layer``, ``encoder``, ``model``, ``n_features``, ``<metric>_mean``,
        ``<metric>_std``, ``fit_score_s_per_fold`` and ``params``.
    best_ : dict
        The row of the best mean score.
    oof_predictions_ : pandas.DataFrame
        The best configuration's out-of-fold predictions, one row per image
        (:func:`~sklearn_cnntexture.study.out_of_fold_predictions`): the
        first repeat's folds, so each image is predicted by a model that never
        saw it (nor its sample, with groups).
    ties_ : pandas.DataFrame
        The other rows within one standard deviation of it (:func:`ties`).
    nested_ : Bunch or None
        The nested estimate (:func:`nested_study`), or None without ``nested``.
    task_ : str
        ``"classification"`` or ``"regression"``.
    scoring_ : str or callable
        The scoring used (``scoring``, or its default for the task).
    metric_ : str
        The table's metric stem: ``"f1"``, ``"r2"``, ...
    model_names_ : list of str
        The table's name of each of ``models``.
    featurize_time_ : float
        Seconds filling the cache (0 without one).
    fit_time_ : float
        Seconds of the grid search.
    n_images_ : int
    n_classes_ : int or None
        None for regression.
    chance_ : float or None
        The score of a guess blind to the images
        (:func:`~sklearn_cnntexture.plotting.chance_level`).
    cv_description_ : str
        The folds in words: ``"3 folds x 10 repeats (grouped)"``.
    notes_ : list of str
        What the study left out or did otherwise than a reader would assume,
        and why.
    provenance_ : dict
        How the features were made: weights and their digest, preprocessing,
        versions (:func:`~sklearn_cnntexture.features.provenance.provenance`).

    See Also
    --------
    make_study : The unfitted search, to fit or change by hand.
    sklearn_cnntexture.report.write_study : Table, figures and summary of a fitted study.
    load_study : A study folder read back.

    References
    ----------
    .. [1] J. Ling, M. Hutchinson, E. Antono, B. DeCost, E. A. Holm and
       B. Meredig, "Building data-driven models with microstructural images:
       Generalization and interpretability", Materials Discovery 10 (2017)
       19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import Study, VGGLayerTransformer
    >>> x = np.arange(32)
    >>> X = [np.sin((0.3 + 0.6 * (i % 2)) * x + i)[None, :] * np.ones((32, 1)) for i in range(12)]
    >>> y = np.array(["coarse", "fine"] * 6)
    >>> study = Study(VGGLayerTransformer(weights=None, random_state=0), layers=["C1_2"],
    ...               encoders=["mean"], n_repeats=1, n_estimators=5).fit(X, y)
    >>> study.results_[["layer", "encoder", "model"]].to_numpy().tolist()
    [['image', 'mean', 'rf'], ['block1_conv2', 'mean', 'rf']]
    >>> study.best_["layer"], study.metric_
    ('block1_conv2', 'f1')
    """

    _parameter_constraints = {
        **SEARCH_PARAMETERS,
        "task": [StrOptions(set(TASKS)), None],
        "nested": ["boolean"],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        vgg=None,
        *,
        layers=PAPER_LAYERS,
        encoders=STUDY_ENCODERS,
        raw_image=True,
        union=True,
        vlad_resize=255,
        n_splits=3,
        n_repeats=10,
        n_estimators=400,
        models=DEFAULT_MODELS,
        scoring=None,
        task=None,
        nested=False,
        n_jobs=None,
        random_state=0,
        verbose=False,
        columns=None,
        missing="error",
        sources=None,
        pixel_sizes=None,
    ):
        self.vgg = vgg
        self.layers = layers
        self.encoders = encoders
        self.raw_image = raw_image
        self.union = union
        self.vlad_resize = vlad_resize
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.n_estimators = n_estimators
        self.models = models
        self.scoring = scoring
        self.task = task
        self.nested = nested
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.columns = columns
        self.missing = missing
        self.sources = sources
        self.pixel_sizes = pixel_sizes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None):
        """Run the study on images ``X`` with labels (or targets) ``y``.

        Everything that can be checked is checked before any image goes
        through the network: the settings, the labels against the folds (and
        the nested folds), the models, the image files and their sizes
        against the deepest layer.

        Parameters
        ----------
        X : list of str, array-like of images, or DataFrame
            File paths (streamed) or images (see :class:`VGGLayerTransformer`),
            or a table of images with a ``path`` column (a data set's
            ``frame``): its ``pixel_size`` column gives each image's own scale.
        y : array-like of shape (n_images,)
            Class labels, or numbers for regression.
        groups : array-like of shape (n_images,) or None, default=None
            Physical sample of each image: a group never spans training and
            test folds, nor the inner folds of a model's own cross-validation.

        Returns
        -------
        self : Study
            Fitted.
        """
        task, names, search = self._checked_search(X, y, groups)
        vgg = search.estimator.named_steps["vgg"]
        start = time.perf_counter()
        if vgg.cache is not None:
            fill_cache(search, X, y, groups=groups, verbose=self.verbose, n_jobs=self.n_jobs)
        self.featurize_time_ = time.perf_counter() - start
        start = time.perf_counter()
        with fit_progress(search, enabled=self.verbose), routing_for(groups):
            search.fit(X, y, **({} if groups is None else {"groups": groups}))
        self.fit_time_ = time.perf_counter() - start
        self.nested_ = None
        if self.nested:
            self.nested_ = nested_study(search, X, y, groups=groups, task=task,
                                        n_splits=self.n_splits, random_state=self.random_state,
                                        verbose=self.verbose)
        self.search_ = search
        self.model_names_ = names
        self.results_ = study_results(search, n_column_features=self._n_column_features(X))
        self.task_ = task
        self.scoring_ = search.scoring
        self.metric_ = metric_name(search.scoring)
        mean = self.results_[f"{self.metric_}_mean"]
        self.best_ = self.results_.loc[mean.idxmax()].to_dict()
        self.ties_ = ties(self.results_, self.best_)
        self.oof_predictions_ = out_of_fold_predictions(
            search, self.best_["params"], X, y, groups=groups, task=task,
            n_splits=self.n_splits, random_state=self.random_state)
        self.n_images_ = len(X)
        self.n_classes_ = None if task == "regression" else len(np.unique(np.asarray(y)))
        from ..plotting import chance_level

        # A callable scoring has no known chance level: no line is drawn.
        self.chance_ = (chance_level(search.scoring, y) if isinstance(search.scoring, str)
                        else None)
        self.cv_description_ = (f"{self.n_splits} folds x {self.n_repeats} repeats"
                                f"{' (grouped)' if groups is not None else ''}")
        self.notes_ = (_notes(self.layers, self.encoders, self.union, self.vlad_resize)
                       + _group_notes(groups, search))
        self.provenance_ = provenance(vgg)
        return self

    def validate(self, X, y, groups=None):
        """Check the settings and the data as :meth:`fit` does, without running the network.

        For a caller that must know a study can run before it prepares
        anything else (the command line, before it creates its output
        folders); :meth:`fit` checks all of it again.

        Parameters
        ----------
        X, y, groups
            As for :meth:`fit`.

        Returns
        -------
        self : Study
            Unchanged.

        Raises
        ------
        InputError
            Naming what cannot work: too few images or groups per class for
            the folds (or the nested folds), an unknown model, a missing or
            unreadable image file, an image too small for the deepest layer.
        sklearn.utils._param_validation.InvalidParameterError
            A parameter of the wrong type or range.
        """
        self._validate_params()
        self._checked_search(X, y, groups)
        return self

    def _checked_search(self, X, y, groups):
        """The task, the models' names and the unfitted search, once all is checked."""
        task = check_study_data(X, y, groups=groups, task=self.task, n_splits=self.n_splits)
        names = check_models(self.models, task)
        if self.nested:
            check_nested_data(y, groups=groups, task=task, n_splits=self.n_splits)
        search = make_study(
            task, vgg=self.vgg, layers=self.layers, encoders=self.encoders,
            raw_image=self.raw_image, union=self.union, vlad_resize=self.vlad_resize,
            n_splits=self.n_splits, n_repeats=self.n_repeats, groups=groups is not None,
            n_estimators=self.n_estimators, scoring=self.scoring, n_jobs=self.n_jobs,
            random_state=self.random_state, models=self.models, columns=self.columns,
            missing=self.missing, sources=self.sources, pixel_sizes=self.pixel_sizes,
        )
        if self.columns:  # present, and filled unless imputed: before the network
            check_columns(X, list(self.columns), self.missing)
        vgg = search.estimator.named_steps["vgg"]
        # Missing files, bad pixels, and images too small for the deepest layer
        # (after crop, pixel size and resize), all named before the network runs.
        for pixel_size in self.pixel_sizes or [vgg.pixel_size]:
            clone(vgg).set_params(pixel_size=pixel_size).check_input_sizes(X, vgg.cache_layers)
        return task, names, search

    def _n_column_features(self, X):
        """Features the columns make on the whole table (a fold may lack a category)."""
        if not self.columns:
            return None
        step = WithColumns(None, columns=list(self.columns), missing=self.missing)
        return len(step.fit(Bunch(records=records.table_of(X))).get_feature_names_out())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # the labels are what the study scores
        return tags


def run_study(X, y, *, groups=None, verbose=True, **params):
    """``Study(**params).fit(X, y, groups=groups)``, with progress bars by default.

    Parameters
    ----------
    X, y, groups
        See :meth:`Study.fit`.
    verbose : bool, default=True
        Progress bars.
    **params
        :class:`Study`'s parameters.

    Returns
    -------
    study : Study
        Fitted.
    """
    return Study(verbose=verbose, **params).fit(X, y, groups=groups)


def _notes(layers, encoders, union, vlad_resize):
    """What the study did not do as asked or as a reader would assume, in sentences."""
    notes = []
    if union and len(layers) < 2:
        notes.append("No union of layers: the study has one layer, and a union of one "
                     "layer is that layer again.")
    if "vlad" in encoders and vlad_resize is not None:
        size = vlad_resize if isinstance(vlad_resize, Integral) else "x".join(
            map(str, vlad_resize))
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
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


@validate_params({"study": [Study]}, prefer_skip_nested_validation=True)
def study_config(study):
    """What ``study.json`` records of a fitted study: its parameters, and what it found.

    The parameters are ``study.get_params()``, made JSON: the network as its
    feature settings (weights, crop, resize, pixel size, cache, ...), the
    layers by their Keras names, the models by the table's names, the
    scoring used (None for a callable). Beside them: the ``task`` it ran
    (recorded as the parameter, so the study rebuilds as it ran), the
    ``metric``, the data's size, the chance level, the nested estimate
    (``nested_estimate``) and the provenance. :func:`load_study` reads it back.

    Parameters
    ----------
    study : Study
        Fitted.

    Returns
    -------
    config : dict
    """
    check_is_fitted(study)
    vgg = study.search_.estimator.named_steps["vgg"]
    params = {name: _jsonable(value) for name, value in study.get_params(deep=False).items()
              if name != "vgg"}
    config = {
        "format": CONFIG_FORMAT,
        **params,
        "task": study.task_,
        "vgg": {name: _jsonable(vgg.get_params()[name]) for name in _VGG_CONFIG},
        "layers": [canonical_layer(layer) for layer in study.layers],
        "encoders": list(study.encoders),
        "models": list(study.model_names_),
        "scoring": study.scoring_ if isinstance(study.scoring_, str) else None,
        "metric": study.metric_,
        "n_images": study.n_images_,
        "n_classes": study.n_classes_,
        "chance": _jsonable(study.chance_),
    }
    if study.nested_ is not None:
        nested = study.nested_
        config["nested_estimate"] = {key: _jsonable(nested[key]) for key in
                                     ("mean", "std", "winners", "time", "description")}
        config["nested_estimate"]["scores"] = nested.scores.tolist()
    config["provenance"] = study.provenance_
    return config


@validate_params({"directory": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def load_study(directory):
    """Read back a study folder: its table, its network and the study that made it.

    Reads ``study.json`` of either format: :func:`study_config`'s, and the
    one written before :class:`Study` (format 1, whose ``"nested"`` held the
    nested estimate, now ``"nested_estimate"``).

    Parameters
    ----------
    directory : str or path
        A folder :func:`~sklearn_cnntexture.report.write_study` wrote.

    Returns
    -------
    study : Bunch
        ``results`` (the table, without ``params``), ``config`` (the dict of
        ``study.json``, or None for a folder written before it existed),
        ``vgg`` (a :class:`VGGLayerTransformer` with the study's weights,
        crop, resize, float scale and cache, or None without a config) and
        ``study`` (the unfitted :class:`Study` of the config's parameters,
        its ``vgg`` that same transformer; None without a config) and
        ``out_of_fold`` (the best configuration's out-of-fold predictions,
        ``Study.oof_predictions_``, or None for a folder written before them).
    """
    directory = Path(directory)
    table = directory / "results.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} does not exist: is {directory} a study folder?")
    results = pd.read_csv(table)
    oof = directory / OUT_OF_FOLD_FILE
    out_of_fold = pd.read_csv(oof) if oof.is_file() else None
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        return Bunch(results=results, config=None, vgg=None, study=None,
                     out_of_fold=out_of_fold)
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{config_path} is not JSON ({exc}): was it edited?") from None
    if isinstance(config.get("nested"), dict):  # format 1
        config["nested_estimate"] = config.pop("nested")
        config["nested"] = True
    if not isinstance(config.get("vgg"), dict):
        raise InputError(f"{config_path} has no network settings ('vgg'): was it edited?")
    params = dict(config["vgg"])
    # Studies written while pixel sizes were a parameter kept them here; they
    # travel with the images (X's pixel_size column) now.
    params.pop("image_pixel_size", None)
    if isinstance(params.get("resize"), list):
        params["resize"] = tuple(params["resize"])
    vgg = VGGLayerTransformer(**params)
    names = set(Study().get_params(deep=False)) - {"vgg"}
    settings = {name: tuple(value) if name == "vlad_resize" and isinstance(value, list)
                else value for name, value in config.items() if name in names}
    return Bunch(results=results, config=config, vgg=vgg, study=Study(vgg, **settings),
                 out_of_fold=out_of_fold)


@validate_params({"study": [dict], "given": [dict, None]}, prefer_skip_nested_validation=True)
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


