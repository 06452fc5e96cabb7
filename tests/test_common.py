"""scikit-learn's whole estimator check suite, over every public estimator.

As in imbalanced-learn: the estimators are discovered from the package, given
tiny settings in one dict, and every expected failure is listed with its
reason. VGG estimators use seeded random weights: no download, no file.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_cnntexture

# scikit-learn's checks feed the transformer random floats (np.random * 100 and the
# like), not 0-1 intensities: the library's warning that they are far above VGG16's
# scale is right, and expected here (a thousand of them would bury the real ones).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*far above the 0-255 scale:sklearn_cnntexture.io.DataWarning")

# Tiny, fast settings. scikit-learn's checks feed 2-D arrays (n, width), which
# VGGLayerTransformer reads as one-pixel-high images: only the layers before
# the first pooling (block1) can take them.
SETTINGS = {
    "VGGLayerTransformer": dict(layers="block1_conv2", weights=None, random_state=0),
    "VLADEncoder": dict(n_words=2, random_state=0),
    # The generic checks feed arrays, which carry no table: the encoder alone. The
    # columns are tested with tables in test_columns.py.
    "WithColumns": dict(encoder=sklearn_cnntexture.MeanPool()),
    # A whole study, as small as it gets: one layer, one encoder, one repeat, 5 trees.
    "Study": dict(
        vgg=sklearn_cnntexture.VGGLayerTransformer(weights=None, random_state=0),
        layers=["block1_conv2"], encoders=["mean"], raw_image=False, n_splits=2,
        n_repeats=1, n_estimators=5,
    ),
}
#: Estimators whose every check runs the network, though their class does not say
#: so to conftest's tf marking: checked by their own test, marked tf.
NETWORK_ESTIMATORS = ("Study",)

# Each expected failure, with why it is a genuine limit rather than a bug.
STATELESS_IMAGES = (
    "VGGLayerTransformer is stateless and takes images of any size, so it has no "
    "fixed number of input features to record or check (like FunctionTransformer "
    "without validation)."
)
STUDY_IMAGES = (
    "A Study takes images of any size (each candidate's encoder makes its own number of "
    "features), so it has no fixed number of input features to record or check; it "
    "transforms and predicts nothing."
)
EXPECTED_FAILURES = {
    "Study": {
        "check_n_features_in": STUDY_IMAGES,
        "check_n_features_in_after_fitting": STUDY_IMAGES,
    },
    "VGGLayerTransformer": {
        "check_n_features_in": STATELESS_IMAGES,
        "check_n_features_in_after_fitting": STATELESS_IMAGES,
        "check_array_api_input": (
            "transform returns lazy Activations (computed batch by batch to bound "
            "memory), not an array of any array-API namespace; encoders turn them "
            "into arrays."
        ),
    },
}


def public_estimators():
    """Every estimator class that the package exports."""
    return sorted(
        (
            obj
            for obj in vars(sklearn_cnntexture).values()
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator)
        ),
        key=lambda cls: cls.__name__,
    )


def test_all_public_estimators_are_checked():
    names = {cls.__name__ for cls in public_estimators()}
    assert names == {
        "GramEncoder",
        "MaxPool",
        "MeanPool",
        "MultiLayerUnion",
        "Study",
        "VGGLayerTransformer",
        "VLADEncoder",
        "WithColumns",
    }


def checked(network):
    """The public estimators, made with their tiny settings: those of NETWORK_ESTIMATORS
    or the others."""
    return [cls(**SETTINGS.get(cls.__name__, {})) for cls in public_estimators()
            if (cls.__name__ in NETWORK_ESTIMATORS) == network]


def expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(checked(network=False), expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.tf
@parametrize_with_checks(checked(network=True), expected_failed_checks=expected_failures)
def test_sklearn_compatible_study(estimator, check):
    check(estimator)


def test_a_default_study_clones_unfitted():
    study = sklearn_cnntexture.Study()
    copy = clone(study)
    assert copy is not study and copy.get_params() == study.get_params()
    assert not hasattr(copy, "results_")
