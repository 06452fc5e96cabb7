"""Synthetic micrographs for the tests: stripes whose frequency tells the class.

One home for the texture several test files draw their classes from: vertical
stripes at ``frequency`` radians per pixel, a random phase, and noise, drawn
from ``rng`` in that order (so a fixture's images stay the same whichever file
draws them).
"""

import numpy as np


def striped(rng, frequency, size=32, *, mean=128.0, amplitude=80.0, noise=20.0,
            dtype=np.uint8):
    """A ``size`` x ``size`` gray image of vertical stripes with noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the phase, then the noise.
    frequency : float
        Radians per pixel across the stripes.
    size : int
    mean, amplitude, noise : float
        Intensity of the image's middle, of the stripes, and the range of the
        uniform noise: 128, 80, 20 for 8-bit images; 0.5, 0.3, 0.1 for floats.
    dtype : numpy dtype

    Returns
    -------
    ndarray of shape (size, size)
    """
    x = np.arange(size)
    stripes = np.sin(frequency * x[None, :] + rng.random() * 6) * np.ones((size, 1))
    return (mean + amplitude * stripes + noise * rng.random((size, size))).astype(dtype)


def float_striped(rng, frequency, size=32):
    """:func:`striped` as float32 intensities around 0.5."""
    return striped(rng, frequency, size, mean=0.5, amplitude=0.3, noise=0.1, dtype=np.float32)
