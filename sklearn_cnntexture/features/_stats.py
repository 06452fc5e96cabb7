"""Per-image statistics of local descriptors: the one copy of the encoders' maths.

Mean, max and Gram features are sums or maxima over an image's locations, so
each is a function of a small per-image statistic. This module computes those
statistics from activations and derives the features from them. The encoders
use it on arrays, and the lazy activations use it to fill and read their cache,
so cached and uncached features come from the same arithmetic.

Statistics, for a batch ``F`` of shape (b, L, C) (b images, L locations, C
channels), each with one row per image:

``mean``
    Mean over locations, accumulated in float64, in F's dtype.
``max``
    Maximum over locations.
``gram``
    Upper triangle (``numpy.triu_indices`` order) of ``F^T F``, not
    normalized: :func:`gram_features` derives every ``normalize`` and
    ``triangle`` variant from it.
``n_locations``
    L, as int64.
``descriptors``
    Up to :data:`DESCRIPTORS_PER_IMAGE` local descriptors at locations drawn
    without replacement, in the order drawn, seeded by the image (VLAD's
    dictionary samples from them). Needs a seed per image.

:class:`Accumulator` gives the same statistics of one image from blocks of
its map, so a large image can be computed tile by tile (``_tiling.py``).
"""

import functools

import numpy as np

from ..exceptions import InputError

#: Every statistic there is, in the order they are stored.
STATISTICS = ("mean", "max", "gram", "n_locations", "descriptors")

#: Local descriptors kept per image for VLAD's dictionary.
DESCRIPTORS_PER_IMAGE = 256

#: Locations folded into one row when reducing over locations: numpy reduces the
#: rows of an (L, C) array one at a time, and at block1 (C = 64) that per-row
#: overhead outweighs the arithmetic. Folded to (L / 64, 64 C), a 645 x 475
#: image's maxima over its five paper layers took 9 ms instead of 22, its
#: float64 sums 17 instead of 22 (same values: a maximum is exact in any
#: order, and float64 sums of float32 round to the same float32).
_FOLD = 64


def compute(F, names, *, seeds=None):
    """The statistics ``names`` of a batch of local descriptors.

    Parameters
    ----------
    F : ndarray of shape (b, L, C)
        Float local descriptors of b images, L locations each.
    names : iterable of str
        Among :data:`STATISTICS`.
    seeds : sequence of int, optional
        One per image; needed for ``"descriptors"`` only.

    Returns
    -------
    stats : dict of str to ndarray or list
        An array with one row per image for each name; a list of arrays for
        ``"descriptors"``.
    """
    out = {}
    for name in names:
        if name == "mean":
            # Accumulate in float64: summing 262144 float32 locations (one
            # 512 x 512 block1 map) one after another would lose about 0.3 %.
            values = F.mean(axis=1, dtype=np.float64).astype(F.dtype)
        elif name == "max":
            values = F.max(axis=1)
        elif name == "gram":
            rows, cols = np.triu_indices(F.shape[2])
            values = np.matmul(F.transpose(0, 2, 1), F)[:, rows, cols]
        elif name == "n_locations":
            values = np.full(len(F), F.shape[1], dtype=np.int64)
        elif name == "descriptors":
            values = [_descriptor_sample(f, seed) for f, seed in zip(F, seeds, strict=True)]
        else:
            raise InputError(f"unknown statistic {name!r}; expected one of {STATISTICS}")
        out[name] = values
    return out


def as_groups(batch, *, per_sample=False):
    """Split one batch into (b, L, C) arrays of equally many locations.

    ``batch`` is an array (b, *locations, C) or a list of (*locations, C)
    arrays; a list (or ``per_sample``) gives one group per sample.
    """
    if isinstance(batch, np.ndarray) and not per_sample:
        yield batch.reshape(batch.shape[0], -1, batch.shape[-1])
    else:
        for sample in batch:
            yield sample.reshape(1, -1, sample.shape[-1])


def _descriptor_sample(F, seed):
    return F[descriptor_locations(len(F), seed)]


def descriptor_locations(n_locations, seed):
    """The locations (row-major indices) of an image's descriptor sample, in order.

    Drawn without replacement (Floyd's algorithm for large maps), so memory is
    the sample's, not the map's: a 15000 x 15000 block1 map has 225 million
    locations.
    """
    rng = np.random.default_rng(seed)
    return rng.choice(n_locations, min(DESCRIPTORS_PER_IMAGE, n_locations), replace=False)


class Accumulator:
    """Statistics of one image's (height, width, C) map from blocks of it.

    Add blocks that together cover the map once (tiles' cores, or the whole
    map as one block); :meth:`result` then equals :func:`compute` on the whole
    map up to float rounding (sums are accumulated in float64) and exactly for
    ``max``, ``n_locations`` and ``descriptors``.

    Parameters
    ----------
    names : iterable of str
        Among :data:`STATISTICS`.
    map_size : (int, int)
        The whole map's (height, width).
    seed : int, optional
        The image's seed; needed for ``"descriptors"`` only.
    """

    def __init__(self, names, map_size, *, seed=None):
        self.names = tuple(names)
        unknown = set(self.names) - set(STATISTICS)
        if unknown:
            raise InputError(f"unknown statistic {unknown.pop()!r}; expected one of {STATISTICS}")
        self.map_size = tuple(map_size)
        self._count = 0
        self._sum = self._max = self._gram = self._descriptors = None
        if "descriptors" in self.names:
            where = descriptor_locations(self.map_size[0] * self.map_size[1], seed)
            self._rows, self._cols = np.divmod(where, self.map_size[1])

    def add(self, block, top=0, left=0):
        """Add the (h, w, C) block of the map whose first location is (top, left)."""
        height, width, channels = block.shape
        if height * width == 0:
            return
        F = block.reshape(-1, channels)
        self._count += len(F)
        if "mean" in self.names:
            part = _over_locations(np.add, F, dtype=np.float64)
            self._sum = part if self._sum is None else self._sum + part
        if "max" in self.names:
            part = _over_locations(np.maximum, F)
            self._max = part if self._max is None else np.maximum(self._max, part)
        if "gram" in self.names:
            # float32 BLAS within a block (one thread: see _results), float64 across blocks.
            rows, cols = _upper_triangle(channels)
            part = (F.T @ F)[rows, cols].astype(np.float64)
            self._gram = part if self._gram is None else self._gram + part
        if "descriptors" in self.names:
            if self._descriptors is None:
                self._descriptors = np.zeros((len(self._rows), channels), dtype=F.dtype)
            inside = ((self._rows >= top) & (self._rows < top + height)
                      & (self._cols >= left) & (self._cols < left + width))
            self._descriptors[inside] = block[self._rows[inside] - top,
                                              self._cols[inside] - left]
        self._dtype = F.dtype

    def result(self):
        """The statistics of the whole map: a dict from name to one image's array."""
        expected = self.map_size[0] * self.map_size[1]
        if self._count != expected:
            raise InputError(
                f"the blocks added cover {self._count} locations of a map of {expected}"
            )
        out = {}
        for name in self.names:
            if name == "mean":
                out[name] = (self._sum / self._count).astype(self._dtype)
            elif name == "max":
                out[name] = self._max
            elif name == "gram":
                out[name] = self._gram.astype(self._dtype)
            elif name == "n_locations":
                out[name] = np.int64(self._count)
            else:
                out[name] = self._descriptors
        return out


def _over_locations(ufunc, F, dtype=None):
    """``ufunc.reduce(F, axis=0)`` of a C-contiguous (L, C) array, its rows folded."""
    n_locations, n_channels = F.shape
    whole = n_locations - n_locations % _FOLD
    if whole == 0:
        return ufunc.reduce(F, axis=0, dtype=dtype)
    folded = ufunc.reduce(F[:whole].reshape(-1, _FOLD * n_channels), axis=0, dtype=dtype)
    out = ufunc.reduce(folded.reshape(_FOLD, n_channels), axis=0)
    if whole < n_locations:
        out = ufunc(out, ufunc.reduce(F[whole:], axis=0, dtype=dtype))
    return out


@functools.lru_cache(maxsize=16)
def _upper_triangle(n_channels):
    """``numpy.triu_indices(n_channels)``, made once per channel count (read-only)."""
    indices = np.triu_indices(n_channels)
    for index in indices:
        index.flags.writeable = False
    return indices


def gram_features(upper, n_locations, n_channels, *, normalize, triangle):
    """Gram features from the statistics: (b, C(C+1)/2) or (b, C*C).

    Parameters
    ----------
    upper : ndarray of shape (b, C(C+1)/2)
        The ``gram`` statistic of b images.
    n_locations : ndarray of shape (b,)
        Their ``n_locations``.
    n_channels : int
        C.
    normalize : bool
        Divide by the number of locations.
    triangle : {"upper", "full"}
        The upper triangle, or all C x C entries (the mirror image below the
        diagonal).
    """
    upper = np.array(upper)  # a copy: the division below is in place
    if normalize:
        upper /= np.asarray(n_locations, dtype=upper.dtype)[:, None]
    if triangle == "upper":
        return upper
    rows, cols = np.triu_indices(n_channels)
    full = np.empty((len(upper), n_channels, n_channels), dtype=upper.dtype)
    full[:, rows, cols] = upper
    full[:, cols, rows] = upper
    return full.reshape(len(upper), n_channels * n_channels)


def descriptors_per_image(max_descriptors, n_images):
    """How many stored descriptors of each image a sample of ``max_descriptors`` takes."""
    share = -(-max_descriptors // max(n_images, 1))  # ceiling division
    return min(DESCRIPTORS_PER_IMAGE, max(1, share))
