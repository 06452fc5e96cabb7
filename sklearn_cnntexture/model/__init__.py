"""Fit a configuration, save it as a model file with its card, and predict with it."""

from .file import (
    CARD_MEMBER,
    TRUSTED_TYPES,
    card_lines,
    load_model,
    model_card,
    read_card,
    read_feature_stats,
    save_model,
    training_images_among,
)
from .predict import (
    check_images,
    configuration_pipeline,
    explained_figure_paths,
    fit_model,
    predict_table,
    score_predictions,
    study_configuration,
    supporting_filters,
)

__all__ = [
    "CARD_MEMBER",
    "TRUSTED_TYPES",
    "card_lines",
    "check_images",
    "configuration_pipeline",
    "explained_figure_paths",
    "fit_model",
    "load_model",
    "model_card",
    "predict_table",
    "read_card",
    "read_feature_stats",
    "save_model",
    "score_predictions",
    "study_configuration",
    "supporting_filters",
    "training_images_among",
]
