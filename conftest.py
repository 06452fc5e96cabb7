"""Test-session settings that must be in place before scipy and TensorFlow load."""

import os

# scikit-learn runs its array-API estimator checks only when scipy's array API
# support is switched on, and scipy reads this once, at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# TensorFlow's C++ start-up lines (CUDA probing on CPU machines) drown test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
