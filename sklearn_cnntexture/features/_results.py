"""Per-image results of the activations: read from the cache, else computed once and stored.

The encoders need little of each image's maps: the statistics of
``_stats.py`` (sums and maxima over locations, a descriptor sample) or a
function's sum over locations (VLAD codes). This module finds which images
lack a result, sends only those through the network, once for every layer
asked and every ``cache_layers`` layer, accumulates each statistic block by
block (a large image tile by tile, so no feature depends on the tiling) and
stores what it made. A study's grid of layers and encoders then costs one
forward pass per image.
"""

import dataclasses
import hashlib

from threadpoolctl import threadpool_limits

from . import _cache, _layers, _stats


@dataclasses.dataclass(frozen=True)
class Request:
    """One result per image: the arrays ``names`` of ``what`` for ``layer``.

    ``what="stats"`` is the entry of ``_stats`` statistics stored for every
    cached layer on a miss; any other result (VLAD codes) is made on a miss by
    ``function(F)`` from one image's (L, C) activations. ``head``, if set,
    keeps only that many leading rows of each array.
    """

    layer: str
    what: str
    names: tuple | None  # None: every array of the result
    function: object = None
    head: int | None = None

    def pick(self, result):
        if self.names is None:  # whatever the function made
            return result
        return {name: result[name][: self.head] if self.head else result[name]
                for name in self.names}


class Results:
    """The per-image results of some images, through the cache of their spec.

    Parameters
    ----------
    images : list
        File paths or arrays (their content keys the cache).
    pixel_sizes : list of float or None
        Each image's own pixel size, with a ``pixel_size`` preprocessing.
    spec : _forward.ForwardSpec
    forward : callable
        ``forward(indices, layers)``: a ``_forward.Forward`` over those images
        for those layers.
    """

    def __init__(self, images, pixel_sizes, spec, forward):
        self._images = images
        self._pixel_sizes = pixel_sizes
        self._spec = spec
        self._forward = forward

    def fetch(self, requests, *, keep=True, description=None):
        """Per-image results of ``requests``, via the cache if there is one.

        Images with any result missing go through the network once, for all
        the requests' layers and ``cache_layers`` together; their statistics
        for every one of those layers are stored on the way. With
        ``keep=False`` nothing is read or returned, only what is missing
        computed and stored.

        Returns
        -------
        list (one per request) of lists (one per image) of dicts of arrays,
        or None with ``keep=False``.
        """
        n = len(self._images)
        store = self._store()
        found = [[None] * n for _ in requests] if keep else None
        needs_seeds = any("descriptors" in (r.names or ()) for r in requests)
        fingerprints = self._fingerprints() if store is not None or needs_seeds else None
        if store is None:
            self._compute(requests, fingerprints, range(n), found, None, description)
            return found
        forward_fp = self._spec.preprocessing.fingerprint()
        missing = []
        for i, fp in enumerate(fingerprints):
            hit = True
            for r, request in enumerate(requests):
                key = _cache.entry_key(fp, forward_fp, request.layer, request.what)
                if not keep:
                    hit = hit and store.has(key)
                    continue
                result = store.load(key, request.names)
                found[r][i] = None if result is None else request.pick(result)
                hit = hit and result is not None
            if not hit:
                missing.append(i)
        store.warn_damaged()
        if missing:
            self._compute(requests, fingerprints, missing, found, store, description)
        return found

    def _fingerprints(self):
        fingerprints = [_cache.image_fingerprint(item) for item in self._images]
        if self._spec.preprocessing.pixel_size is None:
            return fingerprints
        # An image's own pixel size decides its activations as much as its pixels,
        # and it may come from outside the file (a CSV column, a per-data-set
        # value): it is part of the image's key, so another value is another entry.
        return [hashlib.sha256(f"{fp}|pixel_size={size!r}".encode()).hexdigest()
                for fp, size in zip(fingerprints, self._pixel_sizes)]

    def _store(self):
        cache = self._spec.cache
        if cache is None or isinstance(cache, _cache.MemoryStore):
            return cache
        return _cache.DiskCache(cache)

    def _compute(self, requests, fingerprints, missing, found, store, description):
        """Run the ``missing`` images through the network and make the requests' results."""
        spec = self._spec
        stats_requests = [r for r in requests if r.what == "stats"]
        map_requests = [r for r in requests if r.what != "stats"]
        layers = {r.layer for r in requests}
        if store is None:
            stats_layers = {r.layer for r in stats_requests}
        else:
            layers |= set(spec.cache_layers)
            stats_layers = layers
        layers = tuple(sorted(layers, key=_layers.layer_order))
        if getattr(store, "keeps_everything", False):
            # A folder serves later requests too: every statistic, every row.
            names, head = _stats.STATISTICS, None
        else:
            # In memory, or nowhere: only what was asked (every layer is asked
            # the same by a union), descriptors cut to the share asked.
            names = tuple(dict.fromkeys(n for r in stats_requests for n in r.names))
            heads = {r.head for r in stats_requests}
            head = None if None in heads or not heads else max(heads)
        forward_fp = spec.preprocessing.fingerprint() if store is not None else None
        images = self._forward(missing, layers).images(description)
        # BLAS on one thread: the statistics (Gram's F^T F) run between forward
        # passes, and OpenBLAS's workers busy-wait after each call, taking the
        # cores from the network's next pass. Measured on 2 cores, the five
        # paper layers' statistics of a 645 x 475 image took 0.7-1.5 s between
        # passes on 2 threads, 0.17-0.27 s on one. TensorFlow's threads are
        # not BLAS's: the network keeps every core.
        with threadpool_limits(limits=1, user_api="blas"):
            for i, (sizes, parts) in zip(missing, images, strict=True):
                seed = _seed(fingerprints[i]) if "descriptors" in names else None
                accumulators = {layer: _stats.Accumulator(names, sizes[layer], seed=seed)
                                for layer in stats_layers}
                sums = _accumulate(parts, accumulators, map_requests)
                results = {}
                for layer, accumulator in accumulators.items():
                    stats = accumulator.result()
                    if head is not None and "descriptors" in stats:
                        stats["descriptors"] = stats["descriptors"][:head]
                    results[layer, "stats"] = stats
                    if store is not None:
                        # Local descriptors are sparse (ReLU): deflated, a third of the size.
                        key = _cache.entry_key(fingerprints[i], forward_fp, layer, "stats")
                        store.store(key, stats, compressed=("descriptors",))
                for request, result in zip(map_requests, sums, strict=True):
                    results[request.layer, request.what] = result
                    if store is not None:
                        key = _cache.entry_key(fingerprints[i], forward_fp, request.layer,
                                               request.what)
                        store.store(key, result)
                if found is not None:
                    for r, request in enumerate(requests):
                        found[r][i] = request.pick(results[request.layer, request.what])


def _accumulate(parts, accumulators, map_requests):
    """Add an image's blocks to its statistics; return its ``map_requests``' sums."""
    sums = [None] * len(map_requests)
    for blocks in parts:
        for layer, accumulator in accumulators.items():
            block, offset = blocks[layer]
            accumulator.add(block, *offset)
        for m, request in enumerate(map_requests):
            block = blocks[request.layer][0]
            if block.size == 0:
                continue
            part = request.function(block.reshape(-1, block.shape[-1]))
            sums[m] = part if sums[m] is None else {
                name: sums[m][name] + value for name, value in part.items()}
    return sums


def _seed(fingerprint):
    """The seed of an image's descriptor sample: fixed by its content."""
    return int(fingerprint[:16], 16)
