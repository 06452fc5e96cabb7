"""How an output was made: weights (source and content digest), preprocessing, versions.

Every summary the study, ``explain`` and ``featurize`` write carries these
lines, so a table or figure found later still says which network made it.
"""

from importlib import metadata

from sklearn.utils._param_validation import HasMethods, validate_params

__all__ = ["provenance", "provenance_lines"]

_PACKAGES = ("sklearn-cnntexture", "tensorflow", "scikit-learn", "numpy")


@validate_params({"vgg": [HasMethods(["provenance"])]}, prefer_skip_nested_validation=True)
def provenance(vgg):
    """How a :class:`VGGLayerTransformer`'s features are made, and the library versions.

    Parameters
    ----------
    vgg : VGGLayerTransformer

    Returns
    -------
    record : dict
        :meth:`VGGLayerTransformer.provenance` (``weights``,
        ``weights_sha256``, ``resize``, ``crop``, ``float_scale``, ...) and
        ``versions`` (package -> version).
    """
    return {**vgg.provenance(), "versions": {name: _version(name) for name in _PACKAGES}}


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@validate_params({"record": [dict]}, prefer_skip_nested_validation=True)
def provenance_lines(record):
    """Markdown bullet lines of a :func:`provenance` record, for a summary."""
    digest = record.get("weights_sha256")
    weights = record["weights"] + (f" (sha256 {digest[:16]}…)" if digest else "")
    versions = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
    preprocessing = "; ".join(
        f"{name.replace('_', ' ')}: {value}" for name, value in record.items()
        if name not in ("weights", "weights_sha256", "versions")
    )
    return [
        f"- Weights: {weights}.",
        f"- Preprocessing: {preprocessing}.",
        f"- Versions: {versions}.",
    ]
