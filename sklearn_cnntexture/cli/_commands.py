"""The ``cnntexture`` commands: check the arguments, call the library, print.

Each command checks everything it can before any image goes through the
network (options, data, every output path), then calls the library and
prints what it wrote. The library is imported inside each command, so that
``cnntexture --help`` and a bad option need neither TensorFlow nor data.
Errors are the library's :class:`~sklearn_cnntexture.exceptions.InputError`
(one line, see :func:`sklearn_cnntexture.cli.main`).
"""

import sys
from pathlib import Path

from ..exceptions import InputError

#: The options that decide the network's input and weights, as VGGLayerTransformer
#: names them; their defaults in the parser are the transformer's (a test checks).
IMAGE_OPTIONS = ("weights", "crop", "resize", "float_scale", "precision")


# -- what a command reads and writes -------------------------------------------


def _data_folder(args):
    """The folder whose sub-folders are read as classes, or None for a CSV or one file."""
    data = getattr(args, "data", None)
    return Path(data) if data is not None and Path(data).is_dir() else None


def _check_outputs(args, outputs, data=None):
    """Every path the command writes: never over or around an input, and writable."""
    from .._outputs import check_outputs

    weights = getattr(args, "weights", None)
    inputs = [("DATA", getattr(args, "data", None)), ("MODEL", getattr(args, "model", None)),
              ("--weights", weights if weights and Path(weights).is_file() else None),
              ("--study", getattr(args, "study", None))]
    images = [] if data is None or _data_folder(args) is not None else data.filenames
    check_outputs(outputs, inputs, data_folder=_data_folder(args), images=images)
    if getattr(args, "cache", None) is not None:  # read and written: only the data's rules
        check_outputs([("--cache", args.cache, True)], [], data_folder=_data_folder(args))


def _check_network(args):
    """Layers, encoders and weights, all checkable before the network runs."""
    from ..features._layers import canonical_layer
    from ..features.encoders import ENCODERS
    from ..features.weights import resolve_weights

    for layer in getattr(args, "layers", None) or []:
        canonical_layer(layer)  # naming an unknown layer
    for name in getattr(args, "encoders", None) or []:
        if name not in ENCODERS:
            raise InputError(f"--encoders takes names among {','.join(ENCODERS)}, "
                             f"got {name!r}")
    resolve_weights(args.weights, args.seed)  # a missing weights file, named


def cache_folder(args):
    """The cache folder as an absolute path (a study's config names it), or None."""
    if getattr(args, "cache", None) is not None:
        return str(Path(args.cache).resolve())
    if getattr(args, "default_cache", False):
        return str((Path(args.out) / "cache").resolve())
    return None


def _mark(args, folder):
    """Create and mark an output folder; one this run created goes if the run fails."""
    from ..report import prepare_output_folder

    if not Path(folder).exists():
        args.created.append(Path(folder))
    prepare_output_folder(folder)


def remove_unfinished(folders):
    """Remove the output folders a failed run created, if they hold nothing but markers."""
    import shutil

    from ..io.datasets import OUTPUT_MARKER

    for folder in reversed(folders):  # inner ones (the cache in --out) first
        if folder.is_dir() and {p.name for p in folder.iterdir()} <= {OUTPUT_MARKER}:
            shutil.rmtree(folder)


# -- the network a command's options describe ----------------------------------


def _images(args, data, pixel_size):
    """DATA as X: its table, each image's pixel size read once where they are resampled."""
    from ..io.records import with_pixel_sizes

    if pixel_size is None:
        if getattr(args, "data_pixel_size", None) is not None:
            raise InputError("--data-pixel-size gives DATA's own micrometres per pixel, which "
                             "matter only when the images are resampled: add --pixel-size, "
                             "or drop --data-pixel-size")
        return data.frame  # nothing is resampled: the images' scale does not matter
    return with_pixel_sizes(data.frame, getattr(args, "data_pixel_size", None))


def _vgg(args, layers=None):
    """The one VGGLayerTransformer a command's options describe."""
    from ..features._layers import PAPER_LAYERS
    from ..features.vgg import VGGLayerTransformer

    pixel_size = getattr(args, "pixel_size", None)
    return VGGLayerTransformer(
        PAPER_LAYERS[0] if layers is None else layers,
        weights=args.weights, crop=args.crop, resize=args.resize,
        float_scale=args.float_scale, precision=args.precision, batch_size=args.batch_size,
        cache=cache_folder(args), random_state=args.seed if args.weights is None else None,
        verbose=True, pixel_size=pixel_size, tile_pixels=args.tile_pixels,
    )


def _check_columns_options(args):
    """--impute-missing and --sources only mean something with --columns."""
    for name in ("impute_missing", "sources"):
        if getattr(args, name, None) and not args.columns:
            option = "--" + name.replace("_", "-")
            raise InputError(f"{option} applies to the data columns: add --columns, or drop "
                             f"{option}")


def _refuse_with_study(args, names):
    """Options a study decides are refused beside --study, not silently ignored."""
    given = [name for name in names if getattr(args, name, None) is not None]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise InputError(f"{option} with --study: the study's best row decides it; drop "
                         f"{option} to use the study's, or drop --study")


def _study_network(args, study):
    """The study's network, with this command's cache, pixel size and tile budget."""
    from ..features.vgg import VGGLayerTransformer
    from ..study import study_network

    defaults = VGGLayerTransformer().get_params()
    given = {name: getattr(args, name) for name in IMAGE_OPTIONS
             if getattr(args, name) != defaults[name]}
    # The study's own cache unless --cache names another (not this command's default).
    cache = None if args.cache is None else cache_folder(args)
    return study_network(study, given=given, cache=cache, verbose=True,
                         pixel_size=getattr(args, "pixel_size", None),
                         tile_pixels=args.tile_pixels)


def _load_data(args):
    """DATA, with the target and groups columns the options name."""
    from ..io.datasets import load_image_dataset

    return load_image_dataset(args.data, target=args.target, groups=args.groups,
                              task=args.task)


def _study_links(card, out):
    """The page of the study a model was chosen by, relative to the predictions' page."""
    import os

    study = (card.get("cv_score") or {}).get("study")
    page = Path(study) / "index.html" if study else None
    if page is None or not page.is_file():
        return []
    return [(os.path.relpath(page, Path(out).resolve().parent), "the study that chose the model")]


def _data_name(data):
    """What the figures call the data: its folder's name, or its CSV's."""
    path = Path(data).resolve()
    return path.name if path.is_dir() else f"{path.parent.name}/{path.name}"


# -- commands --------------------------------------------------------------------


def info(args):
    from .. import __version__
    from ..features._layers import CONV_LAYERS, IMAGE_LAYER, PAPER_LAYERS, paper_name
    from ..features.weights import weights_status

    if args.model is not None:
        from ..model.file import card_lines, read_card

        print(f"model {args.model}")
        for line in card_lines(read_card(args.model)):
            print("  " + line)
        return 0
    print(f"sklearn-cnntexture {__version__}")
    print("\nweights sources:")
    for line in weights_status():
        print("  " + line)
    # The paper's names as the options take them (C3_3 for its C3,3).
    paper = {name: paper_name(name).replace(",", "_") for name in PAPER_LAYERS}
    print("\nlayers (Keras name, paper name for the paper's five):")
    for name in CONV_LAYERS:
        print(f"  {name:14s}{paper.get(name, '')}".rstrip())
    print(f"  {IMAGE_LAYER:14s}the raw image (no CNN baseline)")
    return 0


def study(args):
    from ..report import write_study
    from ..study import Study, describe_row

    _check_network(args)
    _check_columns_options(args)
    if args.pixel_sizes is not None and args.pixel_size is not None:
        raise InputError("--pixel-size with --pixel-sizes: the study compares the scales "
                         "--pixel-sizes names; drop --pixel-size")
    data = _load_data(args)
    _check_outputs(args, [("--out", args.out, True)], data)
    study = Study(
        _vgg(args), layers=args.layers, encoders=args.encoders,
        raw_image=not args.no_raw, union=not args.no_union, vlad_resize=args.vlad_resize,
        n_splits=args.folds, n_repeats=args.repeats, n_estimators=args.trees,
        models=args.models, task=data.task, nested=args.nested, n_jobs=args.n_jobs,
        random_state=args.seed, verbose=True, columns=args.columns,
        missing="impute" if args.impute_missing else "error", sources=args.sources,
        pixel_sizes=args.pixel_sizes,
    )
    # Labels against folds, models, image files and sizes: before any folder is made.
    scales = [size for size in args.pixel_sizes or [] if size is not None]
    X = _images(args, data, study.vgg.pixel_size or (scales[0] if scales else None))
    study.validate(X, data.target, groups=data.groups)
    _mark(args, args.out)
    _mark(args, study.vgg.cache)
    study.fit(X, data.target, groups=data.groups)
    for path in write_study(study, args.out, name=_data_name(args.data), data=data, X=X):
        print(f"wrote {path}")
    best, metric, nested = study.best_, study.metric_, study.nested_
    print(f"best: {describe_row(best)}, {best['model']}, {metric} = "
          f"{best[metric + '_mean']:.3f} +- {best[metric + '_std']:.3f}"
          + (f"; {len(study.ties_)} more within one std (see summary.md)"
             if len(study.ties_) else ""))
    if nested is not None:
        print(f"nested CV estimate of the selected model (report this): "
              f"{nested.mean:.3f} +- {nested.std:.3f} ({nested.time:.0f} s)")
    return 0


def featurize(args):
    from importlib.util import find_spec

    from ..features.encoders import ENCODERS
    from ..features.featurize import (
        check_replaceable_parts,
        featurize,
        featurize_to_parquet,
        write_table,
    )

    suffix = Path(args.out).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"--out must end in .csv or .parquet, got '{args.out}'")
    if suffix == ".parquet" and find_spec("pyarrow") is None:
        raise InputError("--out .parquet needs pyarrow: pip install pyarrow, or use .csv")
    if args.partitioned and suffix != ".parquet":
        raise InputError(f"--partitioned writes a Parquet folder: --out must end in .parquet, "
                         f"got '{args.out}'")
    _check_network(args)
    data = _load_data(args)
    outputs = [("--out", args.out, args.partitioned)]
    if not args.partitioned:
        outputs.append(("--out's provenance", args.out + ".json", False))
    _check_outputs(args, outputs, data)
    if args.partitioned:
        check_replaceable_parts(args.out)  # a rerun replaces only this tool's parts
    if not len(data.filenames):
        raise InputError(f"no images in {args.data}")
    vgg = _vgg(args, layers=args.layers)
    X = _images(args, data, vgg.pixel_size)
    vgg.check_input_sizes(X)
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
        parts = featurize_to_parquet(X, args.out, vgg, encoder,
                                     columns=columns, **workers)
        print(f"wrote {len(parts)} Parquet parts of {len(data.filenames)} images to {args.out}")
        return 0
    table = featurize(X, vgg, encoder, **workers)
    for k, (name, values) in enumerate(columns.items(), 1):
        table.insert(k, name, values)
    for path in write_table(table, args.out):
        print(f"wrote {path}")
    print(f"{len(table)} images x {table.shape[1] - 1 - len(columns)} feature columns")
    return 0


def explain(args):
    from ..explain import explain_model, explain_property
    from ..report import write_explanations, write_property_explanation

    _check_network(args)
    data = _load_data(args)
    _check_outputs(args, [("--out", args.out, True)], data)
    numeric = data.task == "regression"
    if numeric and args.encoder is not None:
        raise InputError("--encoder with a numeric target: a property is explained by the "
                         "filters' mean activations; drop --encoder")
    if args.study is not None:
        vgg, layers, encoder = _from_study(args)
    else:
        layers, encoder = args.layers or ["block4_conv3"], args.encoder or "mean"
        vgg = _vgg(args, layers=layers)
    X = _images(args, data, vgg.pixel_size)
    vgg.check_input_sizes(X, layers)
    _mark(args, args.out)
    if vgg.cache is not None:
        _mark(args, vgg.cache)
    if numeric:  # which textures rise and fall with the property
        explanation = explain_property(
            X, data.target, vgg=vgg, layers=layers, groups=data.groups,
            target_name=args.target or "target", n_textures=args.top_k, size=args.size,
            steps=args.steps, random_state=args.seed, verbose=True)
        for path in write_property_explanation(explanation, args.out, study=args.study):
            print(f"wrote {path}")
        return 0
    explanation = explain_model(
        X, data.target, vgg=vgg.set_params(layers=layers), encoder=encoder,
        n_estimators=args.trees, top_k=args.top_k, per_layer=args.per_layer,
        size=args.size, steps=args.steps, random_state=args.seed, verbose=True,
    )
    for path in write_explanations(explanation, args.out, study=args.study):
        print(f"wrote {path}")
    return 0


def _from_study(args):
    """The study's network (weights, crop, resize, cache) and its best explainable model."""
    from ..study import best_explainable, load_study, row_pixel_size

    _refuse_with_study(args, ["layers", "encoder"])
    study = load_study(args.study)
    choice = best_explainable(study.results)
    print(f"explaining the study's best explainable model: {choice.encoder} of "
          f"{choice.row['layer']}, {choice.metric} = {choice.row[choice.metric + '_mean']:.3f}")
    if study.vgg is None:  # a study written before study.json: only its table
        return _vgg(args, layers=choice.layers), choice.layers, choice.encoder
    vgg = _study_network(args, study)
    if getattr(args, "pixel_size", None) is None:  # the row's scale, where compared
        vgg.set_params(pixel_size=row_pixel_size(choice.row, default=vgg.pixel_size))
    return vgg, choice.layers, choice.encoder


def fit(args):
    from ..features._layers import canonical_layer
    from ..model.file import model_card, save_model
    from ..model.predict import configuration_pipeline, fit_model, study_configuration
    from ..study import load_study

    if args.study is None and not args.layers:
        raise InputError("fit needs --study DIR (its best configuration) or --layers")
    _check_columns_options(args)
    if args.study is not None:
        _refuse_with_study(args, ["layers", "encoder", "model", "trees", "columns"])
        if args.impute_missing:
            raise InputError("--impute-missing with --study: the study decides how its columns' "
                             "empty cells are handled; drop --impute-missing")
    else:
        _check_network(args)
    data = _load_data(args)
    _check_outputs(args, [("--out", args.out, False)], data)
    if args.study is not None:
        study = load_study(args.study)
        if study.vgg is None:
            raise InputError(f"{args.study} has no study.json (written by an older version): "
                             "give --layers and --encoder instead of --study")
        _study_network(args, study)
        choice = study_configuration(study, task=data.task)  # refuses another task
        pipeline, cv_score = choice.pipeline, choice.cv_score
        studied_pixel_size = choice.pixel_size  # the best row's scale
        if args.pixel_size is not None:
            pipeline.named_steps["vgg"].set_params(pixel_size=args.pixel_size)
        cv_score["study"] = str(Path(args.study).resolve())  # predict's page links it
        configuration = choice.configuration
        if args.pixel_size is not None and args.pixel_size != studied_pixel_size:
            configuration["overridden"] = {"pixel_size": [studied_pixel_size, args.pixel_size]}
        print(f"fitting the study's best: {configuration['row']}, "
              f"{cv_score['metric']} = {cv_score['mean']:.3f} +- {cv_score['std']:.3f}")
    else:
        encoder, model = args.encoder or "mean", args.model or "rf"
        pipeline = configuration_pipeline(
            _vgg(args), args.layers, encoder, task=data.task, model=model,
            n_estimators=args.trees or 400, random_state=args.seed, columns=args.columns,
            missing="impute" if args.impute_missing else "error")
        configuration = {"layers": [canonical_layer(name) for name in args.layers],
                         "encoder": encoder, "model": model}
        if args.columns:
            configuration.update(source="both", columns=list(args.columns))
        cv_score = None
    vgg = pipeline.named_steps["vgg"].set_params(verbose=True)
    X = _images(args, data, vgg.pixel_size)
    vgg.check_input_sizes(X)  # and every image has a pixel size, where one is needed
    if vgg.cache is not None:
        _mark(args, vgg.cache)
    model, stats = fit_model(pipeline, X, data.target)
    card = model_card(model, X, data.target, cv_score=cv_score, configuration=configuration)
    print(f"wrote {save_model(model, args.out, card, feature_stats=stats)}")
    return 0


def predict(args):
    from ..io.datasets import load_images_to_predict
    from ..model.file import load_model, read_card, read_feature_stats, training_images_among
    from ..model.predict import check_images
    from ..report import explained_folder, prediction_page_paths, write_predictions

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise InputError(f"--out must end in .csv, got '{args.out}'")
    outputs = [("--out", out, False),
               ("the confusion matrix", out.with_suffix(".confusion.png"), False)]
    page, page_folder = prediction_page_paths(out)
    outputs += [("the page", page, False), ("the page's folder", page_folder, True)]
    if args.explain:
        outputs.append(("--explain's folder", explained_folder(out), True))
    data = load_images_to_predict(args.data, target=args.target)
    _check_outputs(args, outputs, data)
    card = read_card(args.model)
    stats = read_feature_stats(args.model)
    if args.explain and stats is None:
        raise InputError(f"--explain needs a classifier of mean or max features; "
                         f"'{args.model}' is not one")
    model = load_model(args.model, weights=args.weights)
    vgg = model.named_steps["vgg"]
    if args.pixel_size is not None and args.pixel_size != vgg.pixel_size:
        raise InputError(
            f"--pixel-size {args.pixel_size}: " + (
                "the model keeps the images' own pixels (it was fitted without --pixel-size); "
                "drop --pixel-size" if vgg.pixel_size is None else
                f"the model works at {vgg.pixel_size} um per pixel; give DATA's own pixel "
                "size with --data-pixel-size"))
    if args.tile_pixels is not None:
        vgg.set_params(tile_pixels=args.tile_pixels)
    vgg.set_params(cache=cache_folder(args), verbose=True, batch_size=args.batch_size)
    X = _images(args, data, vgg.pixel_size)
    check_images(model, X, card)
    seen = training_images_among(card, list(data.filenames))
    if seen:
        print(f"cnntexture: warning: {len(seen)} of these {len(X)} images were in the model's "
              "training set: scores on them are not an estimate of new images", file=sys.stderr)
    labelled = data.target is not None and card["task"] == "classification"
    result = write_predictions(model, X, out, labels=data.target if labelled else None,
                               feature_stats=stats, explain=args.explain, seen=seen, card=card,
                               model_name=Path(args.model).name, links=_study_links(card, out))
    if result.counts is not None:
        print("predicted: " + ", ".join(f"{name} {n}" for name, n in result.counts.items()))
    if result.scores is not None:
        scores = result.scores
        print(f"F1 (macro) {scores.f1:.3f}, accuracy {scores.accuracy:.3f} on {len(X)} images"
              f" ({len(scores.scored)} classes present)")
        if scores.unknown:
            print("classes the model does not know (always counted wrong): "
                  + ", ".join(f"{name} ({n} images)" for name, n in scores.unknown.items()))
        print(scores.confusion.to_string())
    for path in result.written:
        print(f"wrote {path}")
    return 0
