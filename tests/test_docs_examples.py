"""The README's code and the example scripts run as written."""

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_cnntexture import cli

ROOT = Path(__file__).resolve().parents[1]


def readme_python_blocks():
    """The README's Python blocks that run on their own.

    Blocks about the user's own folder ("micrographs/") are left out: they
    need that folder. The study grid they write out by hand is checked
    against study_grid in test_study.py.
    """
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return [block for block in blocks if "micrographs/" not in block]


def test_readme_has_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "pip install -e . && python examples/quickstart.py" in text
    assert 'pip install -e ".[test]" && python -m pytest' in text
    assert 'pip install -e ".[test]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()


def test_readme_states_the_python_the_package_requires():
    stated = re.search(r"Python (3\.\d+)\+", (ROOT / "README.md").read_text()).group(1)
    required = re.search(r"python_requires = >=(3\.\d+)", (ROOT / "setup.cfg").read_text())
    assert stated == required.group(1)
    assert sys.version_info >= tuple(int(part) for part in stated.split("."))


def readme_commands():
    """Every ``cnntexture`` command line of the README's shell blocks, as argv."""
    import shlex

    text = (ROOT / "README.md").read_text()
    lines = [line.split(" #")[0].strip()
             for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
             for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("cnntexture ")]


def test_readme_commands_parse_and_run_offline():
    """Each command's options exist, and each that picks weights picks offline ones."""
    commands = readme_commands()
    assert len(commands) >= 15
    parser = cli.build_parser()
    for argv in commands:
        args = parser.parse_args(argv)
        picks_weights = args.command in ("study", "featurize", "explain", "fit")
        if picks_weights and getattr(args, "study", None) is None:
            assert args.weights != "imagenet", f"needs a download: cnntexture {' '.join(argv)}"


@pytest.mark.slow
def test_readme_python_runs_as_written():
    blocks = readme_python_blocks()
    assert blocks, "README has no python example"
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["grid"].best_score_ > 0.5  # three classes: chance is about 0.33


@pytest.mark.slow
def test_quickstart_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    f1 = float(re.search(r"F1 \(macro\), 3-fold CV: ([\d.]+)", out)[1])
    assert f1 > 0.6, out
    assert "block4_conv3__mean__" in out
    assert "np.str_" not in out  # classes printed as a reader writes them (issue 10, item 16)


def test_cli_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "hed-bsds500" in out and "not ImageNet" in out
    assert "block3_conv3  C3_3" in out


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_cnntexture.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("cnntexture ")


@pytest.mark.slow
@pytest.mark.parametrize(
    "script, files",
    [
        ("plot_study.py", ["results.csv", "study.png", "study.svg", "union.png", "summary.md"]),
        (
            "plot_explain.py",
            ["textures.png", "important_textures.svg", "heatmaps.png",
             "characteristic_textures.png", "characteristic_textures.csv", "summary.md"],
        ),
    ],
)
def test_plot_examples_write_their_figures(script, files, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, str(tmp_path)])
    runpy.run_path(str(ROOT / "examples" / script), run_name="__main__")
    for name in files:
        assert (tmp_path / name).stat().st_size > 0, name
