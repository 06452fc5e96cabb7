"""Folders a user reads: tables, figures and summaries of studies, explanations and predictions."""

from ._folders import (
    explained_folder,
    explanation_summary,
    prepare_output_folder,
    study_summary,
    write_explanations,
    write_predictions,
    write_study,
)

__all__ = [
    "explained_folder",
    "explanation_summary",
    "prepare_output_folder",
    "study_summary",
    "write_explanations",
    "write_predictions",
    "write_study",
]
