"""The study's folds: the repeated (grouped) k-fold splitter, and whether the data can be split.

One job: deciding how a labelled image set is cut into training and test
folds, and refusing, in one line, a set that cannot be (no images, one class,
a class with fewer images or groups than folds).
"""

from numbers import Integral

import numpy as np
from scipy.sparse import issparse
from sklearn.model_selection import (
    BaseCrossValidator,
    GroupKFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.multiclass import type_of_target

from ..exceptions import InputError
from .models import TASKS

__all__ = ["RepeatedGroupSplits", "check_study_data", "study_cv", "task_of"]


class RepeatedGroupSplits(BaseCrossValidator):
    """Repeat a shuffling group-aware splitter with a new seed each time.

    Scikit-learn repeats ``StratifiedKFold`` and ``KFold``
    (``RepeatedStratifiedKFold``), but not their group-aware versions. Groups
    (several micrographs of one physical sample) must not be split between
    training and test folds, or the scores are inflated.

    Parameters
    ----------
    cv : {StratifiedGroupKFold, GroupKFold}
        The splitter class; made with ``shuffle=True`` and a new seed per repeat.
    n_splits : int, default=3
        Folds per repeat.
    n_repeats : int, default=10
        Repeats.
    random_state : int, default=0
        Seeds the repeats.

    Examples
    --------
    >>> from sklearn.model_selection import StratifiedGroupKFold
    >>> from sklearn_cnntexture.study import RepeatedGroupSplits
    >>> cv = RepeatedGroupSplits(StratifiedGroupKFold, n_splits=2, n_repeats=3)
    >>> cv.get_n_splits()
    6
    """

    # Asks scikit-learn's metadata routing for the groups, as its group-aware
    # splitters do (their GroupsConsumerMixin is private).
    __metadata_request__split = {"groups": True}

    def __init__(self, cv, *, n_splits=3, n_repeats=10, random_state=0):
        self.cv = cv
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def split(self, X, y=None, groups=None):
        rng = check_random_state(self.random_state)
        for _ in range(self.n_repeats):
            seed = rng.randint(np.iinfo(np.int32).max)
            splitter = self.cv(n_splits=self.n_splits, shuffle=True, random_state=seed)
            yield from splitter.split(X, y, groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits * self.n_repeats

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError  # split is overridden


#: Folds and repeats a cross-validation can use (the parameter checks of the study).
FOLDS = [Interval(Integral, 2, None, closed="left")]
REPEATS = [Interval(Integral, 1, None, closed="left")]


@validate_params(
    {
        "task": [StrOptions(set(TASKS))],
        "n_splits": FOLDS,
        "n_repeats": REPEATS,
        "groups": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def study_cv(task="classification", *, n_splits=3, n_repeats=10, groups=False, random_state=0):
    """The cross-validation of the study: repeated (stratified) (group) k-fold.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
        Classification stratifies by class.
    n_splits : int, default=3
        Folds (the paper's 3); at least 2.
    n_repeats : int, default=10
        Repeats with new random folds (the paper's 10); at least 1.
    groups : bool, default=False
        Keep each group (physical sample) within one fold: then
        ``StratifiedGroupKFold`` (or ``GroupKFold`` for regression), repeated.
    random_state : int, default=0
        Seeds the folds.

    Returns
    -------
    cv : cross-validation splitter
    """
    if groups:
        splitter = StratifiedGroupKFold if task == "classification" else GroupKFold
        return RepeatedGroupSplits(
            splitter, n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
        )
    repeated = RepeatedStratifiedKFold if task == "classification" else RepeatedKFold
    return repeated(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)


def task_of(y):
    """``"classification"`` for class labels, ``"regression"`` for numbers with fractions."""
    kind = type_of_target(y)
    if kind == "continuous":
        return "regression"
    if kind in ("binary", "multiclass"):
        return "classification"
    raise InputError(
        f"Unknown label type: the target is {kind!r}; the study takes one class label per "
        "image (classification) or one number per image (regression)"
    )


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like", None],
        "groups": ["array-like", None],
        "task": [StrOptions(set(TASKS)), None],
        "n_splits": FOLDS,
    },
    prefer_skip_nested_validation=True,
)
def check_study_data(X, y, *, groups=None, task=None, n_splits=3):
    """Check that a labelled image set can go through the study's folds.

    Returns the task ("classification" or "regression"). Raises an
    :class:`~sklearn_cnntexture.exceptions.InputError` that says what is
    wrong: no labels, images as a sparse matrix, no images, one class, a
    class with fewer images (or groups) than folds, labels and images of
    different lengths.
    """
    if y is None:  # scikit-learn's words, which its estimator checks look for
        raise InputError("the study requires y to be passed, but the target y is None: "
                         "give each image's class label (or number)")
    if issparse(X):
        raise InputError("X is a sparse matrix: the study takes images (file paths or "
                         "arrays), and sparse input is not supported")
    n = len(X)
    if n == 0:
        raise InputError("no images: the data set is empty")
    y = np.asarray(y)
    if len(y) != n:
        raise InputError(f"{n} images but {len(y)} labels")
    task = task_of(y) if task is None else task
    if groups is not None and len(groups) != n:
        raise InputError(f"{n} images but {len(groups)} group labels")
    if task == "regression":
        units = n if groups is None else len(np.unique(groups))
        if units < n_splits:
            raise InputError(f"{units} images/groups cannot make {n_splits} folds")
        return task
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise InputError(
            f"only one class ('{classes[0]}'): a classification study needs at least two"
        )
    if groups is not None:
        counts = np.array([len(np.unique(np.asarray(groups)[y == c])) for c in classes])
    few = [f"'{c}' ({k})" for c, k in zip(classes, counts) if k < n_splits]
    if few:
        unit = "groups" if groups is not None else "images"
        raise InputError(
            f"{n_splits}-fold cross-validation needs at least {n_splits} {unit} per class; "
            f"too few in: {', '.join(few)}. Add {unit}, or lower the number of folds."
        )
    return task
