"""The study's models: one registry of names, and the name a table gives any model.

The paper fits a random forest of 400 trees [1]_; the study keeps it as the
default (``"rf"``), so its tables and figures reproduce the paper's. The
other names are the models that help where the paper's protocol does not
fit the data: a class-balanced forest for imbalanced collections, and a
standardized logistic regression whose regularization is chosen by an
inner cross-validation (linear models on standardized CNN features are a
strong, cheap baseline). Any scikit-learn classifier or regressor can be
given as an object instead of a name.

References
----------
.. [1] J. Ling et al., "Building data-driven models with microstructural
   images: Generalization and interpretability", Materials Discovery 10
   (2017) 19-28.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ..exceptions import InputError

__all__ = ["DEFAULT_MODELS", "MODELS", "TASKS", "check_models", "macro_f1", "make_model",
           "model_name"]

#: What a study or a model can learn: class labels, or one number per image.
TASKS = ("classification", "regression")

#: Every model name the study knows, with what it is. ``"rf"`` is the paper's.
MODELS = {
    "rf": "random forest, n_estimators trees (the paper's model; 400 by default)",
    "rf-balanced": "the same forest with class_weight='balanced' (imbalanced classes)",
    "logreg": "StandardScaler + LogisticRegressionCV, C chosen by inner CV on macro F1",
    "logreg-balanced": "the same logistic regression with class_weight='balanced'",
    "ridge": "StandardScaler + RidgeCV, alpha chosen by efficient leave-one-out (regression)",
}

#: The study's default: the paper's forest alone, so that the paper's tables and
#: figures come out unchanged and a default study costs what it always did.
DEFAULT_MODELS = ("rf",)

#: Regularization strengths the logistic regression tries. Standardized CNN
#: features are many (up to 131,328 Gram features) and correlated, so the useful
#: C is small; 1e-5 .. 10 covers what the real data sets chose.
LOGREG_CS = tuple(np.logspace(-5, 1, 7))
RIDGE_ALPHAS = tuple(np.logspace(-2, 6, 9))

_CLASSIFIERS = ("rf", "rf-balanced", "logreg", "logreg-balanced")
_REGRESSORS = ("rf", "ridge")
#: Parameters that change how fast or how a model is seeded, not what it is: a
#: model that differs from a registry model only in them carries its name.
_RUN_PARAMS = {"n_estimators", "n_jobs", "random_state", "verbose", "cv"}


def macro_f1(y_true, y_pred, *, labels=None, sample_weight=None):
    """Macro F1, the logistic regression's inner score (no ``pos_label``).

    :func:`sklearn.metrics.f1_score` with ``average="macro"``. Its signature
    has no ``pos_label`` on purpose: for two classes ``LogisticRegressionCV``
    passes one to any score function that takes it, which macro F1 then
    ignores with a warning per fold and C (and the ``"f1_macro"`` string fails
    outright in scikit-learn 1.9). ``labels`` is kept: it passes the classes,
    so a fold whose test part lacks one still averages over all of them.

    The fitted model keeps its scorer, so a model file holds this function by
    name: :data:`sklearn_cnntexture.model.file.TRUSTED_TYPES` lists it.

    Parameters
    ----------
    y_true, y_pred : array-like
    labels : array-like or None
    sample_weight : array-like or None

    Returns
    -------
    score : float
    """
    return f1_score(y_true, y_pred, labels=labels, average="macro",
                    sample_weight=sample_weight)


def _inner_cv(groups, random_state):
    # With groups, the regularization is chosen on folds that keep each
    # physical sample whole too (the groups reach it through scikit-learn's
    # metadata routing, which Study.fit enables); otherwise stratified folds.
    if groups:
        return StratifiedGroupKFold(3, shuffle=True, random_state=random_state)
    return StratifiedKFold(3, shuffle=True, random_state=random_state)


@validate_params(
    {
        "model": [str, HasMethods(["fit"])],
        "task": [StrOptions(set(TASKS))],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "groups": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_model(model="rf", task="classification", *, n_estimators=400, n_jobs=None,
               random_state=0, groups=False):
    """The estimator of a model name (see :data:`MODELS`), or a clone of a given one.

    The one place a model is built from a name: the study's grid, ``fit``'s
    pipeline and ``explain``'s forest all come from here, so ``"rf"`` is the
    same forest everywhere.

    Parameters
    ----------
    model : str or estimator, default="rf"
        A name of :data:`MODELS`, or any scikit-learn classifier (regressor for
        regression), cloned.
    task : {"classification", "regression"}, default="classification"
    n_estimators : int, default=400
        Trees of the forests.
    n_jobs : int or None, default=None
        Cores of the model.
    random_state : int, default=0
        Seeds the forests and the inner folds.
    groups : bool, default=False
        The study has groups: the logistic regression's inner folds keep them
        whole (the groups must be routed to it; :class:`~sklearn_cnntexture.Study` does).

    Returns
    -------
    estimator : estimator

    Examples
    --------
    >>> from sklearn_cnntexture.study.models import make_model, model_name
    >>> model = make_model("rf-balanced", n_estimators=10)
    >>> model.class_weight, model_name(model)
    ('balanced', 'rf-balanced')
    """
    if not isinstance(model, str):
        return clone(model)
    names = _CLASSIFIERS if task == "classification" else _REGRESSORS
    if model not in names:
        raise InputError(f"unknown model {model!r} for {task}: choose among {list(names)}, "
                         "or pass a scikit-learn estimator")
    if model.startswith("rf"):
        forest = RandomForestClassifier if task == "classification" else RandomForestRegressor
        extra = {"class_weight": "balanced"} if model == "rf-balanced" else {}
        return forest(n_estimators=n_estimators, n_jobs=n_jobs, random_state=random_state,
                      **extra)
    if model == "ridge":
        return Pipeline([("scale", StandardScaler()),
                         ("ridge", RidgeCV(alphas=list(RIDGE_ALPHAS)))])
    logreg = LogisticRegressionCV(
        Cs=list(LOGREG_CS), l1_ratios=(0.0,), cv=_inner_cv(groups, random_state),
        # Not scoring="f1_macro" nor f1_score: see macro_f1, which is the same score.
        scoring=make_scorer(macro_f1), max_iter=300, n_jobs=n_jobs,
        random_state=random_state,
        class_weight="balanced" if model == "logreg-balanced" else None,
        use_legacy_attributes=False,
    )
    return Pipeline([("scale", StandardScaler()), ("logreg", logreg)])


def _identity(value):
    """What a value is, ignoring run parameters (trees, cores, seeds, inner folds)."""
    if isinstance(value, BaseEstimator):
        params = value.get_params(deep=False)
        return (type(value).__name__, tuple(
            (key, _identity(params[key])) for key in sorted(params) if key not in _RUN_PARAMS))
    if isinstance(value, (list, tuple)):
        return tuple(_identity(v) for v in value)
    return repr(value)


@validate_params({"estimator": [HasMethods(["fit"])]}, prefer_skip_nested_validation=True)
def model_name(estimator):
    """The name of a model in the study's table.

    A registry name (:data:`MODELS`) when the estimator is that model, whatever
    its number of trees, cores, seed or inner folds; otherwise its class name
    (the last step's for a pipeline).

    Parameters
    ----------
    estimator : estimator

    Returns
    -------
    name : str
    """
    identity = _identity(estimator)
    for task, names in (("classification", _CLASSIFIERS), ("regression", _REGRESSORS)):
        for name in names:
            if _identity(make_model(name, task)) == identity:
                return name
    last = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    return type(last).__name__


@validate_params(
    {
        "models": [list, tuple, str, HasMethods(["fit"])],
        "task": [StrOptions(set(TASKS))],
    },
    prefer_skip_nested_validation=True,
)
def check_models(models, task="classification"):
    """Refuse, in one line, a models list the study cannot tell apart or fit.

    Parameters
    ----------
    models : sequence of str or estimator
        At least one; names from :data:`MODELS` for ``task``.
    task : {"classification", "regression"}

    Returns
    -------
    names : list of str
        The table's name of each model.
    """
    if isinstance(models, (str, BaseEstimator)):
        models = [models]
    models = list(models)
    if not models:
        raise InputError(f"models is empty: give at least one of {list(MODELS)}")
    names = [model_name(make_model(m, task)) for m in models]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"models {repeated} appear more than once: the table could not "
                         "tell their rows apart")
    return names
