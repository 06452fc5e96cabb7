"""Which textures rise and fall with a numeric property of the micrographs.

Ling et al. 2017 [1]_ end on their next step: use the texture visualizations
to find which textures go with favourable properties. :func:`explain_property`
is the regression counterpart of
:func:`~sklearn_cnntexture.explain.explain_model`: instead of a forest's
importances for class labels, each filter's mean activation (its
:class:`~sklearn_cnntexture.MeanPool` feature) is correlated with a numeric
target (an anneal temperature, a hardness), by rank, over all images and on
the training part of every cross-validation fold; the filters whose
correlation holds across folds are shown as textures (activation
maximization) and as heat maps on the micrographs with the lowest and the
highest target; and each quantile of the target gets its characteristic
textures, as each class does in the paper's Figs. 11-12.

Everything here returns numbers, arrays and pandas DataFrames; drawing and
writing them is left to :mod:`sklearn_cnntexture.plotting` and
:mod:`sklearn_cnntexture.report`.

References
----------
.. [1] J. Ling, M. Hutchinson, E. Antono, B. DeCost, E. A. Holm and
   B. Meredig, "Building data-driven models with microstructural images:
   Generalization and interpretability", Materials Discovery 10 (2017) 19-28.
"""

__all__ = ["explain_property"]

import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .. import io
from ..exceptions import InputError
from ..features import _layers
from ..features.vgg import VGGLayerTransformer
from ..io import records
from ._importance import activation_heatmap, characteristic_textures

_POSITIVE = Interval(Integral, 1, None, closed="left")


def _spearman(features, y):
    """Spearman's rank correlation of every column of ``features`` with ``y``.

    Pearson's correlation of the ranks (ties get their average rank). A column
    that is constant over the images (a filter silent on all of them) has no
    rank order and gets ``r = 0``: it says nothing about ``y``.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Not constant.

    Returns
    -------
    r : ndarray of shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 5.0, 2.0], [2.0, 4.0, 2.0], [4.0, 1.0, 2.0]])
    >>> _spearman(X, [10, 20, 30])
    array([ 1., -1.,  0.])
    """
    from scipy.stats import rankdata

    ranks = rankdata(np.asarray(features, dtype=np.float64), axis=0)
    ranks -= ranks.mean(axis=0)
    target = rankdata(np.asarray(y, dtype=np.float64))
    target -= target.mean()
    denominator = np.sqrt((ranks**2).sum(axis=0) * (target**2).sum())
    covariance = target @ ranks
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denominator > 0, covariance / np.where(denominator > 0, denominator, 1), 0.0)
    # Rounding can put |r| a hair above 1 for perfectly monotone columns.
    return np.clip(r, -1.0, 1.0)


def _quantile_bins(y, n_quantiles):
    """Bin a numeric target by its quantiles, equal values always in one bin.

    Bin ``k`` of ``n_quantiles`` holds the values above the ``k / n``
    quantile and up to the ``(k + 1) / n`` quantile (the lowest bin includes
    the minimum), as :func:`pandas.qcut` does. Where many images share a
    value (a common anneal temperature), quantiles coincide and bins merge:
    fewer bins come back than asked, and the caller says so.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Numbers.
    n_quantiles : int
        Bins asked for, at least 2.

    Returns
    -------
    bins : ndarray of int, shape (n_samples,)
        Each value's bin, ``0`` to ``n_bins - 1`` from the lowest values up,
        every bin non-empty.
    ranges : list of (float, float)
        Each bin's smallest and largest value.

    Examples
    --------
    >>> bins, ranges = _quantile_bins([700, 700, 800, 970, 970, 970, 970, 1100], 4)
    >>> bins.tolist(), ranges
    ([0, 0, 1, 1, 1, 1, 1, 2], [(700.0, 700.0), (800.0, 970.0), (1100.0, 1100.0)])
    """
    y = np.asarray(y, dtype=np.float64)
    edges = np.quantile(y, np.linspace(0, 1, n_quantiles + 1))
    # Right-closed bins: a value equal to an inner edge belongs to the bin below it.
    raw = np.searchsorted(edges[1:-1], y, side="left")
    used, bins = np.unique(raw, return_inverse=True)
    ranges = [(float(y[bins == k].min()), float(y[bins == k].max())) for k in range(len(used))]
    return bins.astype(int), ranges


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "vgg": [VGGLayerTransformer],
        "layers": [str, list, tuple, None],
        "groups": ["array-like", None],
        "target_name": [str, None],
        "top_k": [_POSITIVE],
        "n_textures": [_POSITIVE],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "n_quantiles": [Interval(Integral, 2, None, closed="left")],
        "per_quantile": [_POSITIVE],
        "examples": [StrOptions({"typical", "extreme"})],
        "color": [StrOptions({"auto", "gray", "rgb"})],
        "size": [_POSITIVE],
        "steps": [Interval(Integral, 0, None, closed="left")],
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "verbose": ["boolean"],
    },
    # vgg is the caller's estimator, not validated yet: its own checks run inside.
    prefer_skip_nested_validation=False,
)
def explain_property(
    X,
    y,
    *,
    vgg,
    layers=None,
    groups=None,
    target_name=None,
    top_k=8,
    n_textures=3,
    n_splits=5,
    n_quantiles=4,
    per_quantile=2,
    examples="typical",
    color="auto",
    size=128,
    steps=40,
    random_state=0,
    verbose=False,
):
    """The textures that rise and fall with a numeric property of the micrographs.

    Each filter's feature is its mean activation over an image (the
    :class:`~sklearn_cnntexture.MeanPool` feature of Ling et al. [1]_), one
    filter each, so a feature that goes with the target names a texture.

    **Correlation.** Spearman's rank correlation ``r`` of each filter's
    feature with ``y`` over all images: by rank, because a property need not
    grow linearly with an activation, and one extreme micrograph should not
    decide the sign. ``r > 0``: the texture rises with the target;
    ``r < 0``: it falls.

    **Stability.** With hundreds of filters and tens or hundreds of images,
    some filters correlate with the target by chance, and the largest ``|r|``
    over all images is the most likely to be such a one. So ``r`` is also
    computed on the training part of each of ``n_splits`` cross-validation
    folds (:class:`~sklearn.model_selection.KFold`, shuffled; or
    :class:`~sklearn.model_selection.GroupKFold` with ``groups``, so that the
    images of one specimen stay together: otherwise near-copies of one
    specimen make its texture look general). A filter's ``stability`` is the
    fraction of folds in which it is among the ``top_k`` filters of its own
    direction (the largest ``r`` for a rising one, the most negative for a
    falling one, same sign required). A ranking that holds when a fifth of
    the images (or of the specimens) is left out is one to believe; the
    table is sorted by stability, then ``|r|``. ``r_fold_mean`` and
    ``r_fold_std`` show how much ``r`` itself moves between folds.

    **Quantiles.** ``y`` is binned by its ``n_quantiles`` quantiles (equal
    values in one bin: ties can merge bins, which a
    :class:`~sklearn_cnntexture.io.DataWarning` says), and each bin gets its
    characteristic textures as a class does in the paper's Figs. 11-12
    (:func:`~sklearn_cnntexture.explain.characteristic_textures`: Cohen's d
    of the bin against the others, among filters most active in that bin).
    A filter that peaks at middle values of the target shows here, not in
    the correlations.

    Parameters
    ----------
    X : list of str or images, or DataFrame with a ``path`` column
        The micrographs (:mod:`sklearn_cnntexture.io.records`: a table's
        ``pixel_size`` column travels with them).
    y : array-like of shape (n_images,)
        The numeric property of each micrograph, not constant.
    vgg : VGGLayerTransformer
        The network and what it does to each image (weights, crop, resize,
        pixel size, cache): the features, textures and heat maps all go
        through it, so a study's transformer reuses the study's cache (no
        forward pass for the features when the cache holds them).
    layers : str, list of str or None, default=None
        Layers whose filters are correlated, replacing ``vgg.layers``; None
        keeps ``vgg``'s. Not ``"image"``: the raw intensity has no texture.
    groups : array-like of shape (n_images,), optional
        Specimen (or other group) of each image: the folds keep groups
        together (GroupKFold).
    target_name : str, optional
        Name of the property on the tables and figures; by default ``y``'s
        name when it is a pandas Series, else ``"y"``.
    top_k : int, default=8
        Size of each fold's top set in the stability count.
    n_textures : int, default=3
        Rising and falling filters shown each (textures and heat maps).
    n_splits : int, default=5
        Cross-validation folds.
    n_quantiles : int, default=4
        Bins of the target, at most (ties can merge bins).
    per_quantile : int, default=2
        Characteristic textures per bin, at most.
    examples : {"typical", "extreme"}, default="typical"
        The two micrographs of the heat maps, the same for every filter.
        ``"typical"``: of the lowest and of the highest quantile bin, the
        micrograph nearest to its bin's mean (standardized features, every
        filter): a correlation of moderate size is a trend over many images,
        which one extreme image need not follow, so the most typical image
        of each end shows it best, and it is chosen without looking at any
        one filter. ``"extreme"``: the micrographs with the lowest and the
        highest ``y`` (the first in ``X`` among equal values).
    color : {"auto", "gray", "rgb"}, default="auto"
        Colour mode of the textures; ``"auto"`` is gray when the two heat-map
        micrographs are grayscale.
    size, steps : int
        Size and gradient-ascent steps of each texture
        (:func:`~sklearn_cnntexture.filter_textures`).
    random_state : int, default=0
        Seeds the shuffled folds (without ``groups``) and the textures'
        start noise (not the weights: they are ``vgg``'s).
    verbose : bool, default=False
        Progress bars.

    Returns
    -------
    explanation : Bunch
        ``correlations``
            DataFrame, one row per filter, sorted: ``rank``, ``layer``,
            ``filter``, ``texture`` (``C3,3 #174``), ``feature``, ``r``,
            ``direction`` (``"rises"``, ``"falls"``, or ``"flat"`` for r = 0),
            ``r_fold_mean``, ``r_fold_std``, ``stability``, ``mean`` and
            ``std`` (of the feature over all images).
        ``rising``, ``falling``
            The first ``n_textures`` rows of each direction, with
            ``activation_low`` and ``activation_high`` (the feature on the
            micrographs of the heat maps) and ``mean_lowest_quantile`` and
            ``mean_highest_quantile`` (its mean over the lowest and the
            highest bin).
        ``by_quantile``
            DataFrame: ``quantile`` (1 = lowest values), ``y_low``,
            ``y_high``, ``n_images``, ``rank``, ``layer``, ``filter``,
            ``texture``, ``feature``, ``d`` (Cohen's d, bin vs rest),
            ``mean_in``, ``mean_out``.
        ``bins``
            Each image's quantile bin (0 = lowest).
        ``textures``
            dict ``(layer, filter)`` -> RGB texture in [0, 1], for the rising,
            falling and quantile filters.
        ``heatmaps``
            dict ``(layer, filter)`` -> ``{"low": heat, "high": heat}``, the
            rising and falling filters' maps over the two micrographs.
        ``examples``
            dict ``"low"`` / ``"high"`` -> Bunch ``index``, ``name`` (file
            name), ``y``, ``image`` (as the heat map covers it),
            ``pixel_size``, ``chosen`` (how, in words): the micrographs of
            the heat maps (see ``examples``).

        And ``color``, ``X`` (the images), ``y``, ``groups``, ``target_name``,
        ``vgg`` (the featurizer's network, for provenance), ``layers``,
        ``cv`` (the folds, in words), ``top_k``, ``n_textures``,
        ``n_splits``, ``n_quantiles`` (asked), ``n_constant`` (filters
        constant over the images, r = 0).

    Raises
    ------
    InputError
        Before any image goes through the network: for a target that is not
        numeric, not finite or constant; lengths of ``X``, ``y`` and
        ``groups`` that differ; fewer images (or groups) than ``n_splits``;
        an unknown layer or ``"image"``; images too small for the layers.

    See Also
    --------
    explain_model : The same for class labels.
    sklearn_cnntexture.report.write_property_explanation : Writes it.

    References
    ----------
    .. [1] J. Ling et al., "Building data-driven models with microstructural
       images: Generalization and interpretability", Materials Discovery 10
       (2017) 19-28.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.explain import explain_property
    >>> rng = np.random.default_rng(0)
    >>> y = np.linspace(0, 1, 12)
    >>> X = rng.random((12, 16, 16)) * (0.2 + y[:, None, None])  # contrast rises with y
    >>> vgg = VGGLayerTransformer("C1_1", weights=None, random_state=0)
    >>> e = explain_property(X, y, vgg=vgg, n_splits=3, n_textures=1, size=16, steps=2)
    >>> e.correlations.columns[:6].tolist()
    ['rank', 'layer', 'filter', 'texture', 'feature', 'r']
    >>> e.examples["high"].chosen
    'the most typical of the highest quantile'
    """
    import pandas as pd
    from sklearn.base import clone
    from sklearn.utils import Bunch

    from ..features.featurize import make_featurizer

    X = records.as_rows(X)
    images = records.images_of(X)
    n = len(images)
    if target_name is None:
        target_name = str(y.name) if getattr(y, "name", None) is not None else "y"
    y = _numeric_target(y, n, target_name)
    groups = _groups(groups, n)
    layers = _property_layers(vgg.layers if layers is None else layers)
    _check_enough(n, groups, n_splits)
    bins, ranges = _quantile_bins(y, n_quantiles)
    if len(ranges) < n_quantiles:
        warnings.warn(
            f"{target_name}'s equal values allow {len(ranges)} quantile bins of the "
            f"{n_quantiles} asked: " + ", ".join(
                f"{lo:g}-{hi:g} ({int((bins == k).sum())} images)"
                for k, (lo, hi) in enumerate(ranges)),
            # Past validate_params' wrapper, to the caller's line.
            io.DataWarning, stacklevel=3)
    # Read once: the heat maps resample each micrograph from its own pixel size.
    sizes = vgg.image_pixel_sizes(X) if vgg.pixel_size is not None else [None] * n
    vgg.check_input_sizes(X, layers)
    folds = list(_folds(n_splits, groups, random_state).split(np.zeros((n, 1)), y, groups))

    featurizer = make_featurizer(clone(vgg).set_params(verbose=verbose or vgg.verbose), "mean",
                                 layers=layers)
    features = np.asarray(featurizer.fit_transform(X), dtype=np.float64)
    names = np.asarray(featurizer.get_feature_names_out(), dtype=object)
    parsed = [_layer_and_filter(name) for name in names]

    correlations = _correlations(features, y, folds, top_k, parsed, names, pd)
    low, high, chosen = _example_indices(features, y, bins, examples)
    shown = {}
    for direction in ("rises", "falls"):
        rows = correlations[correlations["direction"] == direction].head(n_textures).copy()
        index = [list(names).index(f) for f in rows["feature"]]
        rows["activation_low"] = features[low, index]
        rows["activation_high"] = features[high, index]
        rows["mean_lowest_quantile"] = features[bins == 0][:, index].mean(axis=0)
        rows["mean_highest_quantile"] = features[bins == bins.max()][:, index].mean(axis=0)
        shown[direction] = rows.reset_index(drop=True)

    by_quantile = _by_quantile(features, y, bins, ranges, names, parsed, per_quantile, pd)

    examples, heatmaps = {}, {}
    for end, i in (("low", low), ("high", high)):
        examples[end] = Bunch(index=i, name=_source_name(images[i], i), y=float(y[i]),
                              image=None, pixel_size=sizes[i], chosen=chosen[end])
    for rows in shown.values():
        for row in rows.itertuples(index=False):
            maps = {}
            for end, example in examples.items():
                heat, image = activation_heatmap(images[example.index], row.layer,
                                                 int(row.filter), vgg=vgg,
                                                 pixel_size=example.pixel_size)
                example.image = image
                maps[end] = heat
            heatmaps[(row.layer, int(row.filter))] = maps
    for example in examples.values():
        if example.image is None:  # no filter to show (all flat): the micrograph still
            example.image = (io.read_image(images[example.index])
                             if io.is_image_path(images[example.index])
                             else np.asarray(images[example.index]))
    if color == "auto":
        color = "gray" if all(_is_gray(e.image) for e in examples.values()) else "rgb"
    textures = _textures([*shown["rises"].itertuples(index=False),
                          *shown["falls"].itertuples(index=False),
                          *by_quantile.itertuples(index=False)],
                         vgg, color, size, steps, random_state, verbose)
    cv = (f"GroupKFold({n_splits}) over {len(np.unique(groups))} groups" if groups is not None
          else f"KFold({n_splits}, shuffled, random_state={random_state})")
    return Bunch(
        correlations=correlations, rising=shown["rises"], falling=shown["falls"],
        by_quantile=by_quantile, bins=bins, textures=textures, heatmaps=heatmaps,
        examples=examples, color=color, X=images, y=y, groups=groups,
        target_name=target_name, vgg=featurizer.named_steps["vgg"], layers=layers, cv=cv,
        top_k=top_k, n_textures=n_textures, n_splits=n_splits, n_quantiles=n_quantiles,
        n_constant=int((correlations["direction"] == "flat").sum()),
    )


# -- the numbers ----------------------------------------------------------------------


def _correlations(features, y, folds, top_k, parsed, names, pd):
    """The correlations table: r over all images, per training part, stability; sorted."""
    from .. import plotting

    r = _spearman(features, y)
    per_fold = np.stack([_spearman(features[train], y[train]) for train, _ in folds])
    sign = np.sign(r)
    in_top = np.zeros(len(r))
    for fold_r in per_fold:
        for direction in (1, -1):
            # This fold's top_k of the direction, same sign only: a rising filter
            # counts where it is among the fold's largest r, a falling one the lowest.
            order = np.argsort(-direction * fold_r, kind="stable")[:top_k]
            order = order[np.sign(fold_r[order]) == direction]
            chosen = order[sign[order] == direction]
            in_top[chosen] += 1
    stability = in_top / len(folds)
    table = pd.DataFrame({
        "layer": [p[0] for p in parsed],
        "filter": np.array([p[1] for p in parsed], dtype=int),
        "texture": [plotting.filter_label(layer, f) for layer, f in parsed],
        "feature": names,
        "r": r,
        "direction": np.where(r > 0, "rises", np.where(r < 0, "falls", "flat")),
        "r_fold_mean": per_fold.mean(axis=0),
        "r_fold_std": per_fold.std(axis=0),
        "stability": stability,
        "mean": features.mean(axis=0),
        "std": features.std(axis=0),
    })
    order = np.lexsort((-np.abs(r), -stability))  # last key first: stability, then |r|
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def _by_quantile(features, y, bins, ranges, names, parsed, per_quantile, pd):
    """Each quantile bin's characteristic textures (Cohen's d, bin vs the rest)."""
    from .. import plotting

    columns = ["quantile", "y_low", "y_high", "n_images", "rank", "layer", "filter",
               "texture", "feature", "d", "mean_in", "mean_out"]
    table = characteristic_textures(features, bins, feature_names=names, top_k=per_quantile)
    index = {name: j for j, name in enumerate(names)}
    rows = []
    for row in table.to_dict("records"):
        k, j = int(row["class"]), index[row["feature"]]
        layer, f = parsed[j]
        rows.append({
            "quantile": k + 1, "y_low": ranges[k][0], "y_high": ranges[k][1],
            "n_images": int((bins == k).sum()), "rank": int(row["rank"]),
            "layer": layer, "filter": int(f), "texture": plotting.filter_label(layer, f),
            "feature": row["feature"], "d": float(row["statistic"]),
            "mean_in": float(features[bins == k, j].mean()),
            "mean_out": float(features[bins != k, j].mean()),
        })
    return pd.DataFrame(rows, columns=columns)


def _textures(rows, vgg, color, size, steps, random_state, verbose):
    """{(layer, filter): texture} of the rows' filters, one batch per layer."""
    # Imported here, not at the top: filter_textures has one public home, the package.
    from .textures import filter_textures

    wanted = {}
    for row in rows:
        wanted.setdefault(row.layer, set()).add(int(row.filter))
    textures = {}
    for layer, filters in wanted.items():
        filters = sorted(filters)
        result = filter_textures(layer, filters, vgg=vgg, color=color, size=size, steps=steps,
                                 random_state=random_state, verbose=verbose)
        textures.update({(layer, f): image for f, image in zip(filters, result.images)})
    return textures


def _example_indices(features, y, bins, how):
    """Indices of the low and high micrographs, and how each was chosen, in words."""
    if how == "extreme":
        return int(np.argmin(y)), int(np.argmax(y)), {
            "low": "the lowest value (the first of equals)",
            "high": "the highest value (the first of equals)"}
    spread = features.std(axis=0)
    scaled = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1)
    picked = []
    for k in (0, bins.max()):
        members = np.flatnonzero(bins == k)
        distance = ((scaled[members] - scaled[members].mean(axis=0)) ** 2).sum(axis=1)
        picked.append(int(members[np.argmin(distance)]))  # the first of equals
    return picked[0], picked[1], {
        "low": "the most typical of the lowest quantile",
        "high": "the most typical of the highest quantile"}


def _layer_and_filter(name):
    """``(layer, filter)`` of a mean feature name, ``block3_conv3__mean__17``."""
    layer, _, index = str(name).split("__")[-3:]
    return layer, int(index)


def _is_gray(image):
    """One channel, or three equal ones: how grayscale micrographs come."""
    image = np.asarray(image)
    if image.ndim == 2 or image.shape[-1] == 1:
        return True
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def _source_name(item, index):
    return Path(item).name if io.is_image_path(item) else f"image {index}"


# -- argument checks ------------------------------------------------------------------


def _numeric_target(y, n, name):
    from sklearn.utils.validation import column_or_1d

    values = column_or_1d(np.asarray(y), warn=True)
    if len(values) != n:
        raise InputError(f"{name} has {len(values)} values but there are {n} images")
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"{name} is not numeric (e.g. {str(values[0])!r}): a property explanation needs "
            "numbers; for class labels use explain_model") from None
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        raise InputError(f"{name} has {bad.size} missing or infinite value(s), the first at "
                         f"image {bad[0]}: each image needs a number")
    if np.ptp(numbers) == 0:
        raise InputError(f"{name} is constant ({numbers[0]:g} for all {n} images): nothing "
                         "rises or falls with it")
    return numbers


def _groups(groups, n):
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n:
        raise InputError(f"groups has {len(groups)} values but there are {n} images")
    return groups


def _property_layers(layers):
    layers = [layers] if isinstance(layers, str) else list(layers)
    if not layers:
        raise InputError("layers is empty: name at least one VGG16 convolution")
    canonical = []
    for layer in layers:
        try:
            canonical.append(_layers.canonical_layer(layer))
        except ValueError as exc:
            raise InputError(f"layers: {exc}") from None
    if _layers.IMAGE_LAYER in canonical:
        raise InputError("layers: 'image' is the raw intensity, not a filter: there is no "
                         "texture to show; pick VGG16 convolutions such as 'C3_3'")
    return canonical


def _check_enough(n, groups, n_splits):
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < n_splits:
            raise InputError(f"groups has {n_groups} distinct groups, fewer than "
                             f"n_splits={n_splits}: each fold needs a group to leave out")
    elif n < n_splits:
        raise InputError(f"X has {n} images, fewer than n_splits={n_splits}")
    # Each training part needs three images for a rank correlation to mean anything.
    if n - int(np.ceil(n / n_splits)) < 3:
        raise InputError(f"X has {n} images: with n_splits={n_splits} a training part has "
                         "fewer than 3, too few for a rank correlation")


def _folds(n_splits, groups, random_state):
    from sklearn.model_selection import GroupKFold, KFold

    if groups is not None:
        return GroupKFold(n_splits)
    return KFold(n_splits, shuffle=True, random_state=random_state)
