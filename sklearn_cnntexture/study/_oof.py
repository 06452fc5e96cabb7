"""The best configuration's out-of-fold predictions: which micrographs it gets wrong.

The study's table gives a mean score; a scientist next asks which images the
winner misclassifies and how sure it was. Each image is predicted once, by a
model fitted on the folds that do not hold it: the first repeat of the study's
own folds (same seed, so the same split as in the table), grouped when the
study was. The features come from the study's cache, so this costs one model
fit per fold, no forward pass.
"""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import cross_val_predict

from ..io import records
from ._cv import study_cv
from ._nested import routing_for

__all__ = ["out_of_fold_predictions"]


def out_of_fold_predictions(search, params, X, y, *, groups=None, task="classification",
                            n_splits=3, random_state=0):
    """Predict every image with the configuration ``params``, fitted without it.

    Parameters
    ----------
    search : GridSearchCV
        The study's search (its ``estimator`` is the pipeline the grid sets).
    params : dict
        The configuration's grid parameters (``Study.best_["params"]``).
    X : list of str or array-like of images
        The study's images, in its order.
    y : array-like of shape (n_images,)
        Labels or targets.
    groups : array-like or None, default=None
        Physical samples: a sample never spans training and test folds.
    task : {"classification", "regression"}, default="classification"
    n_splits : int, default=3
        The study's folds per repeat.
    random_state : int, default=0
        The study's seed: the folds are its first repeat.

    Returns
    -------
    predictions : pandas.DataFrame
        One row per image, in the order of ``X``: ``image`` (its path, or its
        index for in-memory images), ``fold``, ``true``, ``predicted``, and for
        a classifier one ``probability_<class>`` column per class.
    """
    y = np.asarray(y)
    cv = study_cv(task, n_splits=n_splits, n_repeats=1, groups=groups is not None,
                  random_state=random_state)
    fold = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(cv.split(X, y, groups)):  # seeded: the same folds below
        fold[test] = k
    pipeline = clone(search.estimator).set_params(**params)
    # The groups go where the search sends them: to the splitter, and to a model
    # with its own inner folds.
    routed = {} if groups is None else {"params": {"groups": groups}}
    images = records.images_of(X)
    table = pd.DataFrame({"image": [_name(x, i) for i, x in enumerate(images)], "fold": fold,
                          "true": y})
    with routing_for(groups):
        if task == "classification" and hasattr(pipeline, "predict_proba"):
            proba = cross_val_predict(pipeline, X, y, cv=cv, method="predict_proba", **routed)
            classes = np.unique(y)  # cross_val_predict orders columns so
            table["predicted"] = classes[proba.argmax(axis=1)]
            for k, label in enumerate(classes):
                table[f"probability_{label}"] = proba[:, k]
        else:
            table["predicted"] = cross_val_predict(pipeline, X, y, cv=cv, **routed)
    return table


def _name(item, index):
    return str(item) if isinstance(item, (str, bytes)) or hasattr(item, "__fspath__") else index
