"""Matplotlib figures of the study's and the explanations' numbers."""

from ._study import (
    ENCODER_COLORS,
    chance_level,
    describe_data,
    layer_label,
    plot_characteristic_textures,
    plot_heatmap,
    plot_heatmaps,
    plot_important_textures,
    plot_models,
    plot_study,
    plot_texture_grid,
    plot_union,
    save_figure,
)

__all__ = [
    "ENCODER_COLORS",
    "chance_level",
    "describe_data",
    "layer_label",
    "plot_characteristic_textures",
    "plot_heatmap",
    "plot_heatmaps",
    "plot_important_textures",
    "plot_models",
    "plot_study",
    "plot_texture_grid",
    "plot_union",
    "save_figure",
]
