"""Per-image results on disk, keyed so that a stale result cannot be served.

A layer x encoder study fits hundreds of pipelines on the same images. Mean,
Max and Gram are pure functions of one image's activations, so the first time
an image goes through VGG16 its statistics are stored for every layer the
study needs (``cache_layers``); every later candidate and fold reads them back
instead of running the network again.

What one entry holds, per (image, forward configuration, layer):

- ``mean``, ``max``: what :class:`MeanPool` and :class:`MaxPool` give;
- ``gram``: the upper triangle of ``F^T F`` (not normalized) and
  ``n_locations``, from which :class:`GramEncoder` derives any of its
  ``triangle`` / ``normalize`` variants exactly;
- ``descriptors``: up to :data:`DESCRIPTORS_PER_IMAGE` local descriptors in a
  fixed random order (seeded by the image's content), what
  :class:`VLADEncoder` samples its dictionary from.

VLAD codes depend on the dictionary, hence on the training fold: they are
stored under a key that includes the dictionary itself, so they are reused
only by an encoder fitted to the very same words.

Keys are SHA-256 digests of: the image's content (the file's bytes, or the
array's bytes, dtype and shape), the weights' content (the weights file's
bytes, or the seed of random weights), the preprocessing (crop, resize,
intensity scale), the layer, and the cache format version. Changing any of
them changes the key. Writes go to a temporary file in the same folder, then
``os.replace``: readers see a whole entry or none, so parallel workers and a
study killed half way are both safe (a study run again reuses what it wrote).
"""

import dataclasses
import functools
import hashlib
import json
import math
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from . import _atomic, _layers, io

#: Bumped whenever what an entry holds, or how it is computed, changes
#: (including the rule of io.find_banner_height, which crop="auto" keys by name).
CACHE_VERSION = 1

#: Local descriptors kept per image and layer for VLAD's dictionary.
DESCRIPTORS_PER_IMAGE = 256

_STATS = ("mean", "max", "gram", "n_locations", "descriptors")


# -- fingerprints ------------------------------------------------------------


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=100_000)
def _file_fingerprint(path, size, mtime_ns):
    # Keyed by size and mtime so a rewritten file is hashed again; the digest
    # itself is of the content, so a copied or touched file still hits.
    return _sha256_file(path)


def image_fingerprint(item):
    """SHA-256 of an image's content: a file's bytes, or an array's bytes."""
    if io.is_image_path(item):
        path = os.path.abspath(item)
        stat = os.stat(path)
        return _file_fingerprint(path, stat.st_size, stat.st_mtime_ns)
    array = np.ascontiguousarray(item)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def weights_fingerprint(weights_key):
    """A string naming a weights source by content (see ``resolve_weights``)."""
    kind = weights_key[0]
    if kind == "random":
        return f"random-{weights_key[1]}"
    if kind == "imagenet":
        from .weights import imagenet_weights_path

        return _sha256_file(imagenet_weights_path())
    return _sha256_file(weights_key[1])  # a file: ("file" | "hed-bsds500", path, size, mtime)


def _forward_fingerprint(spec):
    """What decides an image's activations, besides the image and the layer."""
    return [weights_fingerprint(spec.weights_key), spec.resize, spec.crop, spec.float_scale]


def entry_key(image_fp, spec, layer, what):
    """The file name (a hex digest) of one cached result."""
    parts = [CACHE_VERSION, image_fp, _forward_fingerprint(spec), layer, what]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


# -- storage -----------------------------------------------------------------


class DiskCache:
    """A folder of ``.npz`` entries, written atomically."""

    def __init__(self, directory):
        self.directory = Path(directory)

    def _path(self, key):
        return self.directory / key[:2] / f"{key}.npz"

    def load(self, key, names):
        """The arrays ``names`` of entry ``key``, or None if it is missing."""
        path = self._path(key)
        try:
            with np.load(path) as data:
                if not set(names) <= set(data.files):
                    return None
                return {name: data[name] for name in names}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            # Only a file damaged outside this library gets here (writes are
            # atomic); it is recomputed and replaced, and the user told.
            warnings.warn(f"recomputing the damaged cache entry '{path}': {exc}", stacklevel=3)
            return None

    def has(self, key):
        return self._path(key).is_file()

    def store(self, key, arrays):
        _atomic.save_npz(self._path(key), arrays)


# -- what is computed per image ----------------------------------------------


def image_statistics(F, image_fp):
    """Everything cached for one image and layer, from its (L, C) activations."""
    F = F.reshape(-1, F.shape[-1])
    rows, cols = np.triu_indices(F.shape[1])
    order = np.random.default_rng(int(image_fp[:16], 16)).permutation(len(F))
    return {
        # Same arithmetic as MeanPool, MaxPool and GramEncoder, so cached and
        # uncached features agree.
        "mean": F.mean(axis=0, dtype=np.float64).astype(F.dtype),
        "max": F.max(axis=0),
        "gram": (F.T @ F)[rows, cols],
        "n_locations": np.int64(len(F)),
        "descriptors": F[order[:DESCRIPTORS_PER_IMAGE]],
    }


@dataclasses.dataclass(frozen=True)
class Request:
    """One result per image: the arrays ``names`` of ``what`` for ``layer``.

    ``what="stats"`` is the entry :func:`image_statistics` fills for every
    layer on a miss; any other result (VLAD codes) is made on a miss by
    ``compute(F)`` from one image's activations. ``head``, if set, keeps
    only that many leading rows of each array (VLAD takes a share of each
    image's descriptors, not all 256).
    """

    layer: str
    what: str
    names: tuple
    compute: object = None
    head: int | None = None

    def pick(self, result):
        return {name: result[name][: self.head] if self.head else result[name] for name in self.names}


def stats_request(layer, names, head=None):
    """A request for cached statistics (see image_statistics) of ``layer``."""
    return Request(layer, "stats", tuple(names), head=head)


def fetch(acts, requests, *, keep=True):
    """Per-image results of ``requests`` for the images of ``acts``, via the cache.

    Images with any result missing go through the network once, for all the
    requests' layers and the transformer's ``cache_layers`` together; their
    statistics for every one of those layers are stored on the way.

    With ``keep=False`` nothing is returned, only computed and stored where
    missing (filling the cache without holding every result in memory).

    Returns
    -------
    list (one per request) of lists (one per image) of dicts of arrays
    """
    spec, disk = acts._spec, DiskCache(acts._spec.cache)
    fingerprints = [image_fingerprint(item) for item in acts._images]
    found = [[None] * len(acts) for _ in requests] if keep else None
    missing = []
    for i, fp in enumerate(fingerprints):
        hit = True
        for r, request in enumerate(requests):
            key = entry_key(fp, spec, request.layer, request.what)
            if not keep:
                hit = hit and disk.has(key)
                continue
            result = disk.load(key, request.names)
            found[r][i] = None if result is None else request.pick(result)
            hit = hit and result is not None
        if not hit:
            missing.append(i)
    if missing:
        _compute_missing(acts, requests, fingerprints, missing, found, disk)
    return found


def _compute_missing(acts, requests, fingerprints, missing, found, disk):
    spec = acts._spec
    layers = set(spec.cache_layers) | {request.layer for request in requests}
    layers = tuple(sorted(layers, key=_layers.layer_order))
    subset = type(acts)([acts._images[i] for i in missing], dataclasses.replace(spec, layers=layers))
    position = iter(missing)
    for outputs in subset._iter_layer_batches():
        batch_size = len(next(iter(outputs.values())))
        for j in range(batch_size):
            i = next(position)
            fp = fingerprints[i]
            stats = {}
            for layer in layers:
                stats[layer] = image_statistics(outputs[layer][j], fp)
                disk.store(entry_key(fp, spec, layer, "stats"), stats[layer])
            for r, request in enumerate(requests):
                if request.what == "stats":
                    result = stats[request.layer]
                else:
                    result = request.compute(outputs[request.layer][j])
                    disk.store(entry_key(fp, spec, request.layer, request.what), result)
                if found is not None:
                    found[r][i] = request.pick(result)


def descriptors_per_image(max_descriptors, n_images):
    """How many cached descriptors of each image VLAD's dictionary sample takes."""
    return min(DESCRIPTORS_PER_IMAGE, max(1, math.ceil(max_descriptors / max(n_images, 1))))
