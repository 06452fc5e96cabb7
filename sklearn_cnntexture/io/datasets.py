"""Image data sets: a user's labelled folder or CSV file, and the shipped UHCS sample.

The loaders hand on file paths, never pixels: a transformer reads each
image when it needs it, so a pipeline streams through a data set of any
size.

Outputs are never data. Every folder the library writes (a study, an
explanation, a cache) is marked with a file named :data:`OUTPUT_MARKER`
(:func:`mark_output_folder`); :func:`load_image_dataset` skips a class
folder holding it, with a warning, and refuses a data folder holding it.
:func:`is_inside` tells whether an output folder would land inside a data
folder, so that callers can refuse it up front.
"""

import csv
import importlib.metadata
import importlib.resources
import math
import os
import pathlib
import warnings
from collections import defaultdict

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ..exceptions import InputError
from ._pixels import DataWarning
from ._read import IMAGE_SUFFIXES, check_no_broken_links, image_size, list_image_files
from .records import PIXEL_SIZE_COLUMN

__all__ = [
    "OUTPUT_MARKER",
    "is_inside",
    "load_image_dataset",
    "load_images_to_predict",
    "load_uhcs_sample",
    "mark_output_folder",
]

#: Name of the file that marks a folder written by this library (see
#: :func:`mark_output_folder`). A dot file, so that listings of images skip it.
OUTPUT_MARKER = ".cnntexture-output"

_LAYOUT = (
    "expected a folder with one sub-folder per class and the images directly inside "
    "each (e.g. data/network/img1.png), or a .csv file with a 'path' column and a "
    "'label' (classes) or 'target' (numbers) column"
)
_N_NAMED = 5  # how many offending files or folders an error message lists

# What a data folder may hold besides its images, skipped without a word:
# documents, and the metadata that microscopes (a Hitachi SEM's .txt beside
# each image, a Zeiss .xml) and operating systems write. Anything else that
# is not read, a file of another image format or a folder inside a class
# folder, is named in one warning: an image is never dropped silently.
_DOCUMENT_SUFFIXES = (".txt", ".md", ".rst", ".csv", ".tsv", ".json", ".xml", ".yaml", ".yml",
                      ".ini", ".log", ".pdf", ".html", ".hdr", ".db")
_SYSTEM_FILES = ("thumbs.db", "ehthumbs.db", "desktop.ini")


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


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def mark_output_folder(path):
    """Create `path` if needed and mark it as written by this library, not data.

    Writes the file :data:`OUTPUT_MARKER` into it, a few lines of text
    saying which version of sklearn-cnntexture wrote the folder and that it
    is not data. :func:`load_image_dataset` skips a class folder that holds
    the marker (with a warning), so that a study written inside a data
    folder is never read back as a class of images. Call it on every
    output folder the library creates (study, explain, cache).

    Parameters
    ----------
    path : str or os.PathLike
        The output folder; it and its parents are created if missing.

    Returns
    -------
    pathlib.Path
        `path`, as a Path.

    Raises
    ------
    FileExistsError
        If `path` exists and is not a folder.

    See Also
    --------
    is_inside : to refuse an output folder inside the data folder up front.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_cnntexture.io.datasets import OUTPUT_MARKER, mark_output_folder
    >>> out = mark_output_folder(pathlib.Path(tempfile.mkdtemp()) / "study")
    >>> (out / OUTPUT_MARKER).is_file()
    True
    """
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / OUTPUT_MARKER).write_text(
        f"This folder was written by sklearn-cnntexture {_version()} (a study, an "
        "explanation or a cache).\nIt is not data: load_image_dataset never reads it as "
        "a class of images.\n",
        encoding="utf-8",
    )
    return path


def _version():
    try:
        return importlib.metadata.version("sklearn-cnntexture")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "(version unknown: not installed)"


@validate_params(
    {"path": [str, os.PathLike], "folder": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def is_inside(path, folder):
    """Whether `path` is `folder` itself or lies anywhere below it.

    Both are made absolute and symbolic links are followed (a path need not
    exist: its existing part is resolved), so a link into the data folder,
    or ``data/../data/out``, is recognised. Use it to refuse an output or
    cache folder inside a data folder before writing anything.

    Parameters
    ----------
    path : str or os.PathLike
        E.g. the output folder.
    folder : str or os.PathLike
        E.g. the data folder (for a CSV data set, the CSV file's folder).

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn_cnntexture.io.datasets import is_inside
    >>> is_inside("data/study", "data"), is_inside("data", "data"), is_inside("study", "data")
    (True, True, False)
    """
    path, folder = pathlib.Path(path).resolve(), pathlib.Path(folder).resolve()
    return path == folder or folder in path.parents


def _some(items):
    """Quote the first few of `items` for an error message."""
    named = ", ".join(f"'{item}'" for item in items[:_N_NAMED])
    return named + (f" and {len(items) - _N_NAMED} more" if len(items) > _N_NAMED else "")


def _is_skipped(folder):
    # Hidden folders, and tool folders such as __MACOSX or __pycache__, are
    # never classes.
    return folder.name.startswith((".", "__"))


def _class_folders(folder):
    """The class sub-folders of `folder`, without the ones this library wrote."""
    entries = [p for p in folder.iterdir() if not _is_skipped(p)]
    check_no_broken_links(entries, folder)  # a class folder behind a broken link
    class_dirs = sorted((p for p in entries if p.is_dir()), key=lambda p: p.name)
    outputs = [d for d in class_dirs if (d / OUTPUT_MARKER).exists()]
    if outputs:
        warnings.warn(
            f"skipping {_some([d.name for d in outputs])} in '{folder}': written by "
            f"sklearn-cnntexture (it holds '{OUTPUT_MARKER}'), so output, not a class of "
            "images; keep outputs out of the data folder",
            UserWarning,
            # load_image_dataset's caller, above its @validate_params wrapper.
            stacklevel=5,
        )
    return [d for d in class_dirs if d not in outputs]


def _is_quiet(entry):
    """Whether an entry of a data folder that is not an image may be skipped without a word."""
    name = entry.name.lower()
    if name.startswith((".", "__")) or name in _SYSTEM_FILES or name.startswith("readme"):
        return True
    return entry.is_file() and entry.suffix.lower() in _DOCUMENT_SUFFIXES


def _not_read(folder, *, folders=True):
    """Entries of an image folder that are not read and not quietly skipped (see _is_quiet)."""
    skipped = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            if folders and not (entry / OUTPUT_MARKER).exists() and not _is_quiet(entry):
                skipped.append(entry)  # a nested folder: its images are not read
        elif entry.suffix.lower() not in IMAGE_SUFFIXES and not _is_quiet(entry):
            skipped.append(entry)
    return skipped


def _warn_skipped(skipped, root, stacklevel):
    """One warning naming what image folders hold that is not read: no image dropped unseen."""
    if not skipped:
        return
    kinds = defaultdict(int)
    for entry in skipped:
        kinds["folder" if entry.is_dir() else entry.suffix.lower() or "no suffix"] += 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    names = [entry.relative_to(root).as_posix() + ("/" if entry.is_dir() else "")
             for entry in skipped]
    warnings.warn(
        f"skipped {len(skipped)} {'entry' if len(skipped) == 1 else 'entries'} of '{root}' "
        f"that {'is' if len(skipped) == 1 else 'are'} not read as images ({summary}): "
        f"{_some(names)}. Images are read from {', '.join(IMAGE_SUFFIXES)} files directly "
        "inside each image folder; convert other formats, move images out of nested folders",
        DataWarning,
        stacklevel=stacklevel + 1,
    )


def _columns_from_folder(folder):
    """Read a folder-per-class layout into {"path": [...], "label": [...]}."""
    if (folder / OUTPUT_MARKER).exists():
        raise InputError(
            f"'{folder}' was written by sklearn-cnntexture (it holds '{OUTPUT_MARKER}'): it "
            f"is an output folder, not a data set; {_LAYOUT}"
        )
    loose = list_image_files(folder)
    if loose:
        raise InputError(
            f"'{folder}' has image files directly inside it ({_some([p.name for p in loose])}); "
            f"{_LAYOUT}. Move the images into one folder per class, e.g. "
            f"'{folder / '<class>' / loose[0].name}', or list them with their labels in a CSV "
            "file."
        )
    class_dirs = _class_folders(folder)
    if not class_dirs:
        found = sorted(p.name for p in folder.iterdir())
        what = f"found only {_some(found)}" if found else "the folder is empty"
        raise InputError(f"'{folder}' has no class sub-folders ({what}); {_LAYOUT}")
    files = {d: list_image_files(d) for d in class_dirs}
    empty = [str(d) for d in class_dirs if not files[d]]
    if empty:
        raise InputError(
            f"class folder(s) with no image files: {_some(empty)}. Every sub-folder of "
            f"'{folder}' is a class and must hold images ({', '.join(IMAGE_SUFFIXES)}) "
            "directly inside it; remove other folders or hide them (a name starting with '.')."
        )
    # Files beside the class folders too: an image of another format there is not read.
    skipped = _not_read(folder, folders=False) + [e for d in class_dirs for e in _not_read(d)]
    # The caller of load_image_dataset, above its @validate_params wrapper.
    _warn_skipped(skipped, folder, stacklevel=4)
    columns = {"path": [], "label": []}
    for class_dir, paths in files.items():
        columns["path"] += [str(p) for p in paths]
        columns["label"] += [class_dir.name] * len(paths)
    return columns


_CSV_LAYOUT = (
    "its first line must be a header with a 'path' column and a 'label' (class names) or "
    "'target' (numbers) column, then one line per image"
)


def _read_csv(csv_path):
    """Return the stripped column names and (line number, row dict) pairs of a CSV file."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:  # -sig: Excel's BOM
            text = f.read()
    except UnicodeDecodeError as exc:
        raise InputError(
            f"CSV file '{csv_path}' is not UTF-8 text ({exc}); save it as UTF-8"
        ) from exc
    if not text.strip():
        raise InputError(f"CSV file '{csv_path}' is empty; {_CSV_LAYOUT}")
    lines = text.splitlines(keepends=True)
    if not lines[0].strip():
        raise InputError(f"CSV file '{csv_path}' starts with a blank line; {_CSV_LAYOUT}")
    reader = csv.DictReader(lines)
    names = [name.strip() for name in reader.fieldnames]
    reader.fieldnames = names
    rows = [(reader.line_num, row) for row in reader]
    return names, rows


def _check_csv_columns(csv_path, names, labelled=True, target=None, groups=None):
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InputError(f"'{csv_path}': columns {_some(duplicated)} appear more than once")
    for option, column in (("target", target), ("groups", groups)):
        if column is not None and column not in names:
            raise InputError(f"'{csv_path}' has no column {column!r} (the {option}); found "
                             f"columns: {names}")
    if "path" not in names:
        raise InputError(f"'{csv_path}' needs a 'path' column (the image files, relative to "
                         f"the CSV's folder or absolute); found columns: {names}")
    if target is not None:
        return
    if not labelled:  # images to predict: labels are welcome, not needed
        if "label" in names and "target" in names:
            raise InputError(f"'{csv_path}' has both a 'label' and a 'target' column: name "
                             f"the one to score with target; found columns: {names}")
        return
    if ("label" in names) == ("target" in names):
        raise InputError(
            f"'{csv_path}' needs a 'path' column and either a 'label' column (class names) or "
            "a 'target' column (numbers, for regression), or the name of the column to "
            f"predict (target); found columns: {names}"
        )


def _target_column(names, target):
    """The CSV column that holds the target, and the key it gets in the columns."""
    if target is not None:
        return target
    for column in ("label", "target"):
        if column in names:
            return column
    return None


def _task_of_column(csv_path, rows, column, task):
    """Classification for class names, regression where every cell is a number."""
    if task is not None:
        return task
    if column == "label":
        return "classification"
    if column == "target":
        return "regression"
    cells = [(row.get(column) or "").strip() for _, row in rows]
    try:
        numbers = [float(cell) for cell in cells if cell]
    except ValueError:
        return "classification"
    return "regression" if all(math.isfinite(n) for n in numbers) else "classification"


def _cell(csv_path, line, row, column):
    value = (row.get(column) or "").strip()  # None where the row is short
    if not value:
        raise InputError(f"'{csv_path}', line {line}: the '{column}' cell is empty")
    return value


def _number(csv_path, line, value, column="target"):
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputError(
            f"'{csv_path}', line {line}: {column} {value!r} is not a finite number; a "
            "regression target holds numbers. For class names use a 'label' column, or "
            "ask for classification (task)."
        )
    return number


def _pixel_size(csv_path, line, row):
    """A row's ``pixel_size`` cell: micrometres per pixel, or None where it is empty."""
    value = (row.get("pixel_size") or "").strip()
    if not value:
        return None  # the file's metadata, or the data set's value, decides
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"'{csv_path}', line {line}: pixel_size {value!r} is not a positive "
                         "number of micrometres per pixel")
    return number


def _columns_from_csv(csv_path, labelled=True, target=None, groups=None, task=None):
    """Read a CSV data set into columns path, label or target, group and pixel_size if present.

    ``target`` and ``groups`` name the columns that hold them (default:
    ``label`` or ``target``, and ``group``); the target is ``label`` (class
    names) for classification, ``target`` (numbers) for regression, the task
    following ``task`` or, for a named column, whether every cell is a number.
    """
    names, rows = _read_csv(csv_path)
    _check_csv_columns(csv_path, names, labelled, target, groups)
    if not rows:
        raise InputError(
            f"CSV file '{csv_path}' has a header but no rows; add one line per image"
        )
    source = _target_column(names, target)
    key = None
    if source is not None:
        key = ("target" if _task_of_column(csv_path, rows, source, task) == "regression"
               else "label")
    group_source = groups if groups is not None else ("group" if "group" in names else None)
    # The CSV's column for each key this library reads.
    wanted = {"path": "path", **({key: source} if key else {}),
              **({"group": group_source} if group_source else {})}
    columns = {column: [] for column in wanted}
    lines = defaultdict(list)  # path -> the lines listing it, to report duplicates
    for line, row in rows:
        cells = {key: _cell(csv_path, line, row, column) for key, column in wanted.items()}
        # Relative paths are relative to the CSV, so the data set can be moved.
        path = os.path.abspath(csv_path.parent / cells["path"])
        lines[path].append(line)
        cells["path"] = path
        if "target" in cells:
            cells["target"] = _number(csv_path, line, cells["target"], wanted["target"])
        for column in wanted:
            columns[column].append(cells[column])
        if "pixel_size" in names:
            columns.setdefault("pixel_size", []).append(_pixel_size(csv_path, line, row))
    # Every other column travels with the images as data about them (processing
    # records, magnification, ...): numbers where every filled cell is one.
    for name in names:
        if name not in columns and name not in wanted.values() and name:
            columns[name] = _data_column([row.get(name) for _, row in rows])
    duplicates = [f"{path} (lines {', '.join(map(str, found))})"
                  for path, found in lines.items() if len(found) > 1]
    if duplicates:
        raise InputError(f"'{csv_path}' lists images more than once: {_some(duplicates)}")
    folders = [path for path in columns["path"] if os.path.isdir(path)]
    if folders:
        what = "is a folder, not an image" if len(folders) == 1 else "are folders, not images"
        raise InputError(f"{len(folders)} of the {len(rows)} paths listed in '{csv_path}' {what}: "
                         f"{_some(folders)}; list one image file per line")
    missing = [path for path in columns["path"] if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of the {len(rows)} images listed in '{csv_path}' are missing: "
            f"{_some(missing)} (relative paths are relative to the CSV's folder)"
        )
    return columns


def _data_column(cells):
    """A CSV column's cells: floats (NaN where empty) when every filled one is a number,
    else strings (None where empty)."""
    cells = [None if cell is None or not cell.strip() else cell.strip() for cell in cells]
    try:
        return [math.nan if cell is None else float(cell) for cell in cells]
    except ValueError:
        return cells


def _check_images(paths):
    """Open each file's header so that a bad file is reported now, not hours into a run."""
    problems = []
    for path in paths:
        try:
            image_size(path)
        except (OSError, ValueError) as exc:
            problems.append(str(exc))
    if problems:
        listed = "\n  ".join(problems[:_N_NAMED])
        more = f"\n  ... and {len(problems) - _N_NAMED} more" if len(problems) > _N_NAMED else ""
        raise InputError(
            f"{len(problems)} of the {len(paths)} files cannot be read as images:"
            f"\n  {listed}{more}"
        )


def _frame(columns):
    """The data set as X: one row per image, ``path`` first (see :mod:`.records`)."""
    import pandas as pd

    frame = pd.DataFrame(columns)
    if PIXEL_SIZE_COLUMN in frame:  # empty cells: the file's metadata decides
        frame[PIXEL_SIZE_COLUMN] = frame[PIXEL_SIZE_COLUMN].astype(float)
    return frame


@validate_params(
    {"source": [str, os.PathLike], "target": [str, None], "groups": [str, None],
     "task": [StrOptions({"classification", "regression"}), None],
     "check_files": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_image_dataset(source, *, target=None, groups=None, task=None, check_files=True):
    r"""Load a labelled image data set as file paths and targets.

    No pixels are read: transformers read each file when they need it, so
    pipelines stream through data sets of any size.

    Parameters
    ----------
    source : str or os.PathLike
        Either

        - a **folder** with one sub-folder per class, the images directly
          inside each (``data/network/a.png``, ``data/pearlite/b.tif``).
          Images are the files whose suffix is in
          :data:`~sklearn_cnntexture.io.IMAGE_SUFFIXES`. Skipped without a
          word: hidden files and folders, those starting with ``"__"``
          (``__MACOSX``), ``README`` files, ``Thumbs.db``, ``desktop.ini``
          and documents or metadata (``.txt``, ``.csv``, ``.json``,
          ``.xml``, ``.pdf``, ...). Anything else that is not read (a file of
          another format such as ``.webp``, a folder nested in a class
          folder) is named in one :class:`~sklearn_cnntexture.io.DataWarning`.
          A sub-folder this library wrote (it holds :data:`OUTPUT_MARKER`,
          e.g. a study saved inside the data folder) is skipped with a
          warning naming it: outputs are never read as data. Images must
          not sit next to the class folders. Or
        - a **CSV file** (``.csv``, UTF-8) with a header row and columns
          ``path`` (relative to the CSV's folder, or absolute), then either
          ``label`` (class names: classification) or ``target`` (numbers:
          regression), and optionally ``group`` (e.g. the sample each
          micrograph was taken from, for
          :class:`~sklearn.model_selection.GroupKFold`). Other columns are
          ignored, unless named by `target` or `groups`.

    target : str, optional
        The CSV column to predict (``"anneal_temperature"``,
        ``"cool_method"``): numbers are a regression target, anything else
        class names (see `task`). Default: ``label`` or ``target``.
    groups : str, optional
        The CSV column naming each image's group (the sample it was cut
        from), for grouped folds. Default: ``group`` if present.
    task : {"classification", "regression"}, optional
        What the target is; by default a named column of numbers is a
        regression target, ``label`` classes and ``target`` numbers. Whole
        numbers that are classes (a temperature setting, a batch) need
        ``task="classification"``.
    check_files : bool, default=True
        Open each file's header (not its pixels; about a millisecond per
        file) so that a file that is not an image, is empty or is a
        multi-page TIFF is reported now, by name, rather than in the middle
        of a long run. A file that is truncated after its header is only
        caught when it is read.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with attributes:

        filenames : numpy.ndarray of str, shape (n_images,)
            Absolute paths. Folder: classes in sorted order, then files in
            natural order (``img2`` before ``img10``). CSV: row order.
        target : numpy.ndarray, shape (n_images,)
            Class names (str) for classification, floats for regression.
        target_names : numpy.ndarray of str or None
            The sorted class names; None for regression.
        groups : numpy.ndarray of str or None
            The ``group`` column of a CSV file (or the one ``groups``
            names), else None.
        task : {"classification", "regression"}
            ``"regression"`` for a numeric target.
        frame : pandas.DataFrame
            The data set as ``X`` for the library's estimators
            (:mod:`sklearn_cnntexture.io.records`), one row per image:
            ``path``, ``label`` or ``target``, ``group`` if any, and every
            other column of a CSV file under its own name: ``pixel_size``
            (float; NaN where empty, which leaves the image's pixel size to
            its file), and data about each image such as processing records
            (float where every filled cell is a number, NaN where empty;
            else str, None where empty).
        source : str
            The absolute path of `source`.

        A single class, or classes with few images, are not errors here;
        check them against your cross-validation with
        ``np.unique(data.target, return_counts=True)``.

    Raises
    ------
    InvalidParameterError
        If `source` is not a path (a ``ValueError`` and a ``TypeError``).
    FileNotFoundError
        If `source` does not exist, if files listed in a CSV file are
        missing, or if a folder holds broken symbolic links among its class
        folders or images (the first few are named, as the CSV's).
    ValueError
        If the folder is empty, has no class sub-folders, has images next
        to its class folders, has a class folder without images, or is an
        output folder of this library (it holds :data:`OUTPUT_MARKER`); if the
        CSV file is empty, lacks the required columns (the columns found
        are listed), has an empty cell or a non-numeric target (the line
        is named), lists an image twice or lists folders; if `source` is a file other
        than ``.csv``; or, with ``check_files=True``, if files cannot be
        read as images (the first few are named, with the reason).

    Warns
    -----
    UserWarning
        Naming the sub-folders skipped because this library wrote them.
    DataWarning
        One, naming the files and folders skipped that might hold images
        (the first few, and a count by suffix).

    See Also
    --------
    load_uhcs_sample : a small real data set in this layout.
    mark_output_folder : how the library marks the folders it writes.

    Examples
    --------
    A folder with one sub-folder per class:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn_cnntexture.io.datasets import load_image_dataset
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label in ["pearlite", "network"]:
    ...     (root / label).mkdir()
    ...     for i in range(2):
    ...         Image.new("L", (8, 8)).save(root / label / f"img{i}.png")
    >>> data = load_image_dataset(root)
    >>> data.task, data.target_names.tolist()
    ('classification', ['network', 'pearlite'])
    >>> [pathlib.Path(f).relative_to(root).as_posix() for f in data.filenames]
    ['network/img0.png', 'network/img1.png', 'pearlite/img0.png', 'pearlite/img1.png']

    A CSV file with a numeric target and groups:

    >>> _ = (root / "hardness.csv").write_text(
    ...     "path,target,group\n"
    ...     "network/img0.png,412.5,sample-A\n"
    ...     "pearlite/img0.png,388,sample-B\n")
    >>> data = load_image_dataset(root / "hardness.csv")
    >>> data.task, data.target.tolist(), data.groups.tolist()
    ('regression', [412.5, 388.0], ['sample-A', 'sample-B'])
    >>> import shutil
    >>> shutil.rmtree(root)
    """
    path = pathlib.Path(os.path.abspath(source))
    if not path.exists():
        raise FileNotFoundError(f"data set source not found: '{path}'; {_LAYOUT}")
    if path.is_dir():
        if target is not None or groups is not None or task == "regression":
            raise InputError(f"'{path}' is a folder: its classes are its sub-folders; a "
                             "target or groups column needs a CSV data set")
        columns = _columns_from_folder(path)
    elif path.suffix.lower() == ".csv":
        columns = _columns_from_csv(path, target=target, groups=groups, task=task)
    else:
        raise InputError(f"data set source '{path}' is a file but not a .csv file; {_LAYOUT}")
    if check_files:
        _check_images(columns["path"])
    return _bunch(columns, str(path))


def _bunch(columns, source):
    regression = "target" in columns
    target = (np.array(columns["target"], dtype=np.float64) if regression
              else np.array(columns["label"], dtype=str))
    return Bunch(
        filenames=np.array(columns["path"], dtype=str),
        target=target,
        target_names=None if regression else np.unique(target),
        groups=np.array(columns["group"], dtype=str) if "group" in columns else None,
        task="regression" if regression else "classification",
        frame=_frame(columns),
        source=source,
    )


@validate_params(
    {"source": [str, os.PathLike], "target": [str, None], "check_files": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_images_to_predict(source, *, target=None, check_files=True):
    """Images to predict: one image, a flat folder, a folder of class folders, or a CSV.

    Like :func:`load_image_dataset`, but labels are optional: one image file,
    a folder with the images directly inside it (natural file order), or a
    CSV with a ``path`` column and no ``label`` give images without labels;
    a folder of class folders, or a CSV with ``label`` (or ``target``), give
    labels too, so that predictions can be scored.

    A folder is one or the other: one holding images directly inside it
    *and* sub-folders of images is refused, since either reading would drop
    images without a word. Files of a format that is not read, and folders
    nested in an image folder, are named in one :class:`~sklearn_cnntexture.io.DataWarning`
    (documents such as ``.txt`` or ``.csv`` beside the images, hidden files
    and ``README`` files are skipped silently), as in :func:`load_image_dataset`.

    Parameters
    ----------
    source : str or os.PathLike
        Image file, folder or ``.csv`` file.
    target : str, optional
        A CSV's column holding the labels to score the predictions with
        (default: ``label`` or ``target``, if present).
    check_files : bool, default=True
        Open each file's header now (see :func:`load_image_dataset`).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``filenames``, ``target`` (None without labels), ``task`` (None
        without labels), ``frame`` (as :func:`load_image_dataset`'s: ``path``
        and a CSV's other columns) and ``source``.

    Raises
    ------
    FileNotFoundError
        If `source` does not exist.
    ValueError
        If a folder holds both images and sub-folders of images, or is an
        output folder of this library; if `source` is a file that is neither
        an image (:data:`~sklearn_cnntexture.io.IMAGE_SUFFIXES`) nor a
        ``.csv``; and as :func:`load_image_dataset`.
    """
    path = pathlib.Path(os.path.abspath(source))
    if not path.exists():
        raise FileNotFoundError(f"images to predict not found: '{path}'")
    if target is not None and path.suffix.lower() != ".csv":
        raise InputError(f"'{path}' is not a CSV file: a target column needs one (a folder's "
                         "classes are its sub-folders)")
    if path.is_file():
        if path.suffix.lower() == ".csv":
            columns = _columns_from_csv(path, labelled=False, target=target)
            if "label" in columns or "target" in columns:
                return load_image_dataset(path, target=target, check_files=check_files)
            return _unlabelled(columns, path, check_files)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return _unlabelled({"path": [str(path)]}, path, check_files)
        raise InputError(f"'{path}' is neither an image file ({', '.join(IMAGE_SUFFIXES)}), a "
                         "folder of images or of class folders, nor a .csv file with a 'path' "
                         "column")
    if (path / OUTPUT_MARKER).exists():
        raise InputError(f"'{path}' was written by sklearn-cnntexture (it holds "
                         f"'{OUTPUT_MARKER}'): it is an output folder, not images")
    loose = list_image_files(path)
    if not loose:
        return load_image_dataset(path, check_files=check_files)
    entries = [p for p in path.iterdir() if not _is_skipped(p)]
    classes = [p.name for p in sorted(entries) if p.is_dir()
               and not (p / OUTPUT_MARKER).exists() and list_image_files(p)]
    if classes:
        raise InputError(
            f"'{path}' holds both images directly inside it ({_some([p.name for p in loose])}) "
            f"and folders of images ({_some(classes)}): reading either would leave the other "
            "out. Put the loose images in a folder of their own (or in their class folder), "
            "or list the images to predict in a CSV file with a 'path' column"
        )
    _warn_skipped(_not_read(path), path, stacklevel=3)  # above @validate_params' wrapper
    return _unlabelled({"path": [str(p) for p in loose]}, path, check_files)


def _unlabelled(columns, source, check_files):
    if check_files:
        _check_images(columns["path"])
    return Bunch(filenames=np.array(columns["path"], dtype=str), target=None, task=None,
                 frame=_frame(columns), source=str(source))


@validate_params(
    {"return_X_y": ["boolean"], "as_frame": ["boolean"]},
    prefer_skip_nested_validation=True,
)
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
    >>> from sklearn_cnntexture.io.datasets import load_uhcs_sample
    >>> data = load_uhcs_sample()
    >>> len(data.filenames)
    36
    >>> data.target_names
    ['network', 'pearlite', 'spheroidite']
    >>> data.target[:2].tolist()
    ['network', 'network']
    """
    folder = _sample_dir()
    # labels.csv is in load_image_dataset's CSV format, and in natural order.
    columns = _columns_from_csv(folder / "labels.csv")
    filenames = np.array(columns["path"], dtype=str)
    target = np.array(columns["label"], dtype=str)
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
