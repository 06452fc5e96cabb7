"""The texture a filter detects, by activation maximization.

Ling et al. 2017 [1]_ (Section 4.2, Figs. 9-12) show what a VGG16 filter
responds to by the image that maximizes its mean activation: starting from a
seeded noise image, gradient ascent on the image raises the filter's mean
activation, the quantity that is its :class:`~sklearn_cnntexture.MeanPool`
feature. The method follows the Keras example "Visualizing what convnets
learn" [2]_, batched over filters; :func:`filter_textures` computes the
textures (cached in memory and optionally on disk), and
:func:`clear_texture_cache` empties the in-process cache. The public home
of :func:`filter_textures` and :class:`FilterTextures` is the package
(``from sklearn_cnntexture import filter_textures``).

:mod:`sklearn_cnntexture.explain` finds which filters to look at; drawing
the textures is left to :mod:`sklearn_cnntexture.plotting`. The gradient
ascent itself runs in the backbone, the only module that imports TensorFlow.

References
----------
.. [1] J. Ling, M. Hutchinson, E. Antono, B. DeCost, E. A. Holm and
   B. Meredig, "Building data-driven models with microstructural images:
   Generalization and interpretability", Materials Discovery 10 (2017) 19-28.
.. [2] F. Chollet, "Visualizing what convnets learn", Keras code examples,
   https://keras.io/examples/vision/visualizing_what_convnets_learn/
"""

__all__ = [
    "FilterTextures",
    "clear_texture_cache",
    "filter_textures",
]

import collections
import dataclasses
import hashlib
import json
import os
import threading
import zipfile
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .. import _atomic
from ..exceptions import InputError
from ..features import _backbone, _layers
from ..features.vgg import VGGLayerTransformer
from ..features.weights import resolve_weights, weights_fingerprint

# -- activation maximization --------------------------------------------------

#: Bumped whenever the optimization changes, so cached textures of an older
#: algorithm are never served (the version is part of every cache key).
_ALGORITHM_VERSION = 1
#: Start image: gray (128 on the 0-255 scale) plus Gaussian noise of this
#: standard deviation per pixel and channel, as in Chollet's VGG16 example.
_NOISE_MEAN, _NOISE_STD = 128.0, 20.0
#: Weight of the filter's pre-ReLU response in the objective, see _ascent_step.
_PRE_RELU_WEIGHT = 0.1
#: The display normalization of the Keras example: standard deviation 0.15
#: around mid-gray, so about 3 standard deviations fit in [0, 1].
_DISPLAY_STD = 0.15
#: The colour modes of the textures: free RGB, or one gray channel fed to all three.
_COLORS = ("rgb", "gray")
#: In-process cache budget. Textures are kept as raw float32 RGB images:
#: 192 KiB at 128 x 128, so 64 MiB keeps a few hundred.
_MEMORY_BUDGET = 64 * 2**20


@dataclasses.dataclass(frozen=True, eq=False)
class FilterTextures:
    """What :func:`filter_textures` returns: one texture per filter.

    Attributes
    ----------
    layer : str
        Keras name of the layer.
    filters : ndarray of int, shape (n_filters,)
        The filter indices, in the order asked for.
    images : ndarray of float32, shape (n_filters, size, size, 3)
        The textures for display: RGB in [0, 1], each centred on mid-gray and
        scaled to a standard deviation of 0.15 (as in the Keras example), so
        their contrast is comparable but their absolute intensity is not.
    raw_images : ndarray of float32, shape (n_filters, size, size, 3)
        The optimized images themselves, RGB on the 0-255 scale and not
        clipped (gradient ascent is not bounded to valid intensities). Feeding
        them to ``VGGLayerTransformer(float_scale=1.0)`` and ``MeanPool``
        gives back ``activation``.
    activation : ndarray of float32, shape (n_filters,)
        Each filter's mean activation over its optimized image: the value of
        its :class:`~sklearn_cnntexture.MeanPool` feature.
    initial_activation : ndarray of float32, shape (n_filters,)
        The same on the starting noise image.
    """

    layer: str
    filters: np.ndarray
    images: np.ndarray
    raw_images: np.ndarray
    activation: np.ndarray
    initial_activation: np.ndarray

    @property
    def gain(self):
        """``activation / initial_activation`` per filter.

        ``inf`` for a filter silent on the noise that the ascent woke up,
        ``nan`` for one that stayed silent (see :func:`filter_textures`, Notes).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.activation / self.initial_activation

    def __len__(self):
        return len(self.filters)

    def __repr__(self):
        size = self.images.shape[1] if self.images.ndim == 4 else None
        return (
            f"FilterTextures(layer={self.layer!r}, n_filters={len(self)}, size={size}, "
            f"filters={self.filters.tolist()[:8]}{' ...' if len(self) > 8 else ''})"
        )


@validate_params(
    {
        # Which layers and filters exist is the network's to say (checked in the body).
        "layer": [str],
        "filters": [Interval(Integral, 0, None, closed="left"), "array-like", None],
        "vgg": [VGGLayerTransformer, None],
        "color": [StrOptions(set(_COLORS))],
        "size": [Interval(Integral, 1, None, closed="left")],
        "steps": [Interval(Integral, 0, None, closed="left")],
        "step_size": [Interval(Real, 0, None, closed="left")],
        "blur": [Interval(Real, 0, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cache": [bool, str, os.PathLike],
        "verbose": ["boolean"],
    },
    # vgg is the caller's estimator: its weights are checked inside, as it is used.
    prefer_skip_nested_validation=False,
)
def filter_textures(
    layer,
    filters,
    *,
    vgg=None,
    color="rgb",
    size=128,
    steps=40,
    step_size=2.0,
    blur=0.35,
    random_state=0,
    batch_size=16,
    cache=True,
    verbose=False,
):
    """The texture each filter detects, by activation maximization.

    Starting from a seeded noise image, gradient ascent on the image raises
    one filter's mean activation over the image, the quantity that is that
    filter's :class:`~sklearn_cnntexture.MeanPool` feature (Ling et al. [1]_,
    Figs. 9-12, after Chollet [2]_). The image that results is a texture the
    filter responds to strongly.

    Parameters
    ----------
    layer : str
        Convolution layer, by Keras name (``"block3_conv3"``) or the paper's
        (``"C3_3"``).
    filters : int, array-like of int or None
        Filter indices in ``[0, n_filters of the layer)``; None means all of
        them (512 textures at block 4 or 5 take an hour or more on a CPU).
    vgg : VGGLayerTransformer or None, default=None
        The network: its ``weights`` (and ``random_state``, the seed of
        random weights) name the VGG16 whose filters are shown; its other
        parameters (layers, resize, crop, cache, ...) do not matter here.
        None means ``VGGLayerTransformer()``, the ImageNet weights.
    color : {"rgb", "gray"}, default="rgb"
        ``"gray"`` optimizes one gray image fed to the network's three
        input channels, as grayscale micrographs are: the textures then look
        like the micrographs they explain instead of being drawn in false
        colour. ``"rgb"`` lets the three channels move freely.
    size : int, default=128
        Side of the square images, in pixels. At least ``2 ** (block - 1)``
        (16 for block 5); a larger image shows more repeats of the texture.
    steps : int, default=40
        Gradient ascent steps. 0 returns the starting noise.
    step_size : float, default=2.0
        How far each step moves the image: the gradient is divided by its
        root mean square per image, so every pixel moves by ``step_size``
        intensity levels (0-255 scale) on average per step, whatever the
        layer's activation scale.
    blur : float, default=0.35
        Standard deviation, in pixels, of a Gaussian blur applied to the image
        after every step; 0 turns it off. It damps the high-frequency noise
        that gradient ascent otherwise leaves in block 3 to 5 textures, while
        keeping the fine stripes of block 1 and 2 filters (see Notes).
    random_state : int, default=0
        Seed of the starting noise (only: the weights come from ``vgg``).
        Each filter's noise is drawn from ``(random_state, filter)``, so a
        texture does not depend on which other filters are computed with it.
    batch_size : int, default=16
        Filters optimized together: one gradient computation serves a batch
        of images, one per filter.
    cache : bool or path, default=True
        True keeps results in a per-process cache (64 MiB), so asking again
        for a texture costs nothing. A directory path keeps them on disk too,
        one ``.npz`` file per texture, named by a SHA-256 of every parameter
        that decides it (the weights included, by the content of their file,
        as in the feature cache), and written atomically, so parallel
        processes may share the directory. False computes afresh.
    verbose : bool, default=False
        Show a progress bar over gradient-ascent steps (filters x steps), so
        that it moves from the first batch on.

    Returns
    -------
    textures : FilterTextures
        ``images`` (display RGB in [0, 1]), ``raw_images``, ``activation``,
        ``initial_activation`` and ``gain``, one entry per filter in
        ``filters``' order. With ``color="gray"`` the three channels of
        ``raw_images`` and ``images`` are equal.

    Raises
    ------
    InvalidParameterError
        For an argument of the wrong type or out of its range (a ValueError
        and a TypeError; the message names it).
    InputError
        For an unknown layer, a filter index outside the layer's range, or a
        ``size`` too small for the layer or its ``blur``.
    NotADirectoryError
        For a ``cache`` path that is a file.

    See Also
    --------
    :func:`~sklearn_cnntexture.explain.important_textures` : Which filters to look at.
    :func:`~sklearn_cnntexture.explain.characteristic_textures` : Which filters to look at.
    :func:`~sklearn_cnntexture.explain.activation_heatmap` : Where one filter fires in a
        micrograph.

    Notes
    -----
    **Algorithm** (as in the Keras example [2]_, batched). The start is gray
    (128) plus Gaussian noise of standard deviation 20 per pixel and channel,
    then VGG16's caffe preprocessing. Each step computes, for a batch of
    images, the sum over images of each image's own filter's objective, so
    one gradient gives every image its own gradient (VGG16 has no
    batch-coupled layers); each image moves by ``step_size`` times its
    gradient divided by the gradient's root mean square, then is blurred.
    The images are not clipped to valid intensities. ``activation`` is
    measured on the final image, the one returned.

    **Gray.** A grayscale micrograph enters VGG16 as three equal channels,
    so its textures are best shown in the same space: with ``color="gray"``
    the image is ``g * [1, 1, 1]`` for one gray image ``g``. The gradient
    with respect to ``g`` is the sum of the three channels' gradients, so
    each step moves every channel by the channel mean of the RGB gradient,
    normalized by that mean's own root mean square (the channel-mean
    projection of the RGB step, with the step length of the gray
    parametrization). The start is gray noise (one channel, repeated); the
    blur treats channels alike, so they stay equal.

    **Objective.** The filter's mean activation (after its ReLU) plus 0.1
    times its mean response before the ReLU. A filter silent everywhere on
    the start image has zero gradient through its ReLU, and plain ascent
    would never move; the pre-ReLU term gives it a direction. Once it fires,
    the ReLU term dominates. A few filters of fine-tuned networks stay silent
    anyway (their ``activation`` is 0 and ``gain`` nan).

    **Defaults.** 40 steps of 2 levels with a 0.35 px blur: in our runs
    (``hed-bsds500``; filters 0-3 of each paper layer at 64 px, 0-15 of
    block3_conv3 at 128 px) every filter active on the noise gained 12x to
    5 x 10^4 in mean activation, most silent ones woke up, and three stayed
    silent. More steps raise the gain further, mostly by raising the
    image's contrast. Stronger blur (0.5 px) gives smoother
    deep-layer textures but erases block 1 stripes. Random shifts (jitter)
    and excluding the image border from the objective were tried and left
    out: neither visibly changed the textures, and both lowered the gain.

    **Determinism.** The same parameters give identical images on the same
    machine and TensorFlow build; computing a filter alone or in a batch may
    differ in the last bits, and the cache returns whichever came first.

    References
    ----------
    .. [1] J. Ling et al., Materials Discovery 10 (2017) 19-28, Section 4.2.
    .. [2] F. Chollet, "Visualizing what convnets learn", Keras code examples.

    Examples
    --------
    >>> from sklearn_cnntexture import VGGLayerTransformer, filter_textures
    >>> vgg = VGGLayerTransformer(weights=None, random_state=0)  # random weights, seeded
    >>> tex = filter_textures("C2_2", [3, 17], vgg=vgg, size=32, steps=10)
    >>> tex.images.shape
    (2, 32, 32, 3)
    >>> bool(tex.images.min() >= 0 and tex.images.max() <= 1)
    True
    >>> bool((tex.activation > tex.initial_activation).all())
    True
    """
    layer = _conv_layer(layer, "layer")
    filters = _filter_indices(filters, _layers.n_channels(layer), layer)
    params = _texture_params(vgg, color, layer, size, steps, step_size, blur, random_state)
    disk = _cache_dir(cache)
    keys = {int(f): _texture_key(params, int(f)) for f in np.unique(filters)}
    found = {} if cache is False else _cached_textures(keys, disk)
    todo = [f for f in keys if f not in found]
    with _progress(verbose, len(todo) * params["steps"], layer) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            raw, activation, initial = _ascend(params, batch, bar)
            for j, f in enumerate(batch):
                # A copy, so that a cached texture does not keep its whole batch alive.
                found[f] = (raw[j].copy(), np.float32(activation[j]), np.float32(initial[j]))
                if cache is not False:
                    _MEMORY.put(keys[f], found[f])
                    if disk is not None:
                        _write_texture(disk / f"{keys[f]}.npz", *found[f])

    raw = np.stack([found[int(f)][0] for f in filters])
    return FilterTextures(
        layer=layer,
        filters=filters,
        images=_display(raw),
        raw_images=raw,
        activation=np.array([found[int(f)][1] for f in filters], dtype=np.float32),
        initial_activation=np.array([found[int(f)][2] for f in filters], dtype=np.float32),
    )


def _texture_params(vgg, color, layer, size, steps, step_size, blur, random_state):
    """Every parameter that decides a texture, checked: the cache key's content."""
    if vgg is None:
        vgg = VGGLayerTransformer()
    # Plain Python numbers: they go into the cache key's JSON (numpy scalars do not).
    size, steps, random_state = int(size), int(steps), int(random_state)
    step_size, blur = float(step_size), float(blur)
    need = 2 ** _layers.n_pools_before(layer)
    if size < need:
        raise InputError(
            f"size={size} is too small for {layer}: VGG16 halves the image "
            f"{_layers.n_pools_before(layer)} times before it, so it needs at least "
            f"{need} pixels a side"
        )
    if blur > 0 and _backbone.blur_radius(blur) >= size:
        raise InputError(f"blur={blur} is too wide for size={size}: its kernel exceeds the image")
    weights_key = resolve_weights(vgg.weights, vgg.random_state)
    return {
        "algorithm": _ALGORITHM_VERSION,
        # By content, as the feature cache does: a copied or touched weights
        # file still hits, a rewritten one never does.
        "weights": weights_fingerprint(weights_key),
        "color": color,
        "layer": layer,
        "size": size,
        "steps": steps,
        "step_size": step_size,
        "blur": blur,
        "noise": [_NOISE_MEAN, _NOISE_STD],
        "pre_relu_weight": _PRE_RELU_WEIGHT,
        "random_state": random_state,
        # Not hashed into the key (see _texture_key): what the network needs.
        "weights_key": weights_key,
    }


def _cached_textures(keys, disk):
    """{filter: texture} of the keys found in memory or, failing that, on disk."""
    found = {}
    for f, key in keys.items():
        hit = _MEMORY.get(key)
        if hit is None and disk is not None:
            hit = _read_texture(disk / f"{key}.npz")
            if hit is not None:
                _MEMORY.put(key, hit)
        if hit is not None:
            found[f] = hit
    return found


class _NoProgress:
    def update(self, n=1):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress(verbose, total, layer):
    """A bar over filter-steps: it moves after every gradient step of a batch,
    so the first update comes once the network is built and traced, not after a
    whole batch (a minute at 0 % with deep layers on a CPU)."""
    if not verbose or not total:
        return _NoProgress()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"textures {layer}", unit="step")


def _start_images(filters, size, random_state, color):
    """Noise around mid-gray per filter, RGB on the 0-255 scale, seeded by (seed, filter).

    Gray: one noise channel repeated three times, the start of the gray ascent.
    """
    channels = 1 if color == "gray" else 3
    images = np.empty((len(filters), size, size, 3), dtype=np.float32)
    for j, f in enumerate(filters):
        rng = np.random.default_rng([random_state, int(f)])
        images[j] = _NOISE_MEAN + _NOISE_STD * rng.standard_normal((size, size, channels))
    return images


def _ascend(params, filters, bar):
    """Gradient ascent for one batch: raw RGB images, final and initial activations."""
    p = params
    raw, activation, initial = _backbone.ascend_filters(
        p["weights_key"],
        p["layer"],
        _start_images(filters, p["size"], p["random_state"], p["color"]),
        filters,
        steps=p["steps"],
        step_size=p["step_size"],
        blur=p["blur"],
        pre_relu_weight=_PRE_RELU_WEIGHT,
        # The backbone averages the channel gradients before the RMS step: the
        # exact gradient ascent of one gray image fed to all three inputs.
        gray=p["color"] == "gray",
        callback=lambda step: bar.update(len(filters)),
    )
    if p["color"] == "gray":
        # Equal inside the network up to float rounding (the caffe means
        # differ per channel): make them exactly equal.
        raw = np.repeat(raw.mean(axis=-1, keepdims=True), 3, axis=-1)
    return raw, activation, initial


def _display(raw):
    """Per image: centre, scale to std 0.15 around 0.5, clip to [0, 1] (Keras example)."""
    x = raw.astype(np.float64)
    x -= x.mean(axis=(1, 2, 3), keepdims=True)
    x /= x.std(axis=(1, 2, 3), keepdims=True) + 1e-5
    return np.clip(x * _DISPLAY_STD + 0.5, 0, 1).astype(np.float32)


# -- texture cache --------------------------------------------------------------


class _LRUCache:
    """Least recently used entries dropped first, within a byte budget; thread-safe."""

    def __init__(self, budget):
        self.budget = budget
        self.nbytes = 0
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value):
        size = value[0].nbytes
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return
            self._items[key] = value
            self.nbytes += size
            while self.nbytes > self.budget and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self.nbytes -= old[0].nbytes

    def clear(self):
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def __len__(self):
        return len(self._items)


_MEMORY = _LRUCache(_MEMORY_BUDGET)


def clear_texture_cache():
    """Empty the in-process cache of :func:`filter_textures` (files stay)."""
    _MEMORY.clear()


def _texture_key(params, filter_index):
    """SHA-256 of every parameter that decides one texture."""
    hashed = {k: v for k, v in params.items() if k != "weights_key"}
    text = json.dumps({**hashed, "filter": filter_index}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_dir(cache):
    """The cache's folder, made if need be; None for ``cache=True`` or ``False``."""
    if isinstance(cache, bool):
        return None
    path = Path(cache)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"cache={str(cache)!r} is a file; pass a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_texture(path):
    """A cached texture, or None if absent or unreadable (then it is recomputed)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = data["raw"].astype(np.float32, copy=False)
            return raw, np.float32(data["activation"]), np.float32(data["initial_activation"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _write_texture(path, raw, activation, initial):
    _atomic.save_npz(path, {"raw": raw, "activation": activation, "initial_activation": initial})


# -- argument checks ------------------------------------------------------------


def _canonical(layer, name):
    try:
        return _layers.canonical_layer(layer)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def _conv_layer(layer, name):
    layer = _canonical(layer, name)
    if layer == _layers.IMAGE_LAYER:
        raise InputError(
            f"{name}='image' is the raw intensity, not a filter: there is no texture "
            "to optimize; pick a VGG16 convolution such as 'block3_conv3'"
        )
    return layer


def _filter_indices(filters, n_filters, layer, name="filters"):
    if filters is None and name == "filters":
        return np.arange(n_filters)
    values = np.atleast_1d(np.asarray(filters))
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iu":
        raise InputError(
            f"{name} must be a filter index or a non-empty 1-D list of them (integers), "
            f"got {filters!r}"
        )
    bad = values[(values < 0) | (values >= n_filters)]
    if bad.size:
        raise InputError(
            f"{name}={bad.tolist()[:5]} out of range: {layer} has {n_filters} filters, "
            f"indices 0 to {n_filters - 1}"
        )
    return values.astype(int)
