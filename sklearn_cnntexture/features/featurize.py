"""Features of a set of images as a table: for ``cnntexture featurize`` and other tools."""

import json
import os
import shutil
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from .. import io
from ..exceptions import InputError
from ..io import records
from . import parallel
from .columns import WithColumns
from .encoders import ENCODERS, VLADEncoder
from .provenance import provenance
from .union import MultiLayerUnion
from .vgg import VGGLayerTransformer

__all__ = [
    "check_replaceable_parts", "featurize", "featurize_to_parquet", "make_featurizer",
    "write_table",
]


@validate_params(
    {
        "vgg": [HasMethods(["fit", "transform"]), None],
        "encoder": [StrOptions(set(ENCODERS)), HasMethods(["fit", "transform"]), None],
        "layers": [str, list, tuple, None],
        "vlad_resize": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "random_state": ["random_state"],
        "columns": [list, tuple, None],
        "missing": [StrOptions({"error", "impute"})],
    },
    prefer_skip_nested_validation=True,
)
def make_featurizer(vgg=None, encoder="mean", *, layers=None, vlad_resize=None,
                    random_state=None, columns=None, missing="error"):
    """A pipeline from images to features: VGG16 layer(s), then an encoder.

    The one place such a pipeline is built: :func:`featurize`, the study's
    grid (:func:`~sklearn_cnntexture.study.make_study`), ``fit``'s pipeline
    (:func:`~sklearn_cnntexture.model.predict.configuration_pipeline`) and
    :func:`~sklearn_cnntexture.explain.explain_model` all start with it.

    Parameters
    ----------
    vgg : VGGLayerTransformer or None, default=None
        The network step (cloned). Its ``layers`` (or ``layers``) decide the
        encoding: one layer is encoded as is; several are each encoded and
        the features concatenated (:class:`MultiLayerUnion`). None is
        ``VGGLayerTransformer()`` (block4_conv3).
    encoder : {"mean", "max", "gram", "vlad"}, encoder or None, default="mean"
        The encoding, by name (default parameters) or as an estimator (cloned
        by the pipeline's users, never changed here); None, with ``columns``,
        for the columns alone (the network step is then never run).
    layers : str, list of str or None, default=None
        The layer(s) to encode, replacing ``vgg.layers`` (and its
        ``cache_layers``, which named the other layers' statistics); None
        keeps ``vgg``'s.
    vlad_resize : int, (height, width) or None, default=None
        The network's input size when the encoder is VLAD, as the study runs
        it (its ``vlad_resize``); ignored for the other encoders. None keeps
        ``vgg.resize``.
    random_state : int, RandomState instance or None, default=None
        Seeds an encoder given by name that has a seed (VLAD's descriptor
        sample and k-means); None keeps its default.
    columns : list of str or None, default=None
        Columns of the data table to put beside the textures
        (:class:`~sklearn_cnntexture.features.WithColumns`; X then is a
        table of images); None or empty: the textures alone.
    missing : {"error", "impute"}, default="error"
        What empty cells of ``columns`` do (see ``WithColumns``).

    Returns
    -------
    pipeline : Pipeline
        Steps ``"vgg"`` and ``"encode"``.

    Examples
    --------
    >>> from sklearn_cnntexture import VGGLayerTransformer
    >>> from sklearn_cnntexture.features.featurize import make_featurizer
    >>> vgg = VGGLayerTransformer(["C1_2", "C2_2"], weights=None, random_state=0)
    >>> make_featurizer(vgg, "gram")
    Pipeline(steps=[('vgg',
                     VGGLayerTransformer(layers=['C1_2', 'C2_2'], random_state=0,
                                         weights=None)),
                    ('encode', MultiLayerUnion(encoder=GramEncoder()))])
    >>> make_featurizer(vgg, "vlad", layers="C3_3", vlad_resize=255, random_state=0)[0]
    VGGLayerTransformer(layers='C3_3', random_state=0, resize=255, weights=None)
    """
    if encoder is None and not columns:
        raise InputError("make_featurizer needs an encoder, or columns to use alone")
    if isinstance(encoder, str):
        encoder = ENCODERS[encoder]()
        if random_state is not None and "random_state" in encoder.get_params():
            encoder.set_params(random_state=random_state)
    vgg = VGGLayerTransformer() if vgg is None else clone(vgg)
    if layers is not None:
        vgg.set_params(layers=layers, cache_layers=None)
    if vlad_resize is not None and isinstance(encoder, VLADEncoder):
        vgg.set_params(resize=vlad_resize)
    if not isinstance(vgg.layers, str) and len(vgg.layers) == 1:
        vgg.set_params(layers=vgg.layers[0])  # one layer: the encoder takes it directly
    step = encoder if isinstance(vgg.layers, str) or encoder is None else MultiLayerUnion(
        encoder)
    if columns:
        step = WithColumns(step, columns=list(columns), missing=missing)
    return Pipeline([("vgg", vgg), ("encode", step)])


#: featurize's and featurize_to_parquet's shared arguments.
_WORKERS = {
    "vgg": [HasMethods(["fit", "transform"]), None],
    "encoder": [StrOptions(set(ENCODERS)), HasMethods(["fit", "transform"])],
    "n_jobs": [Integral, None],
    "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
    "verbose": ["boolean"],
}


@validate_params({"X": ["array-like"], **_WORKERS}, prefer_skip_nested_validation=True)
def featurize(X, vgg=None, encoder="mean", *, n_jobs=None, chunk_size=None, verbose=False):
    """Features of images ``X`` as a DataFrame with named columns.

    Parameters
    ----------
    X : list of str or images
        Image file paths (streamed batch by batch) or arrays.
    vgg, encoder
        See :func:`make_featurizer`. A learning encoder (VLAD) is fitted on
        ``X`` itself.
    n_jobs : int or None, default=None
        joblib workers for the forward passes (:mod:`sklearn_cnntexture.features.parallel`):
        local processes, or a Dask cluster inside ``joblib.parallel_backend("dask")``.
        None: the active backend's default (this process alone outside one).
    chunk_size : int or None, default=None
        Images per worker task; None gives each worker about four.
    verbose : bool, default=False
        A progress bar over the chunks.

    Returns
    -------
    table : pandas.DataFrame
        Column ``path`` (the file path, or the image's index for arrays),
        then one column per feature, named ``block3_conv3__mean__17`` etc.
        ``table.attrs["provenance"]`` records the weights (with a digest of
        their content), the preprocessing and library versions
        (:func:`~sklearn_cnntexture.features.provenance.provenance`).
    """
    X = records.as_rows(X)
    pipeline = _fitted_featurizer(X, vgg, encoder, n_jobs, chunk_size, verbose)
    features, _ = parallel.transform(pipeline, X, n_jobs=n_jobs, chunk_size=chunk_size,
                                     verbose=verbose)
    return _table(pipeline, features, X, range(len(X)))


@validate_params(
    {"X": ["array-like"], "folder": [str, os.PathLike], "columns": [dict, None], **_WORKERS},
    prefer_skip_nested_validation=True,
)
def featurize_to_parquet(X, folder, vgg=None, encoder="mean", *, columns=None, n_jobs=None,
                         chunk_size=None, verbose=False):
    """Features of images ``X`` as a partitioned Parquet data set: one file per chunk.

    Each worker encodes its chunk of images and writes it, so no process ever
    holds all the rows: 100,000 micrographs are as easy as 100. The folder
    reads back with ``pandas.read_parquet(folder)``, ``dask.dataframe``
    or Spark; ``_provenance.json`` beside the parts (ignored by those readers,
    as its name starts with an underscore) says how the features were made.

    Parameters
    ----------
    X : list of str or images
    folder : str or path
        Created. An existing folder of parts this function wrote is replaced,
        once the new parts are all written; a folder holding anything else is
        refused (:func:`check_replaceable_parts`).
    vgg, encoder, n_jobs, chunk_size, verbose
        See :func:`featurize`.
    columns : dict of str to array-like, optional
        More columns, one value per image (labels, groups), put after ``path``.

    Returns
    -------
    parts : list of pathlib.Path
        The Parquet files, in the order of ``X``.
    """
    from pathlib import Path

    from .._atomic import write_text

    X, folder = records.as_rows(X), Path(folder)
    check_replaceable_parts(folder)
    pipeline = _fitted_featurizer(X, vgg, encoder, n_jobs, chunk_size, verbose)
    columns = {name: list(values) for name, values in (columns or {}).items()}
    parts = parallel.chunks(len(X), n_jobs, chunk_size)
    # The parts go to a hidden folder beside, which replaces the old one only once
    # whole: a failed rerun leaves the previous data set as it was.
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)  # what an earlier killed run left
    partial.mkdir(parents=True)
    tasks = (
        delayed(_write_part)(pipeline, records.take(X, part), range(part.start, part.stop),
                             {name: values[part] for name, values in columns.items()},
                             partial / _part_name(k))
        for k, part in enumerate(parts)
    )
    names = [path.name for path in Parallel(n_jobs=n_jobs)(tasks)]
    record = json.dumps(provenance(pipeline.named_steps["vgg"]), indent=1, default=str)
    write_text(partial / _PROVENANCE, record + "\n")
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        partial.rename(folder)
        shutil.rmtree(old)
    else:
        partial.rename(folder)
    return [folder / name for name in names]


#: The provenance file beside the Parquet parts (ignored by Parquet readers).
_PROVENANCE = "_provenance.json"


def _part_name(k):
    return f"part-{k:05d}.parquet"


@validate_params({"folder": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def check_replaceable_parts(folder):
    """Refuse a folder the Parquet parts would replace if it holds anything else.

    A folder of parts that :func:`featurize_to_parquet` wrote (``part-NNNNN.parquet``
    and ``_provenance.json``, nothing else) is replaced by a rerun; any other
    content is the user's and is never deleted.

    Raises
    ------
    ValueError
        Naming the folder and the first few files that are not parts.
    """
    import re
    from pathlib import Path

    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InputError(f"'{folder}' is an existing file, not a folder of Parquet parts")
    foreign = sorted(p.name for p in folder.iterdir()
                     if p.name != _PROVENANCE and not re.fullmatch(r"part-\d{5}\.parquet", p.name))
    if foreign:
        raise InputError(f"'{folder}' holds files that are not Parquet parts of this tool "
                         f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}): "
                         "it is not replaced; choose another --out")


def _fitted_featurizer(X, vgg, encoder, n_jobs, chunk_size, verbose):
    """The featurizer, fitted; with a cache, filled by the workers first."""
    pipeline = make_featurizer(vgg, encoder)
    network = pipeline.named_steps["vgg"]
    if network.cache is not None:
        # Workers fill the cache; fitting and encoding then read it.
        parallel.precompute(network, X, n_jobs=n_jobs, chunk_size=chunk_size, verbose=verbose)
    return pipeline.fit(X)  # learns only for VLAD: one pass over X, or the cache


def _table(pipeline, features, X, indices):
    names = pipeline.get_feature_names_out()
    paths = [str(x) if io.is_image_path(x) else i
             for i, x in zip(indices, records.images_of(X))]
    table = pd.DataFrame(np.asarray(features), columns=names)
    table.insert(0, "path", paths)
    table.attrs["provenance"] = provenance(pipeline.named_steps["vgg"])
    return table


def _write_part(pipeline, X, indices, columns, path):
    from .._atomic import atomic_path

    table = _table(pipeline, pipeline.transform(X), X, indices)
    for k, (name, values) in enumerate(columns.items(), 1):
        table.insert(k, name, values)
    table.attrs = {}  # provenance is written once, beside the parts
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
    return path


@validate_params({"table": [HasMethods(["to_csv", "to_parquet"])], "path": [str, os.PathLike]},
                 prefer_skip_nested_validation=True)
def write_table(table, path):
    """Write a features table as CSV or Parquet (by the suffix), and its provenance beside.

    Each file is written whole or not at all: ``path`` and ``path.json``, the
    provenance of :func:`featurize`'s table (weights, preprocessing, versions).

    Returns
    -------
    paths : list of pathlib.Path
        The table, then its provenance.
    """
    from pathlib import Path

    from .._atomic import atomic_path, write_text

    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    record = json.dumps(table.attrs.get("provenance", {}), indent=1, default=str) + "\n"
    return [path, Path(write_text(path.with_name(path.name + ".json"), record))]
