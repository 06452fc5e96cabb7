"""Which textures drive a model's predictions, and where they are in an image."""

from ._importance import (
    activation_heatmap,
    characteristic_textures,
    explain_model,
    important_textures,
    standardized_mean_difference,
)
from ._property import explain_property

__all__ = [
    "activation_heatmap",
    "characteristic_textures",
    "explain_model",
    "explain_property",
    "important_textures",
    "standardized_mean_difference",
]
