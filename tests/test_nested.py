"""Nested CV of the whole selection: no outer test image reaches the selection; groups kept."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_cnntexture import MeanPool, VGGLayerTransformer
from sklearn_cnntexture.report import study_summary
from sklearn_cnntexture.study import Study, make_study, nested_study, study_config

#: Every fit and every prediction of a Memorizer, in order: (fitted keys, predicted keys).
LOG = []


def _key(row):
    return np.round(np.asarray(row, dtype=np.float64), 6).tobytes()


class Memorizer(ClassifierMixin, BaseEstimator):
    """Remembers the label of every row it was fitted on; guesses the first class otherwise.

    It scores perfectly on a test image only if that image was in its fit: a
    deliberately leaking model. Each fit and prediction is logged with the rows' keys.
    """

    def fit(self, X, y):
        self.memory_ = {_key(row): label for row, label in zip(X, y)}
        self.classes_ = np.unique(y)
        LOG.append(("fit", set(self.memory_)))
        return self

    def predict(self, X):
        keys = [_key(row) for row in X]
        LOG.append(("predict", set(keys)))
        return np.array([self.memory_.get(key, self.classes_[0]) for key in keys])


def images(n_per_class, n_classes=3, size=24, seed=0):
    """Noise images, every one distinct (so features identify images), labels by block."""
    rng = np.random.default_rng(seed)
    X = [rng.random((size, size)).astype(np.float32) for _ in range(n_per_class * n_classes)]
    return X, np.repeat([f"c{k}" for k in range(n_classes)], n_per_class)


def features_of(X, layer, cache):
    vgg = VGGLayerTransformer(layer, weights=None, random_state=0, cache=cache)
    return MeanPool().fit_transform(vgg.transform(X))


def image_index(X, cache, layers):
    """Map every feature row of every candidate layer back to its image."""
    index = {}
    for layer in layers:
        for i, row in enumerate(features_of(X, layer, cache)):
            index[_key(row)] = i
    return index


def test_nested_cv_never_lets_an_outer_test_image_into_the_selection(tmp_path):
    X, y = images(6)
    cache = str(tmp_path)
    search = make_study(vgg=VGGLayerTransformer(weights=None, random_state=0, cache=cache),
                        layers=["C1_2", "C2_2"], encoders=["mean"], raw_image=False,
                        union=False, n_repeats=1, models=[Memorizer()])
    LOG.clear()
    nested = nested_study(search, X, y, n_splits=3)
    # A model that sees an outer test image in its fit would score 1 on it: it scored
    # what guessing one class scores (macro F1 of one class of three, a third right).
    assert nested.scores.max() < 0.2
    # The same leaking model, scored on its own training images, is perfect: the test
    # above would catch a leak.
    leak = search.estimator.set_params(encode=MeanPool(), vgg__layers="block1_conv2")
    assert leak.fit(X, y).score(X, y) == 1.0
    LOG.pop(), LOG.pop()
    # Per outer fold: 2 candidates x 3 inner folds (fit, predict), then the refit and
    # the outer prediction. No fit of the fold's selection holds one of its test images.
    index = image_index(X, cache, ["block1_conv2", "block2_conv2"])
    per_fold = 2 * 3 * 2 + 2
    assert len(LOG) == 3 * per_fold
    for k, test in enumerate(nested.test_indices):
        chunk = LOG[k * per_fold:(k + 1) * per_fold]
        fitted = {index[key] for kind, keys in chunk if kind == "fit" for key in keys}
        assert not fitted & set(test.tolist())
        assert {index[key] for key in chunk[-1][1]} == set(test.tolist())  # outer prediction
    assert nested.winners and all("Memorizer" in w for w in nested.winners)
    assert nested.time > 0 and "3 outer folds" in nested.description


class GroupSpy(Memorizer):
    """A memorizer whose predictions check that no image of a fitted group is predicted."""

    groups_of = {}
    violations = []

    def predict(self, X):
        seen = {GroupSpy.groups_of[key] for key in self.memory_}
        asked = {GroupSpy.groups_of[_key(row)] for row in X}
        if seen & asked:
            GroupSpy.violations.append(seen & asked)
        return super().predict(X)


def test_nested_cv_keeps_groups_whole_in_inner_and_outer_folds(tmp_path):
    X, y = images(12)
    groups = np.repeat(np.arange(12), 3)  # 4 samples per class, 3 micrographs each
    cache = str(tmp_path)
    index = image_index(X, cache, ["block1_conv2"])
    GroupSpy.groups_of = {key: groups[i] for key, i in index.items()}
    GroupSpy.violations = []
    search = make_study(vgg=VGGLayerTransformer(weights=None, random_state=0, cache=cache),
                        layers=["C1_2"], encoders=["mean"], raw_image=False, union=False,
                        n_repeats=1, groups=True, models=[GroupSpy()])
    LOG.clear()
    nested = nested_study(search, X, y, groups=groups, n_splits=2)
    assert "grouped" in nested.description
    assert sum(kind == "predict" for kind, _ in LOG) == 2 * (2 + 1)  # inner folds + outer
    assert GroupSpy.violations == []  # no predicted image's group was ever in the fit
    for test in nested.test_indices:
        train = np.setdiff1d(np.arange(len(X)), test)
        assert not set(groups[test]) & set(groups[train])


def test_a_nested_study_reports_the_number_to_use(tmp_path):
    X, labels = images(5)
    rng = np.random.default_rng(1)
    # Stripes make the classes learnable, so the selection has a real winner.
    X = [x * 0.3 + 0.7 * np.sin((0.3 + 0.5 * int(lab[1])) * np.arange(24))[None, :]
         + 0.05 * rng.random((24, 24)) for x, lab in zip(X, labels)]
    result = Study(VGGLayerTransformer(weights=None, random_state=0, cache=str(tmp_path)),
                   layers=["C1_2"], encoders=["mean", "max"], raw_image=False, n_repeats=1,
                   n_estimators=10, models=["rf", "rf-balanced"], nested=True).fit(X, labels)
    nested = result.nested_
    assert len(nested.scores) == 3 and np.isclose(nested.mean, nested.scores.mean())
    estimate = study_config(result)["nested_estimate"]
    assert estimate["scores"] == pytest.approx(nested.scores.tolist())
    summary = study_summary(result)
    assert "Number to report" in summary and f"{nested.mean:.3f}" in summary
    assert "optimistic" in summary and "s)" in summary
