"""Small real data sets shipped with the package."""

import csv
import importlib.resources
import pathlib
import re

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_uhcs_sample"]


def _sample_dir():
    root = importlib.resources.files("sklearn_cnntexture") / "data" / "uhcs_sample"
    # Absolute file paths are only meaningful for a package on disk; a
    # zipped install would need the files extracted first.
    if not isinstance(root, pathlib.Path) or not root.is_dir():
        raise FileNotFoundError(
            f"the UHCS sample is not installed at '{root}'; the package data "
            "'data/uhcs_sample/**' is missing. Reinstall sklearn-cnntexture from "
            "a wheel or an unzipped source tree."
        )
    return root


def _natural_key(relative_path):
    label, name = relative_path.split("/", 1)
    parts = re.split(r"(\d+)", name)
    return label, [int(p) if p.isdigit() else p for p in parts]


def _read_labels(folder):
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = [(row["path"], row["label"]) for row in csv.DictReader(f)]
    rows.sort(key=lambda row: _natural_key(row[0]))
    missing = [p for p, _ in rows if not (folder / p).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} image(s) listed in '{folder / 'labels.csv'}' are missing, "
            f"e.g. '{missing[0]}'"
        )
    return rows


def load_uhcs_sample(*, return_X_y=False, as_frame=False):
    """Load a 36-image sample of the UHCS steel micrographs (3 classes).

    Scanning electron micrographs of ultrahigh carbon steel, 12 per class:
    network, pearlite and spheroidite; 8-bit grayscale JPEGs of 645 x 475
    pixels. The images are files; pass `filenames` to a transformer that
    reads paths. They are licensed CC BY 3.0 US: cite DeCost et al.,
    Integrating Materials and Manufacturing Innovation 6, 197-205 (2017).
    See `DESCR` for the source, selection rule and a caveat on the
    'pearlite' class (it includes pearlite+spheroidite micrographs).

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, also build a pandas DataFrame with columns ``path`` and
        ``label`` (requires pandas). With ``return_X_y=True``, return the two
        columns as pandas Series instead of arrays.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with attributes:

        filenames : numpy.ndarray of str, shape (36,)
            Absolute paths of the images, sorted by class, then in natural
            file order (``micrograph2`` before ``micrograph10``).
        target : numpy.ndarray of str, shape (36,)
            Class name of each image.
        target_names : list of str
            The sorted class names.
        frame : pandas.DataFrame of shape (36, 2) or None
            Columns ``path`` and ``label``; only when ``as_frame=True``.
        DESCR : str
            The sample's README: source, license, citation and caveats.
    (filenames, target) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from sklearn_cnntexture.datasets import load_uhcs_sample
    >>> data = load_uhcs_sample()
    >>> len(data.filenames)
    36
    >>> data.target_names
    ['network', 'pearlite', 'spheroidite']
    >>> data.target[:2].tolist()
    ['network', 'network']
    """
    folder = _sample_dir()
    rows = _read_labels(folder)
    filenames = np.array([str(folder.joinpath(*p.split("/"))) for p, _ in rows])
    target = np.array([label for _, label in rows])
    frame = None
    if as_frame:
        import pandas as pd  # optional dependency, only needed here

        frame = pd.DataFrame({"path": filenames, "label": target})
        if return_X_y:
            return frame["path"], frame["label"]
    if return_X_y:
        return filenames, target
    return Bunch(
        filenames=filenames,
        target=target,
        target_names=sorted(set(target.tolist())),
        frame=frame,
        DESCR=(folder / "README.txt").read_text(encoding="utf-8"),
    )
