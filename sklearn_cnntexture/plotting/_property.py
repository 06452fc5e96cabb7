"""The textures that rise and fall with a numeric property, and where they fire.

:func:`plot_property_textures` draws what
:func:`~sklearn_cnntexture.explain.explain_property` finds: each rising and each
falling filter's texture (activation maximization) with its rank correlation,
beside its heat maps over a micrograph of the low end and one of the high end
of the property, on one colour scale per filter so that the two can be
compared.
"""

from numbers import Real

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from sklearn.utils._param_validation import validate_params

from ..exceptions import InputError
from ._common import SMALL, TEXT_CONSTRAINT, displayable, max_aspect, show_image

__all__ = ["plot_property_heatmap", "plot_property_textures"]

#: Width of one image column, in inches; room for a two-line caption.
_COLUMN, _CAPTION = 2.7, 0.5
_ENDS = ("low", "high")
_DIRECTIONS = {"rises": "rise", "falls": "fall"}


def _format(value):
    return f"{value:.4g}" if isinstance(value, Real) else str(value)


def _end_title(end, target_name, value, name):
    return f"{end} end: {target_name} = {_format(value)}\n{name}"


@validate_params(
    {
        "textures": [dict],
        "heatmaps": [dict],
        "examples": [dict],
        "target_name": [str],
        "captions": [dict, None],
        "title": TEXT_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
def plot_property_textures(textures, heatmaps, examples, *, target_name="y", captions=None,
                           title=None):  # fmt: skip
    """Rising and falling textures beside their heat maps on the low and high micrographs.

    On top, a micrograph of the low end and one of the high end of the
    property, with their file names and values. Then one row per
    filter, the rising ones first: its texture, captioned with its name and
    rank correlation, and its activation over each of the two micrographs
    (laid over it, inferno), on one colour scale per row with its colour bar
    (up to the 99.5th percentile of the two maps, so that a sparse filter's
    few hot pixels do not leave the rest black; an arrow on the bar says
    brighter pixels are clipped): a filter that rises with the property is
    brighter on the right.

    Parameters
    ----------
    textures : dict
        ``{"rises": [(label, caption, texture), ...], "falls": [...]}``: the
        filter's name (``C3,3 #174``), a caption (``"r = +0.62"``) and its
        texture (RGB or gray). Either list may be empty; a direction that is
        absent is drawn as "none".
    heatmaps : dict
        ``{label: {"low": heat, "high": heat}}`` for every label of
        ``textures``: 2-D activation maps, stretched over their micrograph
        (bilinearly) if smaller.
    examples : dict
        ``{"low": (name, value, micrograph), "high": (name, value, micrograph)}``.
    target_name : str, default="y"
        The property's name.
    captions : dict, optional
        ``{label: {"low": text, "high": text}}``: a caption over each heat map
        (the filter's feature on that micrograph, say); by default none.
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        If an example or a heat map is missing, or there is nothing to draw.

    Examples
    --------
    >>> tex = np.zeros((8, 8, 3))
    >>> heat = {"low": np.zeros((4, 4)), "high": np.ones((4, 4))}
    >>> fig = plot_property_textures(
    ...     {"rises": [("C3,3 #1", "r = +0.9", tex)], "falls": []}, {"C3,3 #1": heat},
    ...     {"low": ("a.png", 700, np.zeros((16, 16))), "high": ("b.png", 1100,
    ...      np.zeros((16, 16)))}, target_name="T")
    >>> [ax.get_title() for ax in fig.axes if ax.images][:2]
    ['low end: T = 700\\na.png', 'high end: T = 1100\\nb.png']
    """
    missing = [end for end in _ENDS if end not in examples]
    if missing:
        raise InputError(f"examples lacks {missing}: pass the low and the high micrograph")
    rows = {d: list(textures.get(d, [])) for d in _DIRECTIONS}
    if not any(rows.values()):
        raise InputError("no rising or falling textures to draw")
    for label, *_ in [item for items in rows.values() for item in items]:
        if label not in heatmaps or any(end not in heatmaps[label] for end in _ENDS):
            raise InputError(f"no low and high heat maps for {label!r}")
    images = {end: displayable(examples[end][2]) for end in _ENDS}
    aspect = min(max_aspect(list(images.values())), 1.5)
    row_height = _COLUMN * aspect + _CAPTION
    n_rows = {d: max(len(items), 1) for d, items in rows.items()}
    heights = [row_height + 0.2, *(n * row_height + 0.35 for n in n_rows.values())]
    fig = Figure(figsize=(3 * _COLUMN + 1.2, sum(heights) + (0.4 if title else 0)),
                 layout="constrained")
    if title is not None:
        fig.suptitle(title, fontsize=SMALL + 3)
    header, *blocks = fig.subfigures(3, 1, height_ratios=heights)
    axes = header.subplots(1, 3, width_ratios=[1, 1, 1])
    axes[0].set_axis_off()
    axes[0].text(0.5, 0.5, "texture of the filter\n(activation maximization)\n\n"
                 f"its activation over a\nmicrograph of the low end\nand one of the high end"
                 f"\nof {target_name}",
                 ha="center", va="center", fontsize=SMALL + 1, transform=axes[0].transAxes)
    for ax, end in zip(axes[1:], _ENDS):
        name, value, _ = examples[end]
        show_image(ax, images[end])
        ax.set_title(_end_title(end, target_name, value, name), fontsize=SMALL + 1)
    for block, (direction, items) in zip(blocks, rows.items()):
        block.suptitle(f"Textures that {_DIRECTIONS[direction]} with {target_name}",
                       fontsize=SMALL + 2, fontweight="bold", x=0.02, ha="left")
        grid = block.subplots(n_rows[direction], 3, squeeze=False)
        if not items:
            for ax in grid[0]:
                ax.set_axis_off()
            grid[0, 0].text(0, 0.5, f"none: no filter {_DIRECTIONS[direction]}s with "
                            f"{target_name}", fontsize=SMALL + 1, transform=grid[0, 0].transAxes)
            continue
        for axes_row, (label, caption, texture) in zip(grid, items):
            show_image(axes_row[0], texture)
            axes_row[0].set_title(f"{label}\n{caption}", fontsize=SMALL + 1)
            caption = (captions or {}).get(label) or {}
            _draw_pair(block, axes_row[1:], images, heatmaps[label], caption)
    return fig


def _draw_pair(fig, axes, images, heatmaps, captions):
    """Two heat maps over their micrographs, on one scale, with one colour bar."""
    maps = {end: np.asarray(heatmaps[end], dtype=float) for end in _ENDS}
    for end, heat in maps.items():
        if heat.ndim != 2:
            raise InputError(f"the {end} heat map must be 2-D, got shape {heat.shape}")
    # One scale for both: the two micrographs' maps are compared by colour. It tops
    # at the 99.5th percentile, so that a few hot pixels of a sparse filter do not
    # leave the rest black; brighter pixels are clipped, as the bar's arrow says.
    low = min(np.nanmin(m) for m in maps.values())
    top = max(np.nanpercentile(m, 99.5) for m in maps.values())
    peak = max(np.nanmax(m) for m in maps.values())
    if top <= low:
        top = peak
    norm = Normalize(low, top)
    for ax, end in zip(axes, _ENDS):
        show_image(ax, images[end])
        height, width = images[end].shape[:2]
        # Stretched over the micrograph: a layer's map is smaller than its input.
        ax.imshow(maps[end], cmap="inferno", norm=norm, alpha=0.55,
                  extent=(-0.5, width - 0.5, height - 0.5, -0.5), interpolation="bilinear")
        if captions.get(end):
            ax.set_title(captions[end], fontsize=SMALL)
    fig.colorbar(ScalarMappable(norm=norm, cmap="inferno"), ax=list(axes), label="activation",
                 shrink=0.9, extend="max" if peak > top else "neither")


@validate_params(
    {
        "heatmaps": [dict],
        "examples": [dict],
        "label": TEXT_CONSTRAINT,
        "target_name": [str],
        "captions": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
def plot_property_heatmap(heatmaps, examples, *, label=None, target_name="y", captions=None):
    """One filter's heat maps over the low and the high micrograph, on one colour scale.

    Parameters
    ----------
    heatmaps : dict
        ``{"low": heat, "high": heat}``: 2-D activation maps, stretched over
        their micrograph (bilinearly) if smaller.
    examples : dict
        ``{"low": (name, value, micrograph), "high": (name, value, micrograph)}``.
    label : str, optional
        The filter's name (``C3,3 #174``), the figure's title.
    target_name : str, default="y"
        The property's name.
    captions : dict, optional
        ``{"low": text, "high": text}`` added under each panel's title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_property_heatmap(
    ...     {"low": np.zeros((4, 4)), "high": np.ones((4, 4))},
    ...     {"low": ("a.png", 700, np.zeros((16, 16))), "high": ("b.png", 1100,
    ...      np.zeros((16, 16)))}, label="C3,3 #1", target_name="T")
    >>> [ax.get_title() for ax in fig.axes if ax.images]
    ['low end: T = 700\\na.png', 'high end: T = 1100\\nb.png']
    """
    missing = [end for end in _ENDS if end not in examples or end not in heatmaps]
    if missing:
        raise InputError(f"no {missing} micrograph or heat map: pass the low and the high one")
    images = {end: displayable(examples[end][2]) for end in _ENDS}
    aspect = min(max_aspect(list(images.values())), 1.5)
    fig = Figure(figsize=(2 * _COLUMN + 1.0, _COLUMN * aspect + _CAPTION + 0.5),
                 layout="constrained")
    if label is not None:
        fig.suptitle(label, fontsize=SMALL + 2)
    axes = fig.subplots(1, 2)
    titles = {}
    for end in _ENDS:
        name, value, _ = examples[end]
        extra = (captions or {}).get(end)
        titles[end] = _end_title(end, target_name, value, name) + (
            f"\n{extra}" if extra else "")
    _draw_pair(fig, axes, images, heatmaps, titles)
    return fig
