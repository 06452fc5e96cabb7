"""Sphinx configuration of the sklearn-cnntexture documentation.

Build from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Importing the package does not import TensorFlow (it loads lazily, on the
first forward pass), so autodoc needs no mocked imports and the build works
offline.
"""

import sklearn_cnntexture

project = "sklearn-cnntexture"
author = "sklearn-cnntexture developers"
copyright = "the sklearn-cnntexture developers"
release = sklearn_cnntexture.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]
# sphinx.ext.intersphinx is deliberately not enabled: it fetches inventories
# over the network, and the docs must build offline (cluster nodes, CI sandboxes).

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"  # `x` in docstrings is code, never a broken reference

# -- autodoc / autosummary ---------------------------------------------------

autosummary_generate = True  # pages under generated/ (git-ignored)
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
add_module_names = False

# -- numpydoc ----------------------------------------------------------------

numpydoc_show_class_members = False  # methods are listed by the class template
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types in Parameters/Returns/Attributes become cross-references (links for our
# own classes; plain code for the rest, since intersphinx is off). This also
# keeps names like ``n_features_in_`` in a type from being read as reST links.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"of", "or", "and", "shape", "default", "optional", "to", "objects"}
# numpydoc's default aliases point words at targets in the Python and NumPy docs
# (":ref:"/":term:" ones warn without intersphinx, "python:str" shows its
# prefix); point them at plain names instead.
numpydoc_xref_aliases = {
    "None": "None",
    "True": "True",
    "False": "False",
    "bool": "bool",
    "boolean": "bool",
    "str": "str",
    "string": "str",
    "int": "int",
    "float": "float",
    "list": "list",
    "tuple": "tuple",
    "dict": "dict",
    "callable": "callable",
    "array-like": "numpy.typing.ArrayLike",
    "array_like": "numpy.typing.ArrayLike",
    "iterable": "collections.abc.Iterable",
    "sequence": "collections.abc.Sequence",
    "generator": "collections.abc.Generator",
    "scalar": "numpy.generic",
    "Activations": "sklearn_cnntexture.Activations",
    "VGGLayerTransformer": "sklearn_cnntexture.VGGLayerTransformer",
    "MultiLayerUnion": "sklearn_cnntexture.MultiLayerUnion",
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-cnntexture {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
