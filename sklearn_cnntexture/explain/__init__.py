"""Which textures drive a model's predictions, and where they are in an image."""

from ._importance import (
    activation_heatmap,
    characteristic_textures,
    explain_model,
    important_textures,
    standardized_mean_difference,
)

__all__ = [
    "activation_heatmap",
    "characteristic_textures",
    "explain_model",
    "important_textures",
    "standardized_mean_difference",
]
