"""Forward passes spread over joblib workers: local processes or a Dask cluster.

The network is the expensive part; images are independent, so a set of images
is cut into chunks and each chunk goes to a worker, which builds the network
once (per process) and runs its images through it. Which workers: whatever
joblib backend is active. ``n_jobs=2`` runs two local processes; inside
``joblib.parallel_backend("dask")`` (after ``dask.distributed.Client(...)``)
the chunks go to the Dask cluster's workers, on this machine or many.

Workers write to the shared, content-keyed cache folder, whose writes are
atomic, so they never see half an entry, and a chunk that fails leaves the
others' results in place: run again, and only what is missing is computed.
"""

import math

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone

from ._backbone import backbone_image_count

__all__ = ["chunks", "precompute", "transform"]


def chunks(n_items, n_jobs=None, chunk_size=None):
    """Slices cutting ``n_items`` into chunks for the workers.

    Parameters
    ----------
    n_items : int
    n_jobs : int or None
        Workers, as joblib counts them (None: the active backend's default).
    chunk_size : int or None
        Items per chunk; None gives each worker about four chunks, so that a
        slow worker delays the end by a quarter of its share at most.

    Returns
    -------
    list of slice
    """
    if chunk_size is None:
        chunk_size = max(1, math.ceil(n_items / (4 * effective_n_jobs(n_jobs))))
    return [slice(start, min(start + chunk_size, n_items))
            for start in range(0, n_items, chunk_size)]


def precompute(vgg, X, maps=(), *, n_jobs=None, chunk_size=None, verbose=False,
               description=None):
    """Fill ``vgg``'s cache for images ``X``, chunk by chunk, on joblib workers.

    Each worker calls ``vgg.transform(chunk).precompute(maps)`` (see
    :meth:`~sklearn_cnntexture.Activations.precompute`): the images of its
    chunk not cached yet go through the network once, for every layer of
    ``vgg.layers`` and ``vgg.cache_layers``.

    Parameters
    ----------
    vgg : VGGLayerTransformer
        With a ``cache``; the workers get a quiet copy (one progress bar here).
    X : list of images or image files
    maps : iterable of (str, str, callable)
        Per-image results to store as well, as for ``Activations.precompute``.
    n_jobs : int or None
        joblib workers; None is the active backend's default (1 outside a
        ``parallel_backend`` context).
    chunk_size : int or None
        Images per task; see :func:`chunks`.
    verbose : bool
        A progress bar over the images.
    description : str or None
        Its label.

    Returns
    -------
    n_forwarded : int
        Images that went through the network, counted where they did (in
        the workers), summed.
    """
    if vgg.cache is None:
        raise ValueError("precompute needs a cache: set VGGLayerTransformer(cache=folder)")
    X, maps = list(X), list(maps)
    if effective_n_jobs(n_jobs) == 1:  # this process: one pass, its bar batch by batch
        return _precompute_chunk(clone(vgg).set_params(verbose=verbose), X, maps, description)
    quiet = clone(vgg).set_params(verbose=False)
    parts = chunks(len(X), n_jobs, chunk_size)
    tasks = (delayed(_precompute_chunk)(quiet, X[part], maps) for part in parts)
    counts = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
    return sum(_progress(counts, parts, verbose, description or "VGG16 into the cache"))


def transform(estimator, X, *, n_jobs=None, chunk_size=None, verbose=False):
    """``estimator.transform(X)``, chunk by chunk on joblib workers, in order.

    For a fitted pipeline from images to features (a featurizer): each worker
    transforms a chunk of images, so the forward passes are spread over the
    workers; the features come back in the order of ``X``.

    Parameters
    ----------
    estimator : fitted transformer
        Picklable (the library's are: no Keras object in their state). Its
        progress bars, if any, show in the workers.
    X : list of images or image files
    n_jobs, chunk_size, verbose
        See :func:`precompute`.

    Returns
    -------
    features : ndarray of shape (n_images, n_features)
    n_forwarded : int
        Images that went through the network, summed over the workers.
    """
    X = list(X)
    parts = chunks(len(X), n_jobs, chunk_size)
    tasks = (delayed(_transform_chunk)(estimator, X[part]) for part in parts)
    results = list(_progress(Parallel(n_jobs=n_jobs, return_as="generator")(tasks), parts,
                             verbose, "features"))
    features = np.concatenate([np.asarray(out) for out, _ in results])
    return features, sum(count for _, count in results)


def _precompute_chunk(vgg, X, maps, description=None):
    before = backbone_image_count()
    vgg.transform(X).precompute(maps, description=description)
    return backbone_image_count() - before


def _transform_chunk(estimator, X):
    before = backbone_image_count()
    out = np.asarray(estimator.transform(X))
    return out, backbone_image_count() - before


def _progress(results, parts, verbose, description):
    """Yield ``results`` (one per part), advancing a bar by each part's images."""
    if not verbose:
        yield from results
        return
    from tqdm.auto import tqdm

    sizes = [part.stop - part.start for part in parts]
    with tqdm(total=sum(sizes), desc=description, unit="image") as bar:
        # Unordered results do not say which part they were: parts finish in
        # any order, so the bar moves by the mean part size, exact at the end.
        for done, result in enumerate(results, 1):
            bar.n = round(sum(sizes) * done / len(sizes))
            bar.refresh()
            yield result
