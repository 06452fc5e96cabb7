"""Forward passes spread over joblib workers: local processes or a Dask cluster.

The network is the expensive part; images are independent, so a set of images
is cut into chunks and each chunk goes to a worker, which builds the network
once (per process) and runs its images through it. Which workers: whatever
joblib backend is active. ``n_jobs=2`` runs two local processes; inside
``joblib.parallel_backend("dask")`` (after ``dask.distributed.Client(...)``)
the chunks go to the Dask cluster's workers, on this machine or many;
:func:`dask_client` connects to a scheduler and makes that backend active,
saying in one line what it found at an address that is not a scheduler.

Workers write to the shared, content-keyed cache folder, whose writes are
atomic, so they never see half an entry, and a chunk that fails leaves the
others' results in place: run again, and only what is missing is computed.
"""

import asyncio
import concurrent.futures
import contextlib
import math
import socket
import time
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from ..exceptions import InputError
from ..io import records
from ._backbone import backbone_image_count
from .vgg import VGGLayerTransformer

__all__ = ["chunks", "dask_client", "precompute", "transform"]

# joblib's n_jobs (negative counts from the number of CPUs) and images per task.
_N_JOBS = [Integral, None]
_CHUNK_SIZE = [Interval(Integral, 1, None, closed="left"), None]


@validate_params(
    {"n_items": [Interval(Integral, 0, None, closed="left")], "n_jobs": _N_JOBS,
     "chunk_size": _CHUNK_SIZE},
    prefer_skip_nested_validation=True,
)
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


@validate_params(
    {
        "vgg": [VGGLayerTransformer],
        "X": ["array-like"],
        "maps": ["array-like"],
        "n_jobs": _N_JOBS,
        "chunk_size": _CHUNK_SIZE,
        "verbose": ["boolean"],
        "description": [str, None],
    },
    # vgg is the caller's estimator, not validated yet: its own checks run inside.
    prefer_skip_nested_validation=False,
)
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
        raise InputError("precompute needs a cache: set VGGLayerTransformer(cache=folder)")
    X, maps = records.as_rows(X), list(maps)
    if effective_n_jobs(n_jobs) == 1:  # this process: one pass, its bar batch by batch
        return _precompute_chunk(clone(vgg).set_params(verbose=verbose), X, maps, description)
    quiet = clone(vgg).set_params(verbose=False)
    parts = chunks(len(X), n_jobs, chunk_size)
    tasks = (delayed(_precompute_chunk)(quiet, records.take(X, part), maps) for part in parts)
    counts = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
    return sum(_progress(counts, parts, verbose, description or "VGG16 into the cache"))


@validate_params(
    {
        "estimator": [HasMethods(["transform"])],
        "X": ["array-like"],
        "n_jobs": _N_JOBS,
        "chunk_size": _CHUNK_SIZE,
        "verbose": ["boolean"],
    },
    # The caller's estimator, not validated yet: its own checks run inside.
    prefer_skip_nested_validation=False,
)
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
    X = records.as_rows(X)
    parts = chunks(len(X), n_jobs, chunk_size)
    tasks = (delayed(_transform_chunk)(estimator, records.take(X, part)) for part in parts)
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


@validate_params(
    {"address": [str], "timeout": [Interval(Real, 0, None, closed="neither")], "name": [str]},
    prefer_skip_nested_validation=True,
)
@contextlib.contextmanager
def dask_client(address, *, timeout=5.0, name="Dask scheduler"):
    """Connect to the Dask scheduler at ``address``, with joblib's dask backend active.

    Within the ``with`` block, :func:`precompute`, :func:`transform` and
    every joblib ``Parallel`` send their tasks to the cluster's workers; at
    its end the client disconnects (the cluster stays).

    Before the client is made, the address is checked in two steps, so that
    an address that is not a scheduler fails in one line and in bounded time
    (``dask.distributed.Client`` alone retries a closed port until its
    timeout, waits forever on a peer that accepts and stays silent, an HTTP
    server for one, and on a peer that sends a banner reads its bytes as a
    frame length and fails allocating exabytes):

    1. a plain TCP connection, so that a closed port is refused at once;
    2. Dask's handshake and an ``identity`` request, bounded from outside
       (the handshake itself has no timeout), answered by a scheduler only.

    Parameters
    ----------
    address : str
        The scheduler's address, ``tcp://host:8786`` or ``host:8786``
        (other Dask schemes, such as ``tls://``, are checked by step 2 only).
    timeout : float
        Seconds for the two checks together, and again for the client to
        connect once the checks passed; an address that is not a scheduler
        fails within about ``timeout`` seconds.
    name : str
        What the messages call the address (the command line passes
        ``"--scheduler"``).

    Yields
    ------
    client : dask.distributed.Client

    Raises
    ------
    ValueError
        One line naming the address and what was found: Dask not installed,
        a malformed address, a host that does not resolve, nothing listening,
        no answer within ``timeout``, something that answers but is not a
        Dask scheduler (a Dask worker, say), or a client that fails to connect.

    Examples
    --------
    >>> from sklearn_cnntexture.features import parallel
    >>> with parallel.dask_client("tcp://scheduler:8786") as client:  # doctest: +SKIP
    ...     features, n = parallel.transform(featurizer, images)
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError(f"{name} {address}: needs Dask: pip install "
                         "'sklearn-cnntexture[dask]'") from None
    import joblib

    deadline = time.monotonic() + timeout
    _check_scheduler(address, timeout, name, deadline)
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:  # the checks passed: a race, or TLS settings
        raise InputError(f"{name} {address}: the Dask scheduler answered, but the client "
                         f"failed to connect ({type(exc).__name__}: {exc})") from None
    with client, joblib.parallel_backend("dask"):
        yield client


def _check_scheduler(address, timeout, name, deadline):
    """Raise a one-line ValueError unless a Dask scheduler answers at ``address``."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    try:
        scheme, location = parse_address(address)
        if scheme not in backends:
            raise InputError(f"unknown scheme {scheme!r}; Dask's: {', '.join(sorted(backends))}")
        host, port = parse_host_port(location) if scheme in ("tcp", "tls") else (None, None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name} {address}: not a Dask address such as tcp://host:8786 "
                         f"({exc})") from None
    if port is not None:
        try:
            # Step 1: refused at once where nothing listens (Client would retry
            # for its whole timeout), and a host that drops packets times out.
            socket.create_connection((host, port), timeout=timeout).close()
        except socket.gaierror as exc:
            raise InputError(f"{name} {address}: no such host {host!r} ({exc})") from None
        except TimeoutError:
            raise InputError(f"{name} {address}: no answer within {timeout:g} s "
                             "(nothing accepts the connection)") from None
        except ConnectionRefusedError:
            raise InputError(f"{name} {address}: nothing listens there "
                             "(connection refused); is the scheduler running?") from None
        except OSError as exc:
            raise InputError(f"{name} {address}: cannot connect ({exc})") from None
    # Step 2 in a loop of its own, in a thread of its own, so that it works
    # whether or not the caller runs an event loop (a notebook does).
    left = max(deadline - time.monotonic(), 0.1)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        identity = pool.submit(asyncio.run, _identity(address, left)).result()
    if isinstance(identity, TimeoutError):
        raise InputError(f"{name} {address}: something accepts connections there but gives "
                         f"no answer within {timeout:g} s: not a Dask scheduler") from None
    if isinstance(identity, Exception):
        # A banner's bytes read as a frame length ask for exabytes: say what it means.
        why = ("its first bytes are not a Dask message" if isinstance(identity, MemoryError)
               else f"{type(identity).__name__}: {str(identity)[:100]}")
        raise InputError(f"{name} {address}: something answers there but it is not a Dask "
                         f"scheduler ({why})") from None
    kind = identity.get("type") if isinstance(identity, dict) else None
    if not (isinstance(kind, str) and "Scheduler" in kind):
        what = f"a Dask {kind}" if isinstance(kind, str) else f"an answer {identity!r:.80}"
        raise InputError(f"{name} {address}: {what} answers there, not a Dask scheduler")


async def _identity(address, timeout):
    """The peer's answer to Dask's ``identity`` request, or the exception raised.

    Any exception is returned, not raised: a peer that is not Dask makes the
    handshake fail in many ways (a closed stream, bytes read as an absurd
    frame length and a MemoryError, a decoding error), all of them "not a
    scheduler". A timeout is returned as ``TimeoutError``.
    """
    from distributed.core import rpc
    from distributed.security import Security

    remote = rpc(address, timeout=timeout,
                 connection_args=Security().get_connection_args("client"))
    try:
        return await asyncio.wait_for(remote.identity(), timeout)
    except TimeoutError:
        return TimeoutError()
    except Exception as exc:  # noqa: BLE001 -- every failure means "not a scheduler"
        return exc
    finally:
        # Tell a scheduler we are done; a peer that is not one gets a second.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(remote.close_rpc(), 1)
