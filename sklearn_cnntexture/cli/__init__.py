"""The ``cnntexture`` command: a thin face over the Python API.

- ``cnntexture info``: which weights sources work on this machine (useful on
  cluster nodes without internet), and the layers.
- ``cnntexture study DATA --out DIR``: the layer x encoder study (Ling et al.
  Figs. 6 and 7) as a table, figures and a summary.
- ``cnntexture featurize DATA --out FILE``: one row of features per image, as
  CSV or Parquet, for any other tool.
- ``cnntexture explain DATA --out DIR``: the textures a model relies on
  (Ling et al. Figs. 8-12) as figures, tables and a summary.
- ``cnntexture fit DATA --out MODEL``: the study's best configuration (or a
  given one) fitted on all of DATA, saved safely (skops) with its model card.
- ``cnntexture predict MODEL DATA --out predictions.csv``: one row per image;
  with labels also F1, accuracy and a confusion matrix; ``--explain N`` heat maps.
- ``cnntexture info MODEL``: a model file's card.

``DATA`` is a folder with one sub-folder of images per class, or a CSV of
``path,label`` (or ``path,target``, and optionally ``group``).

The options are :mod:`._parser`'s (argparse only), the commands
:mod:`._commands`' (check, one library call, print). Every argument and
output path is checked before any image goes through the network; what the
user can fix (the library's :class:`~sklearn_cnntexture.exceptions.InputError`)
ends in one line on stderr (exit 2), an operating-system failure in one line
naming the path (exit 1), Ctrl-C in one line saying what is cached (exit 130).
Anything else is a bug and keeps its traceback.
"""

import os
import re
import sys

# TensorFlow prints start-up lines (oneDNN, CUDA) through its C++ logger,
# configured once when it is first imported: quiet it before anything can.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ..exceptions import InputError
from ..features.weights import WeightsUnavailableError
from ._commands import IMAGE_OPTIONS, cache_folder, remove_unfinished
from ._parser import SCHEDULER_TIMEOUT, build_parser

__all__ = ["IMAGE_OPTIONS", "build_parser", "main"]

#: The library's parameter names that are options here, as a message may spell them.
_OPTIONS = {"weights": "--weights", "crop": "--crop", "resize": "--resize",
            "float_scale": "--float-scale", "precision": "--precision",
            "pixel_size": "--pixel-size", "tile_pixels": "--tile-pixels"}


def _for_the_command_line(message):
    """Python spellings in a library message (``crop=40``), as options (``--crop 40``)."""
    names = "|".join(_OPTIONS)
    return re.sub(rf"\b({names})=('?)([^'\s,;:)]*)\2",
                  lambda m: f"{_OPTIONS[m.group(1)]} {m.group(3)}", message)


def _os_error_line(exc):
    where = exc.filename if exc.filename is not None else "a file"
    return f"{where}: {exc.strerror or exc}"


def _workers(args):
    """Where joblib sends the work: a Dask cluster with --scheduler, else local processes."""
    import contextlib

    address = getattr(args, "scheduler", None)
    if address is None:
        return contextlib.nullcontext()
    from ..features.parallel import dask_client

    return dask_client(address, timeout=SCHEDULER_TIMEOUT, name="--scheduler")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as one line: what the user should know, not the library's source line."""
    from tqdm import tqdm

    # tqdm.write: a progress bar on the terminal is cleared first and redrawn after.
    tqdm.write(f"cnntexture: warning: {message}", file=sys.stderr if file is None else file)


def _run(args):
    """The command, on its workers; a failed run leaves no empty output folder behind."""
    import warnings

    args.created = []
    try:
        with warnings.catch_warnings(), _workers(args):
            warnings.showwarning = _show_warning
            return args.run(args)
    except BaseException:
        remove_unfinished(args.created)
        raise


def main(argv=None):
    """Entry point of the ``cnntexture`` console script."""
    from .. import backbone_image_count

    args = build_parser().parse_args(argv)
    prefix = f"cnntexture {args.command}: error:"
    images_before = backbone_image_count()
    try:
        return _run(args)
    except KeyboardInterrupt:
        n = backbone_image_count() - images_before
        cache = cache_folder(args) if args.command != "info" else None
        where = f"{n} images cached in {cache}, run again to resume" if cache else (
            f"{n} images went through the network, none cached (no --cache)")
        print(f"cnntexture {args.command}: interrupted; {where}", file=sys.stderr)
        return 130
    except (InputError, WeightsUnavailableError) as exc:
        # What a user can fix (bad data, a bad argument, no weights): one line.
        print(f"{prefix} {_for_the_command_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        # The machine's part (a missing or unreadable file, a full disk): one
        # line naming the path. Anything else is a bug: its traceback shows.
        print(f"{prefix} {_os_error_line(exc)}", file=sys.stderr)
        return 2 if isinstance(exc, (FileNotFoundError, NotADirectoryError)) else 1


if __name__ == "__main__":
    sys.exit(main())
