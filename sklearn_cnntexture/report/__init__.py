"""Folders a user reads: tables, figures, summaries and pages of studies, explanations and
predictions."""

from ._folders import (
    explained_folder,
    explanation_summary,
    prepare_output_folder,
    study_summary,
    write_explanations,
    write_predictions,
    write_study,
)
from ._predict_page import prediction_page_paths
from ._property import write_property_explanation

__all__ = [
    "explained_folder",
    "explanation_summary",
    "prediction_page_paths",
    "prepare_output_folder",
    "study_summary",
    "write_explanations",
    "write_predictions",
    "write_property_explanation",
    "write_study",
]
