"""A progress bar over the grid search's fits (candidates x folds).

``GridSearchCV`` scores each candidate on each test fold once, in the
process that runs the fit; a scorer that counts its calls on a tqdm bar is
therefore an exact, backend-free count of finished fits. It needs no patch
of joblib or scikit-learn. With process-based ``n_jobs`` the scorer runs in
the workers and cannot reach the bar: then joblib's own few "Done k tasks"
lines report progress (see :func:`fit_progress`), not one line per fit.
"""

from contextlib import contextmanager

from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from sklearn.utils._param_validation import validate_params

__all__ = ["fit_progress"]


class _CountingScorer:
    """A scorer that moves a bar by one for every fit it scores."""

    def __init__(self, scorer, bar):
        self.scorer = scorer
        self.bar = bar

    def __call__(self, estimator, X, y=None, **kwargs):
        score = self.scorer(estimator, X, y, **kwargs)
        if self.bar is not None:
            self.bar.update()
        return score

    def __getstate__(self):
        # A bar holds a lock and a stream: worker processes get the plain scorer.
        return {"scorer": self.scorer, "bar": None}


def n_fits(search):
    """Fits a search will make: candidates x folds."""
    return len(ParameterGrid(search.param_grid)) * check_cv(search.cv).get_n_splits()


#: joblib's verbosity for its progress lines: a handful of "Done k tasks | elapsed"
#: lines, ever sparser (scikit-learn's own verbose >= 2 prints one line per fit).
_JOBLIB_VERBOSE = 5


@validate_params(
    {"search": [GridSearchCV], "enabled": ["boolean"], "description": [str]},
    prefer_skip_nested_validation=True,
)
@contextmanager
def fit_progress(search, *, enabled=True, description="Grid search: fits (candidates x folds)"):
    """Show a bar (counts, rate, time left) while ``search`` is fitted in this block.

    With ``n_jobs`` other than None or 1, the fits run in worker processes
    that cannot move the bar: joblib's own "Done k tasks | elapsed" lines
    (a handful, through ``joblib.parallel_config(verbose=...)``) say how far
    the search is instead, after one line naming the number of fits.

    Parameters
    ----------
    search : GridSearchCV
        Not yet fitted; its ``scoring`` is wrapped inside the block only
        (the fitted search keeps the plain scorer).
    enabled : bool, default=True
        False shows nothing (the block runs as is).
    description : str
        The bar's label.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sklearn_cnntexture.study import fit_progress
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]})
    >>> with fit_progress(search, enabled=False):  # enabled: a bar of 10 fits
    ...     search = search.fit(X, y)
    >>> search.best_params_
    {'max_depth': 3}
    """
    if not enabled:
        yield
        return
    if search.n_jobs not in (None, 1):
        import joblib

        print(f"{description}: {n_fits(search)} fits on {search.n_jobs} workers", flush=True)
        with joblib.parallel_config(verbose=_JOBLIB_VERBOSE):
            yield
        return
    from tqdm.auto import tqdm

    scoring = search.scoring
    scorer = check_scoring(search.estimator, scoring)
    with tqdm(total=n_fits(search), desc=description, unit="fit") as bar:
        search.set_params(scoring=_CountingScorer(scorer, bar))
        try:
            yield
        finally:
            search.set_params(scoring=scoring)
            if hasattr(search, "scorer_"):
                search.scorer_ = scorer
