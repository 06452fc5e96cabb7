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
    Up to :data:`DESCRIPTORS_PER_IMAGE` local descriptors in a fixed random
    order seeded by the image (VLAD's dictionary samples from them). Needs a
    seed per image.
"""

import numpy as np

#: Every statistic there is, in the order they are stored.
STATISTICS = ("mean", "max", "gram", "n_locations", "descriptors")

#: Local descriptors kept per image for VLAD's dictionary.
DESCRIPTORS_PER_IMAGE = 256


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
            raise ValueError(f"unknown statistic {name!r}; expected one of {STATISTICS}")
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
    order = np.random.default_rng(seed).permutation(len(F))
    return F[order[:DESCRIPTORS_PER_IMAGE]]


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
