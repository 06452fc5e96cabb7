"""The study: which VGG16 layer and texture encoding separate the classes."""

from ._cv import RepeatedGroupSplits, check_study_data, study_cv
from ._estimator import (
    CONFIG_FILE,
    OUT_OF_FOLD_FILE,
    Study,
    load_study,
    run_study,
    study_config,
    study_network,
)
from ._grid import study_grid
from ._nested import nested_study
from ._oof import out_of_fold_predictions
from ._progress import fit_progress
from ._search import STUDY_ENCODERS, fill_cache, make_study
from ._table import (
    EXPLAINABLE,
    TIME_COLUMN,
    best_explainable,
    describe_row,
    row_pixel_size,
    scale_rows,
    source_rows,
    study_results,
    ties,
)

__all__ = [
    "CONFIG_FILE",
    "EXPLAINABLE",
    "OUT_OF_FOLD_FILE",
    "RepeatedGroupSplits",
    "STUDY_ENCODERS",
    "Study",
    "TIME_COLUMN",
    "best_explainable",
    "check_study_data",
    "describe_row",
    "fill_cache",
    "fit_progress",
    "load_study",
    "make_study",
    "nested_study",
    "row_pixel_size",
    "scale_rows",
    "source_rows",
    "out_of_fold_predictions",
    "run_study",
    "study_config",
    "study_cv",
    "study_grid",
    "study_network",
    "study_results",
    "ties",
]
