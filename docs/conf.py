"""Sphinx configuration of the rnnc documentation.

    pip install -e ".[docs]" && python -m sphinx -W -b html docs docs/_build/html
    python -m sphinx -W -b doctest docs /tmp/rnnc-doctest     # runs every example

The site works offline: the alabaster theme ships its CSS, no web fonts are named, and
the pages contain no math nodes (equations are written as plain text), so no MathJax
script is linked.  Intersphinx is left out: it would fetch NumPy's and PyTorch's
inventories over the network at build time.  Notebooks are rendered from their stored
outputs (myst-nb, execution off); they are copied from ../notebooks at build time.
"""
import glob
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # the checkout's rnnc (its extension built in place or installed)

import rnnc  # noqa: E402  (fail early, with the import error, if the extension is missing)

project = "rnnc"
author = "the rnnc authors"
copyright = "the rnnc authors"
release = version = rnnc.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",     # numpydoc-style sections (Parameters, Returns, Raises, ...)
    "sphinx.ext.doctest",      # -b doctest runs the testcode blocks and >>> examples
    "sphinx.ext.viewcode",
    "myst_nb",                 # Markdown pages and the .ipynb notebooks (outputs as stored)
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "jupyter_execute"]
root_doc = "index"

# ---------------------------------------------------------------------- autodoc
autodoc_member_order = "bysource"     # __all__ order where a module has one
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = False
nitpicky = False

# ---------------------------------------------------------------------- doctest
doctest_global_setup = """
try:
    import torch
except ImportError:  # the torch pages are skipped without it
    torch = None
import importlib.util
import numpy as np
import rnnc
have_keras = importlib.util.find_spec("keras") is not None
"""
doctest_test_doctest_blocks = "default"

# ---------------------------------------------------------------------- notebooks
nb_execution_mode = "off"             # never run a notebook during the build
nb_merge_streams = True
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]


def _copy_notebooks():
    """docs/notebooks/ mirrors ../notebooks/*.ipynb (git ignores the copy)."""
    dst = os.path.join(HERE, "notebooks")
    os.makedirs(dst, exist_ok=True)
    sources = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    wanted = {os.path.basename(p) for p in sources}
    for old in glob.glob(os.path.join(dst, "*.ipynb")):
        if os.path.basename(old) not in wanted:
            os.remove(old)
    for src in sources:
        target = os.path.join(dst, os.path.basename(src))
        if not os.path.exists(target) or open(src, "rb").read() != open(target, "rb").read():
            shutil.copyfile(src, target)


_copy_notebooks()

# ---------------------------------------------------------------------- HTML
html_theme = "alabaster"
html_theme_options = {
    "description": "RNN, LSTM and GRU with a fast C core and a NumPy API",
    "fixed_sidebar": False,
    "page_width": "1100px",
    "sidebar_width": "240px",
    "font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "head_font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "code_font_family": "ui-monospace, 'DejaVu Sans Mono', monospace",
}
html_static_path = []
html_copy_source = False
