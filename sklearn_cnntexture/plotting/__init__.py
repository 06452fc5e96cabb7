"""Matplotlib figures of the study's and the explanations' numbers.

The figures follow Ling et al. 2017: the study (Fig. 6, :func:`plot_study`), the union of
layers (Fig. 7, :func:`plot_union`), filter textures (Fig. 8, :func:`plot_texture_grid`),
important textures (Fig. 9, :func:`plot_important_textures`), heat maps (Fig. 10,
:func:`plot_heatmap`) and characteristic textures (Figs. 11-12,
:func:`plot_characteristic_textures`). Private modules, one job each: ``_study``,
``_textures``, ``_heatmaps``, and ``_common`` (colours, :func:`save_figure`,
:func:`layer_label`, the helpers they share).

Every function builds a :class:`matplotlib.figure.Figure` itself instead of going through
``matplotlib.pyplot``: no figure is left in pyplot's registry, nothing depends on an
interactive backend (it all works headless), and the caller decides what to do with the
figure (show it in a notebook, :func:`save_figure` it). Besides numpy and matplotlib,
only the package's layer names are imported (no TensorFlow); the study tables are used
through their pandas methods.
"""

from ._common import ENCODER_COLORS, filter_label, layer_label, save_figure
from ._heatmaps import plot_heatmap, plot_heatmaps
from ._property import plot_property_heatmap, plot_property_textures
from ._sources import plot_scales, plot_sources
from ._study import chance_level, describe_data, plot_models, plot_study, plot_union
from ._textures import plot_characteristic_textures, plot_important_textures, plot_texture_grid

__all__ = [
    "ENCODER_COLORS",
    "chance_level",
    "describe_data",
    "filter_label",
    "layer_label",
    "plot_characteristic_textures",
    "plot_heatmap",
    "plot_heatmaps",
    "plot_important_textures",
    "plot_models",
    "plot_property_heatmap",
    "plot_property_textures",
    "plot_scales",
    "plot_sources",
    "plot_study",
    "plot_texture_grid",
    "plot_union",
    "save_figure",
]
