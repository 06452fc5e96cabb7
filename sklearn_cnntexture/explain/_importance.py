"""Explaining a texture model in pictures: which filters matter and what they see.

Ling et al. 2017 [1]_ (Section 4.2, Figs. 8-12) make a model built on mean
VGG16 features interpretable because each feature is one filter:

- :func:`~sklearn_cnntexture.filter_textures` shows the texture a
  filter detects, by gradient ascent on a noise image maximizing the filter's
  mean activation (activation maximization, as in the Keras example [2]_);
  it lives in :mod:`sklearn_cnntexture.explain.textures` and is public from the
  package (``from sklearn_cnntexture import filter_textures``) only;
- :func:`important_textures` names the filters a fitted model relies on most,
  from its feature importances;
- :func:`characteristic_textures` names, for each class, the filters whose
  mean activation is highest in that class relative to the others;
- :func:`activation_heatmap` shows where in one micrograph a filter fires;
- :func:`explain_model` fits an explainable model (VGG16, mean or max, a
  random forest) and computes all of the above for it.

Everything here returns numbers, arrays and pandas DataFrames; drawing them is
left to :mod:`sklearn_cnntexture.plotting`.

References
----------
.. [1] J. Ling, M. Hutchinson, E. Antono, B. DeCost, E. A. Holm and
   B. Meredig, "Building data-driven models with microstructural images:
   Generalization and interpretability", Materials Discovery 10 (2017) 19-28.
.. [2] F. Chollet, "Visualizing what convnets learn", Keras code examples,
   https://keras.io/examples/vision/visualizing_what_convnets_learn/
"""

__all__ = [
    "activation_heatmap",
    "characteristic_textures",
    "explain_model",
    "important_textures",
    "standardized_mean_difference",
]

import os
import re
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from .. import io
from ..exceptions import InputError
from ..features import _layers
from ..features.vgg import VGGLayerTransformer
from ..io import records
from ..study._table import EXPLAINABLE

#: A count of things to show: one or more.
_POSITIVE = Interval(Integral, 1, None, closed="left")

# -- feature names -> (layer, filter) ------------------------------------------

# A feature name ends in "<layer>__<encoder>__<token>" (encoders.py,
# union.py); anything before is a prefix (FeatureUnion's "name__"). Plain
# arrays give "<encoder>__<token>" without a layer.
_NAME = re.compile(
    r"(?:^|__)(?:(?P<layer>block\d_conv\d|image)__)?(?P<encoder>mean|max|gram|vlad)__"
    r"(?P<token>[^_]+(?:_[^_]+)?)$"
)


def _parse_feature_name(name):
    """``(layer or None, filter)`` of a mean or max feature name; error otherwise."""
    match = _NAME.search(str(name))
    if match is None:
        raise InputError(
            f"feature {name!r} is not a texture feature name like "
            "'block3_conv3__mean__17': the features must come from MeanPool or MaxPool "
            "(alone or in MultiLayerUnion), after VGGLayerTransformer, with no step that "
            "renames them (such as PCA) in between"
        )
    if match["encoder"] in EXPLAINABLE and not match["token"].isdigit():
        raise InputError(
            f"feature {name!r} names its channel {match['token']!r}, not a filter index: "
            "fit the encoder on VGGLayerTransformer's activations so that its features "
            "are named by filter"
        )
    if match["encoder"] in ("gram", "vlad"):
        raise InputError(
            f"feature {name!r} is a {match['encoder']} feature. Only mean and max features "
            "are one filter each (Gram entries pair two filters, VLAD entries a visual word "
            "and a filter), so they cannot be shown as one filter's texture: use MeanPool "
            "or MaxPool as the encoder to explain a model by its filters"
        )
    return match["layer"], int(match["token"])


def _split_model(model):
    """(featurizer or None, final estimator) of a fitted model."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        if len(model.steps) < 2:
            raise InputError("model is a one-step Pipeline: there are no features to explain")
        return model[:-1], model[-1]
    return None, model


def _feature_names(featurizer, estimator):
    if featurizer is not None:
        return np.asarray(featurizer.get_feature_names_out(), dtype=object)
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        raise InputError(
            f"model is a {type(estimator).__name__} fitted on unnamed columns, so its "
            "features cannot be traced to filters: pass the whole Pipeline "
            "(VGGLayerTransformer, encoder, model), or fit the model on a DataFrame of "
            "named features (set_output(transform='pandas'))"
        )
    return np.asarray(names, dtype=object)


def _class_means(features, y, classes):
    return {f"mean_{c}": features[y == c].mean(axis=0) for c in classes}


def _pandas():
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is a test extra
        raise ImportError(
            "the explanation tables are pandas DataFrames: pip install pandas"
        ) from exc
    return pandas


@validate_params(
    {
        "model": [HasMethods(["fit"])],
        "top_k": [_POSITIVE, None],
        "X": ["array-like", None],
        "y": ["array-like", None],
        "importances": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def important_textures(model, *, top_k=10, X=None, y=None, importances=None):
    """The filters a fitted model relies on most, from its feature importances.

    Ling et al. 2017 (Fig. 10) rank the mean features of a random forest by
    importance; since each is one filter of one layer, the ranking names
    textures, which :func:`~sklearn_cnntexture.filter_textures` then shows.

    Parameters
    ----------
    model : fitted estimator
        A Pipeline whose last step has ``feature_importances_`` (a random
        forest, gradient boosting, ...) and whose earlier steps name their
        output features (``model[:-1].get_feature_names_out()``), such as
        ``VGGLayerTransformer`` then ``MeanPool``, ``MaxPool`` or
        ``MultiLayerUnion`` of either. Steps that keep names (a scaler) may
        follow the encoder. A plain estimator fitted on a DataFrame whose
        columns are such names works too.
    top_k : int or None, default=10
        Rows to return; None for all features.
    X : images, optional
        With ``y``, adds each class's mean feature value: ``model[:-1]``
        transforms ``X`` (one forward pass). For a plain estimator, ``X`` is
        the feature matrix itself.
    y : array-like of shape (n_samples,), optional
        Class labels of ``X``.
    importances : array-like of shape (n_features,), optional
        Importances to use instead of the model's ``feature_importances_``,
        e.g. ``permutation_importance(...).importances_mean`` (impurity
        importances favour features with many distinct values) or
        ``abs(coef_)`` of a linear model on standardized features.

    Returns
    -------
    table : pandas.DataFrame
        Sorted by decreasing importance (ties keep feature order), with
        columns ``layer`` (None when the features were fitted without a
        layer), ``filter``, ``feature``, ``importance`` and, with ``X`` and
        ``y``, ``mean_<class>`` for each class: the mean over that class's
        images of the feature, i.e. the filter's mean (or max) activation
        (unless a step after the encoder rescales it).

    Raises
    ------
    ValueError
        If the features are Gram or VLAD features (each mixes two filters, or
        a word and a filter, so none is one filter's texture), or if the
        names cannot be traced to filters.

    See Also
    --------
    characteristic_textures : Filters that distinguish each class.
    :func:`~sklearn_cnntexture.filter_textures` : Show a filter's texture.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_cnntexture import MeanPool, VGGLayerTransformer
    >>> from sklearn_cnntexture.explain import important_textures
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((12, 16, 16))
    >>> images[6:] *= 0.5  # darker class
    >>> y = np.repeat(["bright", "dark"], 6)
    >>> model = make_pipeline(
    ...     VGGLayerTransformer("C1_2", weights=None, random_state=0), MeanPool(),
    ...     RandomForestClassifier(n_estimators=20, random_state=0)).fit(images, y)
    >>> table = important_textures(model, top_k=3, X=images, y=y)
    >>> list(table.columns)
    ['layer', 'filter', 'feature', 'importance', 'mean_bright', 'mean_dark']
    >>> table["layer"].iloc[0]
    'block1_conv2'
    """
    pd = _pandas()
    featurizer, estimator = _split_model(model)
    names = _feature_names(featurizer, estimator)
    if importances is None:
        if not hasattr(estimator, "feature_importances_"):
            raise InputError(
                f"the model's final step ({type(estimator).__name__}) has no "
                "feature_importances_ (is it fitted, and a tree ensemble?); pass "
                "importances= yourself, e.g. from sklearn.inspection.permutation_importance"
            )
        importances = estimator.feature_importances_
    importances = np.asarray(importances, dtype=float).ravel()
    if len(importances) != len(names):
        raise InputError(
            f"importances has {len(importances)} values but the model has "
            f"{len(names)} features"
        )
    parsed = [_parse_feature_name(name) for name in names]
    order = np.argsort(-importances, kind="stable")[:top_k]
    table = pd.DataFrame(
        {
            "layer": [parsed[i][0] for i in order],
            "filter": np.array([parsed[i][1] for i in order], dtype=int),
            "feature": names[order],
            "importance": importances[order],
        }
    )
    if (X is None) != (y is None):
        raise InputError("pass both X and y to add the per-class mean activations, or neither")
    if X is not None:
        features = np.asarray(X if featurizer is None else featurizer.transform(X), dtype=float)
        y = _labels(y, len(features))
        if features.shape[1] != len(names):
            raise InputError(f"X has {features.shape[1]} features, the model {len(names)}")
        for column, means in _class_means(features, y, np.unique(y)).items():
            table[column] = means[order]
    return table


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "model": [HasMethods(["fit"]), None],
        "feature_names": ["array-like", None],
        "top_k": [_POSITIVE, None],
    },
    prefer_skip_nested_validation=True,
)
def characteristic_textures(X, y, *, model=None, feature_names=None, top_k=1):
    """For each class, the filters most more active in it than in the others.

    Ling et al. 2017 (Fig. 11) call these a class's characteristic textures.
    A filter's score for a class is a standardized mean difference (Cohen's
    d) of its mean activation between the class's images and all others::

        d = (mean_in - mean_out) / (s_pooled + eps)
        s_pooled**2 = ((n_in - 1) var_in + (n_out - 1) var_out) / (n_in + n_out - 2)

    with ``eps = 1e-9 x`` the feature's standard deviation over all images
    (so a feature constant within both groups but different between them
    scores very high rather than infinite; one constant over all images
    scores 0). Dividing by the spread makes the
    score independent of each filter's scale: raw activations differ by
    orders of magnitude between filters and layers, and a raw difference
    would always name the loudest filters. Only filters more active in the
    class than in each other class count (which implies ``d > 0``), so a
    characteristic filter's mean activation is highest in its class.

    Parameters
    ----------
    X : array-like of shape (n_images, n_features) or images
        The mean-pooled features (e.g. the output of a fitted
        ``VGGLayerTransformer`` + ``MeanPool`` pipeline, or a DataFrame of
        them). With ``model``, the images, which ``model`` turns into
        features.
    y : array-like of shape (n_images,)
        Class labels; at least two classes and three images.
    model : fitted Pipeline, optional
        Computes the features from ``X``: its steps before the final
        estimator if the last step cannot ``transform`` (a classifier),
        otherwise all of it. Feature names come from it.
    feature_names : array-like of str, optional
        Names like ``block3_conv3__mean__17`` of the columns of ``X``, which
        give the ``layer`` and ``filter`` columns. By default the DataFrame's
        columns, the model's names, or, for a plain array, the column index
        as the filter (``layer`` None).
    top_k : int or None, default=1
        Filters per class, at most (fewer where fewer are more active in
        the class); None for all with ``d > 0``.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``class``, ``rank`` (1 = most characteristic), ``layer``,
        ``filter``, ``feature``, ``statistic`` (d) and ``mean_<class>`` for
        every class (the feature's mean over that class's images), classes
        in sorted order.

    See Also
    --------
    important_textures : What the model relies on, rather than what differs.
    :func:`~sklearn_cnntexture.filter_textures` : Show a filter's texture.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture.explain import characteristic_textures
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = np.repeat(["a", "b"], 20)
    >>> X[y == "b", 1] += 3  # filter 1 fires more in class b
    >>> names = ["block2_conv2__mean__0", "block2_conv2__mean__1", "block2_conv2__mean__2"]
    >>> table = characteristic_textures(X, y, feature_names=names)
    >>> table.loc[table["class"] == "b", ["layer", "filter"]].values.tolist()
    [['block2_conv2', 1]]
    """
    from sklearn.utils.validation import check_array

    pd = _pandas()
    if model is not None:
        from sklearn.pipeline import Pipeline

        featurizer = model
        # A full model (features, then a classifier): its features are what
        # the classifier sees, i.e. the output of the steps before it.
        if isinstance(model, Pipeline) and not hasattr(model[-1], "transform"):
            featurizer = model[:-1]
        X = featurizer.transform(X)
        if feature_names is None:
            feature_names = featurizer.get_feature_names_out()
    if feature_names is None and hasattr(X, "columns"):
        feature_names = list(X.columns)
    features = check_array(X, dtype=np.float64, input_name="X")
    y = _labels(y, len(features))
    n, m = features.shape
    if feature_names is None:
        names = np.array([f"x{j}" for j in range(m)], dtype=object)
        parsed = [(None, j) for j in range(m)]
    else:
        names = np.asarray(feature_names, dtype=object)
        if names.shape != (m,):
            raise InputError(f"feature_names has {names.size} names, X has {m} columns")
        parsed = [_parse_feature_name(name) for name in names]
    classes = np.unique(y)
    if len(classes) < 2:
        raise InputError(f"y has {len(classes)} class; characteristic textures need at least 2")
    if n < 3:
        raise InputError(f"X has {n} images; the pooled standard deviation needs at least 3")
    scores = standardized_mean_difference(features, y, classes)
    means = _class_means(features, y, classes)
    # The class whose mean activation of each filter is highest: a filter
    # characteristic of a class must fire more there than in each other class,
    # not just more than in the others pooled (one loud class can raise that).
    peak = np.argmax(np.stack([means[f"mean_{c}"] for c in classes]), axis=0)
    rows = []
    for k, (c, d) in enumerate(zip(classes, scores)):
        order = np.argsort(-d, kind="stable")
        order = order[(d[order] > 0) & (peak[order] == k)][:top_k]
        for rank, j in enumerate(order, start=1):
            row = {
                "class": c,
                "rank": rank,
                "layer": parsed[j][0],
                "filter": parsed[j][1],
                "feature": names[j],
                "statistic": d[j],
            }
            row.update({column: values[j] for column, values in means.items()})
            rows.append(row)
    columns = ["class", "rank", "layer", "filter", "feature", "statistic", *means]
    return pd.DataFrame(rows, columns=columns)


@validate_params(
    {"features": ["array-like"], "y": ["array-like"], "classes": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def standardized_mean_difference(features, y, classes=None):
    """Cohen's d of every feature for every class against the rest.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    classes : array-like, optional
        Classes to score, by default ``np.unique(y)``.

    Returns
    -------
    d : ndarray of shape (n_classes, n_features)
        See :func:`characteristic_textures` for the formula.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> standardized_mean_difference(X, np.array([0, 0, 1, 1])).round(3)
    array([[-2.828],
           [ 2.828]])
    """
    raw = np.asarray(features, dtype=np.float64)
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else classes
    # Centre first: the differences and spreads do not change, and
    # features far from zero keep their precision.
    features = raw - raw.mean(axis=0)
    spread = features.std(axis=0)
    # Equal values can have means that differ in the last bit (a sum of n
    # copies divided by n): call a feature constant when its spread is
    # rounding error, and give it 0 rather than rounding error / eps.
    constant = spread <= 1e-12 * np.abs(raw).max(axis=0, initial=0.0)
    eps = 1e-9 * spread + np.finfo(np.float64).tiny
    out = np.empty((len(classes), features.shape[1]))
    for i, c in enumerate(classes):
        inside, outside = features[y == c], features[y != c]
        n_in, n_out = len(inside), len(outside)
        if n_in == 0 or n_out == 0:
            raise InputError(f"class {c!r} needs images both in it and outside it")
        ss = ((inside - inside.mean(axis=0)) ** 2).sum(axis=0) + (
            (outside - outside.mean(axis=0)) ** 2
        ).sum(axis=0)
        pooled = np.sqrt(ss / max(n_in + n_out - 2, 1))
        out[i] = (inside.mean(axis=0) - outside.mean(axis=0)) / (pooled + eps)
    out[:, constant] = 0.0
    return out


# -- heat maps ----------------------------------------------------------------


@validate_params(
    {
        "image": [str, os.PathLike, "array-like"],
        "layer": [str],
        "filter": [Interval(Integral, 0, None, closed="left")],
        "vgg": [VGGLayerTransformer, None],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
    },
    # vgg is the caller's estimator, not validated yet: its own checks run inside.
    prefer_skip_nested_validation=False,
)
def activation_heatmap(image, layer, filter, *, vgg=None, pixel_size=None):
    """Where in one image a filter fires: its activation map at the image's size.

    The map of ``layer`` is ``2 ** (block - 1)`` times smaller than the image;
    it is interpolated bilinearly back onto the image's pixel grid, each map
    cell at the centre of the pixels it pools (Ling et al. 2017, Fig. 12).

    Parameters
    ----------
    image : str, path or array-like
        One image file, or one image array ``(H, W)``, ``(H, W, 1)`` or
        ``(H, W, 3)`` with the intensity conventions of
        :class:`~sklearn_cnntexture.VGGLayerTransformer`.
    layer : str
        Convolution layer, Keras or paper name.
    filter : int
        Filter index in the layer.
    vgg : VGGLayerTransformer or None, default=None
        The network and what the model does to an image before it, as the
        model's own transformer: ``weights`` (and ``random_state``), ``crop``
        (the heat map covers the cropped image), ``float_scale``,
        ``pixel_size`` (the image resampled from its own pixel size, found as
        :meth:`~sklearn_cnntexture.VGGLayerTransformer.transform` finds it)
        and ``resize``, applied by the transformer's own preprocessing
        (:meth:`~sklearn_cnntexture.VGGLayerTransformer.filter_maps`); the
        heat map is still at the cropped image's size. Its ``layers`` are
        ignored (``layer`` is used); the
        map itself is computed afresh (the cache holds per-image features,
        not maps). None means ``VGGLayerTransformer()``.
    pixel_size : float or None, default=None
        The image's own micrometres per pixel, where ``vgg`` resamples (a
        data table's ``pixel_size`` cell); None reads it from the file.

    Returns
    -------
    heatmap : ndarray of float32, shape (H, W)
        The filter's activation (after ReLU, so >= 0) at every pixel of the
        image as the model sees it (after ``crop``).
    image : ndarray
        That image: as read (file dtype) or as given, cropped, for overlaying.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.explain import activation_heatmap
    >>> img = np.random.default_rng(0).random((30, 41))
    >>> vgg = VGGLayerTransformer(weights=None, random_state=0)
    >>> heat, shown = activation_heatmap(img, "C2_2", 5, vgg=vgg)
    >>> heat.shape, shown.shape
    ((30, 41), (30, 41))
    """
    from ..features.vgg import VGGLayerTransformer

    vgg = VGGLayerTransformer() if vgg is None else vgg
    layer = _canonical(layer, "layer")
    filter = _one_filter(filter, layer)
    _check_one_image(image)
    # Preprocessed as the model's features are (crop, pixel size, resize); one
    # filter's map, put together from tiles for a large image.
    maps, image, seen = vgg.filter_maps(image, {layer: [filter]}, pixel_size=pixel_size)
    activation = maps[layer][:, :, 0]
    height, width = image.shape[:2]
    stride = 2 ** _layers.n_pools_before(layer)
    rows = _cell_coordinates(height, seen[0], stride)
    cols = _cell_coordinates(width, seen[1], stride)
    return _upsample(activation, rows, cols), image


def _check_one_image(image):
    """Refuse an array that is not one image (a file is checked as it is read)."""
    if io.is_image_path(image):
        return
    shape = np.shape(image)
    if len(shape) not in (2, 3):
        raise InputError(
            f"image has shape {shape}: pass one image (H, W) or (H, W, C), or a file path"
        )


def _one_filter(filter, layer):
    n_filters = _layers.n_channels(layer)
    if not 0 <= int(filter) < n_filters:
        raise InputError(
            f"filter=[{int(filter)}] out of range: {layer} has {n_filters} filters, "
            f"indices 0 to {n_filters - 1}"
        )
    return int(filter)


def _cell_coordinates(n_pixels, n_seen, stride):
    # Centre of original pixel i in the network's input, then in map cells:
    # cell k pools input pixels [k s, (k + 1) s), centred at k s + (s - 1) / 2.
    seen_at = (np.arange(n_pixels) + 0.5) * (n_seen / n_pixels) - 0.5
    return (seen_at - (stride - 1) / 2) / stride


def _upsample(activation, rows, cols):
    """Bilinear interpolation of a map at (rows x cols) cell coordinates, edges held.

    Separable, one axis after the other, and the second in bands of rows, so
    that memory stays near the output's even for a heat map of a mosaic.
    """
    along_rows = _interpolate(activation.astype(np.float32), rows)  # (H, w)
    heat = np.empty((len(rows), len(cols)), dtype=np.float32)
    band = max(1, 2**22 // max(len(cols), 1))
    for start in range(0, len(rows), band):
        heat[start:start + band] = _interpolate(along_rows[start:start + band].T, cols).T
    return heat


def _interpolate(values, coordinates):
    """Linear interpolation along axis 0 at ``coordinates``, clamped to the ends."""
    n = len(values)
    coordinates = np.clip(coordinates, 0, n - 1)
    low = np.floor(coordinates).astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    frac = (coordinates - low).astype(np.float32)[:, None]
    return values[low] * (1 - frac) + values[high] * frac


# -- the whole explanation --------------------------------------------------------


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "vgg": [VGGLayerTransformer],
        # Only mean and max features are one filter each, so only they can be
        # shown as filter textures (Gram and VLAD features mix filters).
        "encoder": [StrOptions({"mean", "max"})],
        "color": [StrOptions({"auto", "gray", "rgb"})],
        "n_estimators": [_POSITIVE],
        "top_k": [_POSITIVE],
        "per_layer": [_POSITIVE],
        "size": [_POSITIVE],
        "steps": [Interval(Integral, 0, None, closed="left")],
        # Seeds the forest too, which takes 0 to 2**32 - 1: refused here, before
        # the features are computed, rather than when the forest is fitted.
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "verbose": ["boolean"],
    },
    # vgg is the caller's estimator, not validated yet: its own checks run inside.
    prefer_skip_nested_validation=False,
)
def explain_model(
    X,
    y,
    *,
    vgg,
    encoder="mean",
    color="auto",
    n_estimators=400,
    top_k=5,
    per_layer=4,
    size=128,
    steps=40,
    random_state=0,
    verbose=True,
):
    """Fit an explainable model and compute what the paper's Figs. 8-12 show.

    The model is ``vgg`` -> ``encoder`` (one layer) or
    ``MultiLayerUnion(encoder)`` (several) -> a random forest. ``encoder``
    must be ``"mean"`` or ``"max"``: then each feature is one filter, whose
    texture :func:`~sklearn_cnntexture.filter_textures` can show.

    Parameters
    ----------
    X : list of str or images, or DataFrame with a ``path`` column
        (:mod:`sklearn_cnntexture.io.records`: pixel sizes travel with it)
        The micrographs.
    y : array-like of shape (n_images,)
        Their classes.
    vgg : VGGLayerTransformer
        The network, its layer(s) and what it does to each image (weights,
        crop, resize, float_scale, cache): the features, the textures and the
        heat maps all go through it, so a study's transformer reuses the
        study's cache and preprocessing.
    encoder : {"mean", "max"}, default="mean"
        Encoding of each layer.
    color : {"auto", "gray", "rgb"}, default="auto"
        Colour mode of the textures (see :func:`~sklearn_cnntexture.filter_textures`).
        ``"auto"`` follows the data: gray textures when the micrographs are
        grayscale (one channel, or three equal ones), judged from the first
        image of each class.
    n_estimators : int, default=400
        Trees of the random forest.
    top_k : int, default=5
        Important textures to show (Fig. 9).
    per_layer : int, default=4
        Textures per layer in the grid (Fig. 8): each layer's most important
        filters.
    size, steps : int
        Size and gradient-ascent steps of each texture.
    random_state : int, default=0
        Seeds the forest and the textures' start noise (not the weights: they
        are ``vgg``'s).
    verbose : bool, default=True
        Progress bars.

    Returns
    -------
    explanation : Bunch
        ``model`` (fitted Pipeline), ``important`` (table of
        :func:`important_textures`, all features, with each class's mean),
        ``characteristic`` (table of :func:`characteristic_textures`),
        ``textures`` (dict (layer, filter) -> RGB image in [0, 1]),
        ``heatmaps`` (dict class -> (image, heat map, layer, filter)),
        ``sources`` (dict class -> the file name, or ``"image <i>"``, of the
        micrograph of its heat map), ``color`` (the textures' mode), ``X`` (the images),
        ``y``, ``top_k`` and ``per_layer``.
    """
    from sklearn.utils import Bunch

    X, y = records.as_rows(X), np.asarray(y)
    images = records.images_of(X)
    sizes = (vgg.image_pixel_sizes(X) if vgg.pixel_size is not None  # read once
             else [None] * len(images))
    model, features = _fit_model(X, y, vgg, encoder, n_estimators, random_state, verbose)
    names = model[:-1].get_feature_names_out()
    important = important_textures(model, top_k=None)
    # The class means of the features already computed (important_textures(X=...)
    # would run the featurizer again).
    means = _pandas().DataFrame(_class_means(features, y, np.unique(y)), index=list(names))
    important = important.join(means, on="feature")
    characteristic = characteristic_textures(features, y, feature_names=names)
    firsts = {c: next(i for i, label in enumerate(y) if label == c)
              for c in characteristic["class"]}
    heatmaps = {}
    for row in characteristic.itertuples(index=False):
        first = firsts[row[0]]
        heat, image = activation_heatmap(images[first], row.layer, int(row.filter), vgg=vgg,
                                         pixel_size=sizes[first])
        heatmaps[row[0]] = (image, heat, row.layer, int(row.filter))
    if color == "auto":
        gray = all(_is_gray(image) for image, *_ in heatmaps.values())
        color = "gray" if gray else "rgb"
    wanted = _wanted_textures(important, characteristic, top_k, per_layer)
    # Imported here, not at the top: filter_textures has one public home, the package.
    from .textures import filter_textures

    textures = {}
    for layer, filters in wanted.items():
        result = filter_textures(layer, filters, vgg=vgg, color=color, size=size, steps=steps,
                                 random_state=random_state, verbose=verbose)
        textures.update({(layer, f): image for f, image in zip(filters, result.images)})
    sources = {c: _source_name(images[i], i) for c, i in firsts.items()}
    return Bunch(model=model, important=important, characteristic=characteristic,
                 textures=textures, heatmaps=heatmaps, sources=sources, color=color, X=images, y=y,
                 top_k=top_k, per_layer=per_layer)


def _fit_model(X, y, vgg, encoder, n_estimators, random_state, verbose):
    """The fitted Pipeline (vgg, encoder, forest) and the training features."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    from ..features.featurize import make_featurizer
    from ..study.models import make_model

    featurizer = make_featurizer(clone(vgg).set_params(verbose=verbose or vgg.verbose), encoder)
    # The paper's forest, as the study and fit build it: its importances name the textures.
    forest = make_model("rf", "classification", n_estimators=n_estimators, n_jobs=-1,
                        random_state=random_state)
    features = np.asarray(featurizer.fit_transform(X))
    forest.fit(features, y)
    return Pipeline([*featurizer.steps, ("model", forest)]), features


def _wanted_textures(important, characteristic, top_k, per_layer):
    """{layer: sorted filters}: the top_k important, each layer's per_layer most
    important, and each class's characteristic filter."""
    columns = ["layer", "filter"]
    wanted = list(important.head(top_k)[columns].itertuples(index=False, name=None))
    for _, group in important.groupby("layer", sort=False):
        wanted += list(group.head(per_layer)[columns].itertuples(index=False, name=None))
    wanted += list(characteristic[columns].itertuples(index=False, name=None))
    layers = dict.fromkeys(layer for layer, _ in wanted)
    return {layer: sorted({int(f) for l_, f in wanted if l_ == layer}) for layer in layers}


def _is_gray(image):
    """One channel, or three equal ones: how grayscale micrographs come."""
    image = np.asarray(image)
    if image.ndim == 2 or image.shape[-1] == 1:
        return True
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def _source_name(item, index):
    return Path(item).name if io.is_image_path(item) else f"image {index}"


# -- argument checks ------------------------------------------------------------


def _canonical(layer, name):
    try:
        return _layers.canonical_layer(layer)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def _labels(y, n):
    from sklearn.utils.validation import column_or_1d

    y = column_or_1d(y, warn=True)
    if len(y) != n:
        raise InputError(f"y has {len(y)} labels but there are {n} images")
    return y
