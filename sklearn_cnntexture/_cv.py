"""The study's folds: the repeated (grouped) k-fold splitter, and whether the data can be split.

One job: deciding how a labelled image set is cut into training and test
folds, and refusing, in one line, a set that cannot be (no images, one class,
a class with fewer images or groups than folds).
"""

import numpy as np
from sklearn.model_selection import (
    BaseCrossValidator,
    GroupKFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from .exceptions import InputError

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
    check_folds(n_splits, n_repeats)
    if groups:
        splitter = StratifiedGroupKFold if task == "classification" else GroupKFold
        return RepeatedGroupSplits(
            splitter, n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
        )
    repeated = RepeatedStratifiedKFold if task == "classification" else RepeatedKFold
    return repeated(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)


def check_folds(n_splits, n_repeats):
    """Refuse fold counts no cross-validation can use, before any work."""
    if not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise InputError(f"n_splits={n_splits!r}: cross-validation needs at least 2 folds")
    if not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise InputError(f"n_repeats={n_repeats!r}: the folds must be drawn at least once")


def task_of(y):
    """``"classification"`` for class labels, ``"regression"`` for numbers with fractions."""
    kind = type_of_target(y)
    if kind == "continuous":
        return "regression"
    if kind in ("binary", "multiclass"):
        return "classification"
    raise InputError(
        f"the target is {kind!r}: the study takes one class label per image "
        "(classification) or one number per image (regression)"
    )


def check_study_data(X, y, *, groups=None, task=None, n_splits=3):
    """Check that a labelled image set can go through the study's folds.

    Returns the task ("classification" or "regression"). Raises a
    ``ValueError`` that says what is wrong: no images, one class, a class
    with fewer images (or groups) than folds, labels and images of different
    lengths.
    """
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
