"""The ``cnntexture`` command: a thin layer over the Python API.

``cnntexture info`` tells which weights sources work on this machine (useful
on cluster nodes without internet) and lists the layers. The study, explain
and featurize commands come with the features they wrap.
"""

import argparse
import sys

from . import __version__
from ._backbone import CONV_LAYERS, IMAGE_LAYER, PAPER_LAYERS


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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cnntexture",
        description="Texture features of micrographs from a pretrained VGG16 (Ling et al. 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="weights sources available here, and the layers")
    info.set_defaults(run=_info)
    return parser


def main(argv=None):
    """Entry point of the ``cnntexture`` console script."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
