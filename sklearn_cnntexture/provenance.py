"""How an output was made: weights (source and content digest), preprocessing, versions.

Every summary the study, ``explain`` and ``featurize`` write carries these
lines, so a table or figure found later still says which network made it.
"""

from importlib import metadata

from . import weights as _weights_module

__all__ = ["provenance", "provenance_lines"]

_PACKAGES = ("sklearn-cnntexture", "tensorflow", "scikit-learn", "numpy")


def provenance(vgg):
    """What decides a :class:`VGGLayerTransformer`'s activations, and the library versions.

    Uses ``vgg.provenance()`` where the transformer offers it (the one home
    of this knowledge); this module's own reading is the stand-in until then.

    Parameters
    ----------
    vgg : VGGLayerTransformer

    Returns
    -------
    record : dict
        ``weights`` (the source as given), ``weights_sha256`` (digest of the
        weights file's content; None for random weights), ``crop``,
        ``resize``, ``float_scale`` and ``versions`` (package -> version).
    """
    if hasattr(vgg, "provenance"):
        return vgg.provenance()
    key = _weights_module.resolve_weights(vgg.weights, vgg.random_state)
    return {
        "weights": _weights_label(vgg),
        "weights_sha256": _weights_digest(key),
        "crop": vgg.crop,
        "resize": vgg.resize,
        "float_scale": vgg.float_scale,
        "versions": {name: _version(name) for name in _PACKAGES},
    }


def _weights_label(vgg):
    if vgg.weights is None:
        return f"random (seed {vgg.random_state})"
    return str(vgg.weights)


def _weights_digest(key):
    if key[0] == "random":
        return None
    return _weights_module.weights_fingerprint(key)


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance_lines(record):
    """Markdown bullet lines of a :func:`provenance` record, for a summary."""
    digest = record.get("weights_sha256")
    weights = record["weights"] + (f" (sha256 {digest[:16]}…)" if digest else "")
    versions = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
    return [
        f"- Weights: {weights}.",
        f"- Crop: {record['crop']}; resize: {record['resize'] or 'none (native size)'}; "
        f"float scale: {record['float_scale']}.",
        f"- Versions: {versions}.",
    ]
