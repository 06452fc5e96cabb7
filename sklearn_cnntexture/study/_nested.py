"""An honest estimate of the study's winner: nested cross-validation of the whole selection.

The best of many cells, scored on the same folds that picked it, is an
optimistic estimate: some of its lead is luck on those folds. A user who
runs the study and keeps its winner should report what that *procedure*
scores on images it never saw. Nested CV measures exactly that: each outer
fold re-runs the whole selection (every candidate, on inner folds drawn
from the outer training part only), refits the inner winner on the outer
training part, and scores it on the outer test fold, which nothing in the
selection has touched. With the cache, each outer fold reads features; the
network does not run again.
"""

import time
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..exceptions import InputError
from ..io import records
from ._cv import FOLDS, REPEATS, study_cv, task_of
from ._progress import fit_progress
from ._table import describe_params
from .models import TASKS

__all__ = ["check_nested_data", "nested_study", "routing_for"]


@contextmanager
def routing_for(groups):
    """scikit-learn's metadata routing on when there are groups, else nothing changes.

    A model with its own inner CV (the logistic regression's choice of C)
    must keep each group whole too; only metadata routing hands the groups
    from the search down to it.
    """
    if groups is None:
        yield
        return
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@validate_params(
    {"y": ["array-like"], "groups": ["array-like", None], "task": [StrOptions(set(TASKS))],
     "n_splits": FOLDS},
    prefer_skip_nested_validation=True,
)
def check_nested_data(y, *, groups=None, task="classification", n_splits=3):
    """Refuse, in one line and before any image, data too small for nested CV.

    Each outer training part (about ``(n_splits - 1) / n_splits`` of a class)
    is cut into ``n_splits`` inner folds again, so every class needs that
    many images (or groups) left after the outer test fold is taken out.
    """
    y = np.asarray(y)
    units = np.arange(len(y)) if groups is None else np.asarray(groups)
    kind = "images" if groups is None else "groups"
    if task == "regression":
        counts = {"all": len(np.unique(units))}
    else:
        counts = {c: len(np.unique(units[y == c])) for c in np.unique(y)}
    few = [f"'{c}' ({k})" for c, k in counts.items() if k - -(-k // n_splits) < n_splits]
    if few:
        need = next(k for k in range(n_splits, 10 * n_splits) if k - -(-k // n_splits) >= n_splits)
        raise InputError(
            f"nested CV with {n_splits} folds needs at least {need} {kind} per class (each "
            f"outer training part is cut into {n_splits} inner folds); too few in: "
            f"{', '.join(few)}. Drop nested, or lower the number of folds.")


def _subset(X, index):
    return records.take(X, index)


@validate_params(
    {
        "search": [GridSearchCV],
        "X": ["array-like"],
        "y": ["array-like"],
        "groups": ["array-like", None],
        "task": [StrOptions(set(TASKS)), None],
        "n_splits": FOLDS,
        "n_repeats": REPEATS,
        "inner_repeats": REPEATS,
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def nested_study(search, X, y, *, groups=None, task=None, n_splits=3, n_repeats=1,
                 inner_repeats=1, random_state=0, verbose=False):
    """Nested-CV estimate of "run the study's selection and use its winner".

    Parameters
    ----------
    search : GridSearchCV
        The study's search (a :class:`~sklearn_cnntexture.Study`'s ``search_``,
        or :func:`~sklearn_cnntexture.study.make_study`), fitted or not; it is
        cloned, never changed.
    X : list or array-like
        The images (paths) of the study.
    y : array-like
        Their labels (or targets).
    groups : array-like or None, default=None
        Physical samples: outer and inner folds keep each one whole, and so
        do the models' own inner folds.
    task : {"classification", "regression"} or None
        None infers it from ``y``.
    n_splits : int, default=3
        Folds of the outer and of the inner cross-validation.
    n_repeats : int, default=1
        Repeats of the outer folds.
    inner_repeats : int, default=1
        Repeats of the inner folds that pick the winner (the study's own
        table may use more; fewer only makes the selection noisier, so the
        estimate stays on the cautious side).
    random_state : int, default=0
        Seeds the outer folds (the inner ones use it plus one).
    verbose : bool, default=False
        One line per outer fold.

    Returns
    -------
    nested : Bunch
        ``scores`` (one per outer fold), ``mean``, ``std``, ``winners`` (the
        candidate each outer fold picked, as the table names it: layer,
        encoder, model), ``test_indices`` (each outer fold's test images),
        ``time`` (seconds) and ``description``.
    """
    start = time.perf_counter()
    y = np.asarray(y)
    task = task_of(y) if task is None else task
    X = records.as_rows(X)
    grouped = groups is not None
    groups = None if groups is None else np.asarray(groups)
    outer = study_cv(task, n_splits=n_splits, n_repeats=n_repeats, groups=grouped,
                     random_state=random_state)
    inner_cv = study_cv(task, n_splits=n_splits, n_repeats=inner_repeats, groups=grouped,
                        random_state=random_state + 1)
    scorer = check_scoring(search.estimator, search.scoring)
    scores, winners, tests = [], [], []
    with routing_for(groups):
        for k, (train, test) in enumerate(outer.split(X, y, groups)):
            inner = clone(search).set_params(cv=inner_cv, refit=True, n_jobs=search.n_jobs)
            fit_params = {} if groups is None else {"groups": groups[train]}
            with fit_progress(inner, enabled=verbose,
                              description=f"nested CV, outer fold {k + 1}/{outer.get_n_splits()}"):
                inner.fit(_subset(X, train), y[train], **fit_params)
            scores.append(float(scorer(inner.best_estimator_, _subset(X, test), y[test])))
            winners.append(describe_params(inner, inner.best_params_))
            tests.append(np.asarray(test))
            if verbose:
                print(f"nested CV, outer fold {k + 1}/{outer.get_n_splits()}: winner "
                      f"{winners[-1]}, test score {scores[-1]:.3f}", flush=True)
    return Bunch(
        scores=np.array(scores), mean=float(np.mean(scores)), std=float(np.std(scores)),
        winners=winners, test_indices=tests, time=time.perf_counter() - start,
        description=(f"{n_splits} outer folds x {n_repeats} repeat(s), each selecting among "
                     f"all candidates on {n_splits} inner folds x {inner_repeats} repeat(s)"
                     f"{' (grouped)' if grouped else ''}"),
    )
