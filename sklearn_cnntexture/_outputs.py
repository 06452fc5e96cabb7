"""Where a command's outputs may go, checked before any work.

An output never replaces an input: not the data (its folder, its CSV, the
images a CSV lists), not a model file, not a weights file, not a study
folder read back. An output folder never lies inside the data folder (later
runs would read it as a class of images) and never holds an input. Each
check creates nothing and raises ``ValueError`` in one line naming the
option and both paths (:class:`~sklearn_cnntexture.exceptions.InputError`).
"""

import os
from pathlib import Path

from .exceptions import InputError
from .io.datasets import is_inside

__all__ = ["check_not_input", "check_outputs", "check_writable"]


def check_writable(option, path, *, folder):
    """Refuse an output path that cannot be written (creates nothing).

    Parameters
    ----------
    option : str
        How the user named the path (``"--out"``).
    path : str or path
    folder : bool
        Whether the output is a folder (else a file).
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is an existing file, not a folder")
    if not folder and path.is_dir():
        raise InputError(f"{option} {path} is a folder; give a file name")
    ancestor = path if folder else path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{option} {path}: {ancestor} is a file, so it cannot hold a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: no permission to write in {ancestor}")


def _same(a, b):
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)  # hard links and symbolic links too
    return a.resolve() == b.resolve()


def check_not_input(option, path, inputs, *, folder, data_folder=None):
    """Refuse an output that is, holds, or lies inside one of the inputs.

    Parameters
    ----------
    option : str
        How the user named the output (``"--out"``).
    path : str or path
        The output (a file, or a folder the command writes into).
    inputs : iterable of (str, str or path or None)
        How each input is named and where it is: ``("DATA", "labels.csv")``,
        ``("MODEL", "steel.skops")``, ``("--study", "study/")``, ``("an image
        of DATA", "a.png")``. None entries are skipped.
    folder : bool
        Whether the output is a folder.
    data_folder : str or path, optional
        The folder whose sub-folders are read as classes: an output folder or
        file inside it is refused too.
    """
    path = Path(path)
    if data_folder is not None and is_inside(path, data_folder):
        raise InputError(
            f"{option} {path} is inside the data folder {data_folder}: later runs would read "
            "it as images of a class; choose a place outside the data"
        )
    for name, where in inputs:
        if where is None:
            continue
        where = Path(where)
        if _same(path, where):
            raise InputError(f"{option} {path} is {name} ({where}): an output never replaces "
                             "an input; choose another name")
        if where.is_dir() and is_inside(path, where):
            raise InputError(f"{option} {path} lies inside {name} ({where}), which this command "
                             "reads: choose a place outside it")
        if folder and is_inside(where, path):
            raise InputError(f"{option} {path} holds {name} ({where}), which this command "
                             "reads: an output folder is the command's own; choose another")


def check_outputs(outputs, inputs, *, data_folder=None, images=()):
    """Check every path a command will write, before any work.

    Parameters
    ----------
    outputs : iterable of (str, str or path, bool)
        How each output is named, where it goes, and whether it is a folder.
    inputs : iterable of (str, str or path or None)
        What the command reads (see :func:`check_not_input`).
    data_folder : str or path, optional
        The folder read as class sub-folders.
    images : iterable of str
        The images a CSV lists: no output may be one of them.
    """
    images = [("an image of DATA", path) for path in images]
    for option, path, folder in outputs:
        check_not_input(option, path, [*inputs, *images], folder=folder,
                        data_folder=data_folder)
        check_writable(option, path, folder=folder)
