"""The house of the package: no module reaches for another module's private names.

A private name starts with one underscore (``_x``, ``__x``; dunders such as ``__name__``
are public). Private *modules* are the package's internals and any module may import
them (``from . import _backbone``, ``from ._cache import DiskCache``); what is
forbidden is a private *name inside* another module or another module's object:

* ``from .io import _check_image_header`` (or ``from sklearn_cnntexture.io import ...``);
* ``io._check_image_header(...)``, ``_backbone._network(...)``, where the name before
  the dot is bound to a module (or an object) imported from the package;
* ``encoder._fit_add(...)``, ``acts._spec``, ``getattr(acts, "_spec")``: a private
  attribute of an object that is neither ``self`` nor ``cls``, unless this module itself
  defines that name (as a function, class, method, assignment or attribute assignment),
  which makes it its own class's private business.

Third-party private names are another question and are not checked:
``from sklearn.utils._param_validation import Interval`` and ``sklearn.base._fit_context``
are how scikit-learn's extension guide writes estimators. The import-side check of the
package's parts is in ``.importlinter``; tests are exempt from both.

A second rule: the public functions of the modules in ``VALIDATED_MODULES`` check their
arguments' types and ranges with scikit-learn's ``@validate_params``, every parameter
named in it (an ``InvalidParameterError``, a ValueError and a TypeError, names the
function and the parameter); what depends on the data (layer names, image sizes, file
contents) they check by hand, as ``InputError``.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from sklearn.utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)

PACKAGE = "sklearn_cnntexture"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE

# Underscore names that are public API of the standard library (namedtuple's).
PUBLIC_UNDERSCORE = frozenset({"_asdict", "_replace", "_make", "_fields", "_field_defaults"})

# {(module file, "expression._name"): reason}. Every entry needs a reason; keep it empty.
ALLOWED = {}


def _is_private(name):
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and name != "_" and not dunder


def _dotted(path, package_dir):
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_names(package_dir):
    """Dotted names of the package's modules, ``sklearn_cnntexture.io`` and so on."""
    return {_dotted(path, package_dir) for path in package_dir.rglob("*.py")} | {PACKAGE}


def _resolve(node, module, is_package):
    """The absolute module an ``ImportFrom`` node imports from."""
    if not node.level:
        return node.module
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _own_names(tree):
    """Private names this module defines: defs, classes, assignments, attributes set."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            own.add(node.attr)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            own.add(node.args[1].value)
    return {name for name in own if _is_private(name)}


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def offences(path, package_dir=PACKAGE_DIR):
    """``file:line uses other._name`` for each private name this module takes from another."""
    modules = _module_names(package_dir)
    module = _dotted(path, package_dir)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    own = _own_names(tree)
    found = []

    def offend(node, text):
        if (path.name, text) not in ALLOWED:
            found.append(f"{path.relative_to(package_dir.parent)}:{node.lineno} uses {text}")

    # Which names are bound to the package's modules and objects, which to other packages'.
    package_bound, external_bound = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                target = alias.name if alias.asname else alias.name.split(".")[0]
                if target == PACKAGE or target.startswith(PACKAGE + "."):
                    package_bound[bound] = target
                else:
                    external_bound.add(bound)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(node, module, is_package)
            inside = source == PACKAGE or source.startswith(PACKAGE + ".")
            for alias in node.names:
                bound = alias.asname or alias.name
                if not inside:
                    external_bound.add(bound)
                    continue
                package_bound[bound] = f"{source}.{alias.name}"
                if f"{source}.{alias.name}" in modules:
                    continue  # a module, private or not: the package's internals
                if _is_private(alias.name) and source != module:
                    offend(node, f"{source.rsplit('.', 1)[-1]}.{alias.name}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name, value = node.attr, node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            name, value = node.args[1].value, node.args[0]
        else:
            continue
        if not _is_private(name) or name in PUBLIC_UNDERSCORE:
            continue
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            continue
        root = _root_name(value)
        if root in external_bound and root not in package_bound:
            continue  # numpy's, scikit-learn's, TensorFlow's private names: not checked here
        if isinstance(value, ast.Name) and value.id in package_bound:
            target = package_bound[value.id]
            if f"{target}.{name}" in modules:
                continue  # a private submodule reached through its package
            if target != module:
                offend(node, f"{ast.unparse(value)}.{name}")
            continue
        if name in own:
            continue  # this module's own class's private attribute
        offend(node, f"{ast.unparse(value)}.{name}")
    return sorted(set(found), key=lambda line: (int(line.split(":")[1].split()[0]), line))


def test_no_module_uses_another_modules_private_names():
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        found += offences(path)
    print("\n".join(found))
    assert not found, (
        f"{len(found)} uses of another module's private names (make the name public, "
        "or move the code to the module that owns it):\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from .io import _check_image_header\n", ["io._check_image_header"]),
        ("from sklearn_cnntexture.io import _check_image_header\n", ["io._check_image_header"]),
        ("from . import _backbone\n_backbone._network()\n", ["_backbone._network"]),
        ("from . import explain\nexplain._class_means()\n", ["explain._class_means"]),
        ("import sklearn_cnntexture.io as io\nio._read()\n", ["io._read"]),
        ("def f(encoder):\n    return encoder._name\n", ["encoder._name"]),
        ("def f(acts):\n    return getattr(acts, '_spec')\n", ["acts._spec"]),
        ("def f(self):\n    return self.acts._spec\n", ["self.acts._spec"]),
        ("from .encoders import MeanPool\nMeanPool._x\n", ["MeanPool._x"]),
        # Allowed: private modules, own names, self/cls, third-party, dunders, namedtuples.
        ("from . import _backbone, io\nfrom ._cache import DiskCache\n", []),
        ("class A:\n    def _f(self):\n        pass\n\ndef g(a):\n    a._f()\n", []),
        ("class A:\n    def f(self, other):\n        other._x = self._x\n", []),
        ("def f(self, cls):\n    self._a, cls._b\n", []),
        ("import numpy as np\nnp.random._x\n", []),
        ("from sklearn.utils._param_validation import Interval\n", []),
        ("from sklearn.base import _fit_context\n", []),
        ("def f(m):\n    m.__name__, m._replace(a=1)\n", []),
    ],
)
def test_the_checker_itself(tmp_path, source, expected):
    package = tmp_path / PACKAGE
    package.mkdir()
    for name in ("__init__", "_backbone", "_cache", "encoders", "explain", "io"):
        (package / f"{name}.py").write_text("")
    path = package / "probe.py"
    path.write_text(source)
    found = offences(path, package)
    assert [line.split(" uses ")[1] for line in found] == expected


# -- Public functions validate their parameters (scikit-learn's @validate_params) --------

VALIDATED_MODULES = ["io.datasets", "features.encoders", "explain._importance", "io._read",
                     "io._pixels", "io._metadata",
                     "model.file", "features.parallel", "plotting._common", "plotting._study",
                     "plotting._textures", "plotting._heatmaps", "plotting._sources",
                     "features.columns", "io.records",
                     "features.provenance", "explain.textures", "features.weights",
                     "explain._property", "plotting._property", "report._property"]
# {function: reason} for public functions with parameters and no @validate_params.
# A helper two private modules share is public inside the package but not exported
# (not in its package's __all__): its callers pass it what they have validated.
_SHARED_HELPER = "a private module's helper for another, not exported: callers validated"
_X_HELPER = ("reads X in every transform and subset: X is whatever the estimators take, "
             "checked by them")
NOT_VALIDATED = {
    "io.records.is_table": "a predicate: any object is a fair question",
    "io.records.table_of": "a predicate's sibling: anything but a table is None",
    "io.records.images_of": _X_HELPER,
    "io.records.given_pixel_sizes": _X_HELPER,
    "io.records.as_rows": _X_HELPER,
    "io.records.take": _X_HELPER,
    "io._read.is_image_path": "a predicate: any object is a fair question, answered False",
    "io._pixels.check_crop":
        "a validator itself, the one source of crop messages: any value is input",
    "io._read.check_file": _SHARED_HELPER,
    "io._read.reported_as_unreadable": _SHARED_HELPER,
    "io._read.single_page": _SHARED_HELPER,
    "plotting._common.root_figure": _SHARED_HELPER,
    "plotting._common.require_columns": _SHARED_HELPER,
    "plotting._common.displayable": _SHARED_HELPER,
    "plotting._common.show_image": _SHARED_HELPER,
    "plotting._common.max_aspect": _SHARED_HELPER,
    "features.encoders.is_activation_source": "a predicate: any object is a fair question",
}


def _public_functions():
    """(module.name, function) of every public function defined in VALIDATED_MODULES."""
    for module_name in VALIDATED_MODULES:
        module = importlib.import_module(f"{PACKAGE}.{module_name}")
        for name, function in sorted(vars(module).items()):
            if (not name.startswith("_") and inspect.isfunction(function)
                    and function.__module__ == module.__name__):
                yield f"{module_name}.{name}", function


def _parameters(function):
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class _Unrelated:
    """No constraint of ours should accept an object of a type nobody expects."""


@pytest.mark.parametrize("name, function", list(_public_functions()),
                         ids=[name for name, _ in _public_functions()])
def test_public_functions_validate_every_parameter(name, function):
    if not _parameters(function):
        return  # nothing to validate
    if name in NOT_VALIDATED:
        assert not hasattr(function, "_skl_parameter_constraints"), f"{name}: drop the exemption"
        return
    constraints = getattr(function, "_skl_parameter_constraints", None)
    assert constraints is not None, f"{name} has parameters and no @validate_params"
    assert set(constraints) == set(_parameters(function)), (
        f"{name}: constraints for {sorted(constraints)}, parameters {_parameters(function)}")
    for parameter, allowed in constraints.items():
        assert allowed != "no_validation", f"{name}({parameter}=...) is not validated"
        with pytest.raises(InvalidParameterError, match=f"^The '{parameter}' parameter of "):
            validate_parameter_constraints({parameter: allowed}, {parameter: _Unrelated()},
                                           caller_name=function.__qualname__)


def test_the_validated_functions_are_many():
    """The rule above is not vacuous: it found the modules' functions."""
    validated = [name for name, function in _public_functions()
                 if hasattr(function, "_skl_parameter_constraints")]
    assert len(validated) >= 50, validated


# -- The tests' own house: the tf mark (conftest.py) ------------------------------------

pytest_plugins = ["pytester"]

_FAST_AND_SLOW = {
    "test_fast": """
        import importlib

        def test_swallows_the_guards_error():
            try:
                importlib.import_module("ten" + "sorflow")
            except Exception:
                pass

        def test_plain():
            pass

        def network():
            return VGGLayerTransformer()  # never run: the name alone marks its callers

        def test_through_a_helper():
            network()
    """,
    # Collecting this file would load TensorFlow (were it installed): never under -m "not tf".
    "test_loads_tensorflow": """
        import pytest

        keras = pytest.importorskip("keras")

        def test_anything():
            pass
    """,
}


@pytest.mark.parametrize("markexpr", ["not tf", "not slow and not tf"])
def test_the_tf_mark_and_its_guard(pytester, markexpr):
    """-m "not tf" skips the files that load TensorFlow and the tests that name the
    network, and fails a fast test that imports TensorFlow even if it swallows the error."""
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text())
    pytester.makepyfile(**_FAST_AND_SLOW)
    result = pytester.runpytest_subprocess("-m", markexpr, "-p", "no:randomly", "-q")
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    result.stdout.fnmatch_lines([
        "*test_swallows_the_guards_error is not marked tf but imported tensorflow*"])
    assert "test_loads_tensorflow" not in result.stdout.str()
    assert "TensorFlow was imported" not in result.stdout.str()
