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
the weights by the SHA-256 of their content: :func:`load_model` refuses a
model whose weights differ from those this machine resolves for the same
source, since its features, and so its predictions, would be garbage.

Nothing here imports TensorFlow: a model opens without it, and the network
is built when the first image is transformed.
"""

import copy
import datetime
import json
import zipfile
from pathlib import Path

from .provenance import provenance

__all__ = ["CARD_MEMBER", "TRUSTED_TYPES", "load_model", "model_card", "read_card",
           "save_model"]

#: The zip member of a model file that holds its card (JSON).
CARD_MEMBER = "cnntexture-card.json"

#: The zip member holding the training features' statistics per class, which
#: ``predict --explain`` ranks filters with (JSON; absent for non-mean encoders).
STATS_MEMBER = "cnntexture-feature-stats.json"

#: Types a model file may hold beyond skops' defaults: the library's own
#: estimators and the scikit-learn internals its models are made of. Listed one
#: by one: a type is trusted because someone read it, not because of its module.
TRUSTED_TYPES = (
    "sklearn_cnntexture.vgg.VGGLayerTransformer",
    "sklearn_cnntexture.encoders.MeanPool",
    "sklearn_cnntexture.encoders.MaxPool",
    "sklearn_cnntexture.encoders.GramEncoder",
    "sklearn_cnntexture.encoders.VLADEncoder",
    "sklearn_cnntexture.union.MultiLayerUnion",
    "sklearn.tree._tree.Tree",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.model_selection._split.StratifiedGroupKFold",
)

_FORMAT = "sklearn-cnntexture model, version 1"


def model_card(model, X, y, *, cv_score=None, configuration=None):
    """The card of a fitted pipeline: what it predicts, from what, made how.

    Parameters
    ----------
    model : Pipeline
        Fitted, with a first step ``"vgg"`` (a :class:`VGGLayerTransformer`).
    X : list of str or images
        The training images (their count per class is recorded).
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
        ``configuration``, ``cv_score``, ``weights`` (source and SHA-256),
        ``preprocessing`` (every field the cache keys on: resize, crop,
        float scale, precision, pixel size), ``channels`` (1 gray, 3 colour,
        of the training images), ``versions`` and ``date``.
    """
    import numpy as np

    vgg = model.named_steps["vgg"]
    record = provenance(vgg)
    estimator = model.steps[-1][1]
    classes = getattr(estimator, "classes_", None)
    y = np.asarray(y)
    if classes is not None:
        counts = {str(c): int(np.sum(y == c)) for c in classes}
    else:
        counts = {"all": int(len(y))}
    return {
        "format": _FORMAT,
        "task": "classification" if classes is not None else "regression",
        "classes": None if classes is None else [str(c) for c in classes],
        "training_images": counts,
        "configuration": configuration,
        "cv_score": cv_score,
        "weights": {"source": record.pop("weights"), "sha256": record.pop("weights_sha256")},
        "versions": record.pop("versions"),
        "preprocessing": {key: list(value) if isinstance(value, tuple) else value
                          for key, value in record.items()},
        "channels": sorted({_channels(item) for item in X}),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _channels(item):
    import numpy as np

    from . import io

    if io.is_image_path(item):
        return io.image_channels(item)
    shape = np.shape(item)
    return 1 if len(shape) == 2 or shape[-1] == 1 else 3


def save_model(model, path, card, *, feature_stats=None):
    """Write a fitted pipeline and its card to one safe file (``skops.io``).

    The network's run options that belong to this machine (``cache``,
    ``verbose``) and the training images' own pixel sizes are not saved; the
    scale the model works at (``pixel_size``) is.

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

    from ._atomic import atomic_path

    model = copy.deepcopy(model)
    model.named_steps["vgg"].set_params(cache=None, cache_layers=None, verbose=False,
                                        image_pixel_size=None)
    path = Path(path)
    with atomic_path(path) as tmp:
        skops.io.dump(model, tmp)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(CARD_MEMBER, json.dumps(card, indent=1))
            if feature_stats is not None:
                archive.writestr(STATS_MEMBER, json.dumps(feature_stats))
    return path


def read_card(path):
    """The card of a model file, without loading its model.

    Raises
    ------
    ValueError
        If ``path`` is not a model file of this library.
    """
    return json.loads(_member(path, CARD_MEMBER))


def read_feature_stats(path):
    """The training feature statistics saved with a model, or None."""
    try:
        return json.loads(_member(path, STATS_MEMBER))
    except KeyError:
        return None


def _member(path, name):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: '{path}'")
    try:
        with zipfile.ZipFile(path) as archive:
            if name == CARD_MEMBER and name not in archive.namelist():
                raise ValueError(f"'{path}' is not a model file of sklearn-cnntexture "
                                 "(it has no model card): write one with cnntexture fit")
            return archive.read(name)
    except zipfile.BadZipFile:
        raise ValueError(f"'{path}' is not a model file of sklearn-cnntexture (not a skops "
                         "zip archive): write one with cnntexture fit") from None


def load_model(path, *, weights=None, check_weights=True):
    """Load a model file, refusing untrusted types and other weights.

    Parameters
    ----------
    path : str or path
        A file :func:`save_model` wrote.
    weights : str, path or None, default=None
        Use this weights source instead of the one the model names (a copy of
        its weights file elsewhere on this machine); None keeps the model's.
    check_weights : bool, default=True
        Refuse the model when the weights this machine resolves differ, by
        content, from those it was trained with.

    Returns
    -------
    model : Pipeline
        Fitted. Its ``"vgg"`` step has no cache and no image pixel sizes: set
        them with ``model.set_params(vgg__cache=..., vgg__image_pixel_size=...)``.

    Raises
    ------
    ValueError
        If the file holds a type outside :data:`TRUSTED_TYPES` and skops'
        defaults (the types are named), or was trained with other weights.
    """
    import skops.io

    card = read_card(path)
    untrusted = skops.io.get_untrusted_types(file=path)
    unknown = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unknown:
        raise ValueError(
            f"'{path}' holds types this library does not trust, so it is not loaded (they "
            f"could run code): {', '.join(unknown)}"
        )
    model = skops.io.load(path, trusted=list(untrusted))
    vgg = model.named_steps["vgg"]
    if weights is not None:
        vgg.set_params(weights=weights)
    if check_weights:
        _check_weights(vgg, card, path)
    return model


def _check_weights(vgg, card, path):
    trained = card["weights"]
    here = vgg.provenance()["weights_sha256"]
    if trained["sha256"] != here:
        raise ValueError(
            f"'{path}' was trained with weights {trained['source']} of sha256 "
            f"{str(trained['sha256'])[:16]}, but {vgg.weights} is {str(here)[:16]} on this "
            "machine: its features would not be the model's. Install the same weights "
            "(or pass their file as weights), or fit the model again here"
        )
