"""Heat maps: a filter's activation over a micrograph, as in Fig. 10 of Ling et al. 2017."""

from numbers import Real

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from sklearn.utils._param_validation import Interval, validate_params

from ..exceptions import InputError
from ._common import (
    FIG_CONSTRAINT,
    SMALL,
    TEXT_CONSTRAINT,
    displayable,
    filter_label,
    max_aspect,
    root_figure,
    show_image,
)

__all__ = ["plot_heatmap", "plot_heatmaps"]


def _resize_bilinear(array, shape):
    """Bilinear resize of a 2-D array with pixel centres aligned (as Pillow's BILINEAR).

    >>> _resize_bilinear(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]])
    """
    out = np.asarray(array, dtype=float)
    for axis, n_out in enumerate(shape):
        n_in = out.shape[axis]
        position = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        weight = (position - low).reshape([-1 if a == axis else 1 for a in range(out.ndim)])
        out = np.take(out, low, axis) * (1 - weight) + np.take(out, high, axis) * weight
    return out


@validate_params(
    {
        "image": ["array-like"],
        "heatmap": ["array-like"],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "cmap": [str, Colormap],
        "title": TEXT_CONSTRAINT,
        "label": TEXT_CONSTRAINT,
        "name": TEXT_CONSTRAINT,
        "fig": FIG_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
def plot_heatmap(image, heatmap, *, alpha=0.5, cmap="inferno", title=None, label="activation",
                 name=None, fig=None):  # fmt: skip
    """A micrograph and a filter's activation over it, as in Fig. 10.

    Left, the micrograph; right, the micrograph with the heat map laid over it, with a
    colorbar.

    Parameters
    ----------
    image : array-like
        The micrograph, 2-D gray or (H, W, 3) colour.
    heatmap : array-like
        2-D activation map; resized bilinearly to the image's size if it differs (VGG
        layers after pooling are smaller than the input).
    alpha : float, default=0.5
        Opacity of the heat map.
    cmap : str or matplotlib.colors.Colormap, default="inferno"
        Colormap of the heat map (inferno is perceptually uniform and colour-blind safe).
    title : str, optional
        Title of the whole figure.
    label : str, default="activation"
        Label of the colorbar.
    name : str, optional
        The micrograph's name (its file name, say), the title of the left panel; by
        default ``"micrograph"``.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_heatmap(np.zeros((32, 32)), np.arange(16.0).reshape(4, 4))
    >>> fig.axes[1].images[1].get_array().shape
    (32, 32)
    """
    img = displayable(image)
    heat = np.asarray(heatmap, dtype=float)
    if heat.ndim != 2:
        raise InputError(f"heatmap must be 2-D, got shape {heat.shape}")
    if heat.shape != img.shape[:2]:
        heat = _resize_bilinear(heat, img.shape[:2])
    if fig is None:
        aspect = img.shape[0] / img.shape[1]
        fig = Figure(figsize=(9, min(4.2 * aspect, 9) + 0.8), layout="constrained")
    if title is not None:
        fig.suptitle(title)
    left, right = fig.subplots(1, 2)
    show_image(left, img)
    left.set_title("micrograph" if name is None else name, fontsize=SMALL + 1)
    show_image(right, img)
    norm = Normalize(np.nanmin(heat), np.nanmax(heat))
    right.imshow(heat, cmap=cmap, norm=norm, alpha=alpha)
    right.set_title("heat map")
    # The colorbar shows the colormap opaque: the overlay's alpha would wash its colours out.
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=right, label=label, shrink=0.9)
    return root_figure(fig)


@validate_params(
    {"heatmaps": [dict], "names": [dict, None], "title": TEXT_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def plot_heatmaps(heatmaps, names=None, *, title=None):
    """One :func:`plot_heatmap` row per class, as in Fig. 10.

    Parameters
    ----------
    heatmaps : dict
        ``{class: (image, heatmap, layer, filter)}``, as in the ``heatmaps`` of
        :func:`~sklearn_cnntexture.explain.explain_model`.
    names : dict, optional
        ``{class: name}`` of each micrograph (its file name, as in the explanation's
        ``sources``), the title of its left panel.
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> heat = {"a": (np.zeros((16, 24)), np.ones((4, 6)), "block3_conv3", 17)}
    >>> fig = plot_heatmaps(heat, {"a": "a_0.png"})
    >>> fig.subfigs[0]._suptitle.get_text(), fig.axes[0].get_title()
    ('a: C3,3 #17', 'a_0.png')
    """
    if not heatmaps:
        raise InputError("no heat maps to draw")
    names = names or {}
    aspect = max_aspect([image for image, *_ in heatmaps.values()])
    fig = Figure(figsize=(9, (4.2 * min(aspect, 2) + 0.9) * len(heatmaps)), layout="constrained")
    if title is not None:
        fig.suptitle(title)
    rows = fig.subfigures(len(heatmaps), 1, squeeze=False)[:, 0]
    for sub, (cls, (image, heat, layer, f)) in zip(rows, heatmaps.items()):
        plot_heatmap(image, heat, title=f"{cls}: {filter_label(layer, f)}",
                     name=names.get(cls), fig=sub)  # fmt: skip
    return fig
