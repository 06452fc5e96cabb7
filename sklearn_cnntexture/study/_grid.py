"""The study's parameter grid: layers x encoders (x models).

One job: which candidates GridSearchCV compares. Public through
:mod:`sklearn_cnntexture.study`.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..exceptions import InputError
from ..features._layers import IMAGE_LAYER, PAPER_LAYERS, canonical_layer, n_pools_before
from ..features.columns import WithColumns
from ..features.encoders import ENCODERS, MeanPool, VLADEncoder
from ..features.union import MultiLayerUnion

__all__ = ["study_grid"]


@validate_params(
    {
        "layers": [list, tuple],
        "encoders": [list, tuple],
        "raw_image": ["boolean"],
        "union": ["boolean"],
        "vlad_resize": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "random_state": ["random_state"],
        "models": [list, tuple, None],
        "columns": [list, tuple, None],
        "missing": [StrOptions({"error", "impute"})],
        "sources": [list, tuple, None],
        "pixel_sizes": [list, tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def study_grid(
    layers=PAPER_LAYERS,
    encoders=tuple(ENCODERS),
    *,
    raw_image=True,
    union=True,
    vlad_resize=255,
    random_state=0,
    models=None,
    columns=None,
    missing="error",
    sources=None,
    pixel_sizes=None,
):
    """The parameter grid of the layer x encoder (x model) study, for :class:`GridSearchCV`.

    Parameters
    ----------
    layers : list of str, default=PAPER_LAYERS
        VGG16 layers to compare (the paper's five by default).
    encoders : list of {"mean", "max", "gram", "vlad"}
        Encoders to compare, each with its default parameters.
    raw_image : bool, default=True
        Also apply each encoder to the raw gray image (layer ``"image"``), the
        paper's no-CNN baseline.
    union : bool, default=True
        Also the union of the mean features of all ``layers``
        (:class:`MultiLayerUnion`), the paper's Fig. 7. A union of one layer
        would be that layer again, so with one layer there is none.
    vlad_resize : int, (height, width) or None, default=255
        Size VLAD's images are resized to; the paper used 255 x 255 to bound
        memory. None keeps the pipeline's own ``resize``. Refused when too
        small for the deepest layer (``2 **`` its poolings a side).
    random_state : int, default=0
        Seed of VLAD's descriptor sample and k-means.
    models : list of estimator or None, default=None
        Models to compare (:func:`~sklearn_cnntexture.study.models.make_model`
        builds them from names): each part of the grid gets a ``model`` key,
        so the search covers layer x encoder x model. None leaves the
        pipeline's own model (the paper's grid).
    columns : list of str or None, default=None
        Columns of the data table (X as a table of images) to compare the
        micrographs with: every candidate again with the columns beside its
        textures (:class:`~sklearn_cnntexture.features.WithColumns`, the
        ``"both"`` source), and the columns alone (``"columns"``: no network
        runs for it), so the table shows what the micrograph adds beyond the
        process record. None: the images alone (the paper's grid).
    missing : {"error", "impute"}, default="error"
        Empty cells of ``columns``: refused, or imputed.
    sources : list of {"image", "both", "columns"} or None, default=None
        Which of the three to compare, with ``columns``; None: all three
        (``"image"`` alone without columns). One source per study gives each
        its own nested estimate.
    pixel_sizes : list of (float or None) or None, default=None
        Physical scales to compare, in micrometres per pixel, None standing
        for the images' native pixels: e.g. ``[None, 0.5]`` scores every
        candidate at native pixels and with every image resampled to 0.5 um
        per pixel (each image's own pixel size from X's ``pixel_size`` column
        or its file), so the table shows whether a model learned the
        magnification or the microstructure. None: the network's own
        ``pixel_size`` alone.

    Returns
    -------
    param_grid : list of dict
        For the pipeline of :func:`~sklearn_cnntexture.study.make_study`.

    Examples
    --------
    >>> from sklearn_cnntexture.study import study_grid
    >>> grid = study_grid(["block3_conv3"], ["mean", "vlad"], union=False)
    >>> [sorted(part) for part in grid]
    [['encode', 'vgg__layers'], ['encode', 'vgg__layers', 'vgg__resize']]
    >>> grid[0]["vgg__layers"]
    ['block3_conv3', 'image']
    """
    unknown = [name for name in encoders if name not in ENCODERS]
    if unknown or not encoders:
        raise InputError(f"encoders must be among {list(ENCODERS)}, got {list(encoders)}")
    layers = [canonical_layer(layer) for layer in layers]
    grid_layers = layers + ([IMAGE_LAYER] if raw_image else [])
    if not grid_layers:
        raise InputError("layers is empty and raw_image is False: the study has no candidate")
    if "vlad" in encoders:
        _check_vlad_resize(vlad_resize, grid_layers)
    grid = []
    pooled = [ENCODERS[name]() for name in encoders if name != "vlad"]
    if pooled:
        grid.append({"vgg__layers": grid_layers, "encode": pooled})
    if "vlad" in encoders:
        part = {"vgg__layers": grid_layers, "encode": [VLADEncoder(random_state=random_state)]}
        if vlad_resize is not None:
            part["vgg__resize"] = [vlad_resize]
        grid.append(part)
    if union and len(layers) > 1:
        grid.append({"vgg__layers": [layers], "encode": [MultiLayerUnion(MeanPool())]})
    sources = _checked_sources(sources, columns)
    if pixel_sizes is not None:
        _check_pixel_sizes(pixel_sizes)
        for part in grid:
            part["vgg__pixel_size"] = list(pixel_sizes)
    if columns:
        columns = list(columns)
        both = [dict(part, encode=[WithColumns(encoder, columns=columns, missing=missing)
                                   for encoder in part["encode"]]) for part in grid]
        # The columns alone: the network step is lazy, so its layer is never run
        # (the first image layer's, whose inputs the cache holds anyway).
        alone = {"vgg__layers": grid_layers[:1],
                 "encode": [WithColumns(None, columns=columns, missing=missing)]}
        grid = ((grid if "image" in sources else []) + (both if "both" in sources else [])
                + ([alone] if "columns" in sources else []))
    if models is not None:
        for part in grid:
            part["model"] = list(models)
    return grid



def _check_pixel_sizes(pixel_sizes):
    """Scales to compare: None (native pixels) or positive numbers, each once."""
    bad = [p for p in pixel_sizes if p is not None and not (
        isinstance(p, Real) and not isinstance(p, bool) and 0 < p < float("inf"))]
    if bad or not pixel_sizes:
        raise InputError(f"pixel_sizes must hold positive micrometres per pixel or None "
                         f"(native pixels), got {list(pixel_sizes)}")
    if len(set(pixel_sizes)) != len(pixel_sizes):
        raise InputError(f"pixel_sizes names a scale twice: {list(pixel_sizes)}")


def _checked_sources(sources, columns):
    """The sources a grid compares: all three with columns, the image alone without."""
    known = ("image", "both", "columns")
    if sources is None:
        return known if columns else ("image",)
    unknown = [s for s in sources if s not in known]
    if unknown or not sources:
        raise InputError(f"sources must be among {list(known)}, got {list(sources)}")
    if not columns and set(sources) != {"image"}:
        raise InputError(f"sources {list(sources)} need columns: the data table's columns "
                         "to put beside the textures or to use alone")
    return tuple(sources)


def _check_vlad_resize(vlad_resize, layers):
    """A VLAD size of two sides, each large enough for the deepest layer, or None."""
    if vlad_resize is None:
        return
    size = [vlad_resize] * 2 if isinstance(vlad_resize, Integral) else list(vlad_resize)
    if len(size) != 2 or not all(isinstance(s, Integral) and s >= 1 for s in size):
        raise InputError(f"vlad_resize={vlad_resize!r}: give one size or (height, width), "
                         "positive integers")
    deepest = max(layers, key=n_pools_before)
    need = 2 ** n_pools_before(deepest)
    if min(size) < need:
        raise InputError(f"vlad_resize={vlad_resize!r} is too small for {deepest}, which "
                         f"needs images of at least {need} x {need} pixels")
