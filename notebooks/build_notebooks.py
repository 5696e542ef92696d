"""The notebooks' source is the jupytext percent scripts beside this file (NN_name.py);
the .ipynb files are those scripts executed, outputs and figures included.

    python notebooks/build_notebooks.py              # execute every script into its .ipynb
    python notebooks/build_notebooks.py 03           # only the notebooks whose name starts so
    python notebooks/build_notebooks.py --full       # full size (default: RNNC_NOTEBOOK_SMALL=1)
    python notebooks/build_notebooks.py --check      # exit 1 if an .ipynb's cells differ from its script

Edit a script (in any editor, or in Jupyter with the jupytext extension), then rebuild.
Each notebook runs in a fresh temporary folder, so the files it writes (models, plots)
stay out of the repository.  Needs jupytext, nbclient, nbformat, ipykernel, matplotlib
(pip install -e ".[notebook]").
"""
import glob
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def scripts():
    """The notebook scripts, in order: [(script path, .ipynb path), ...]."""
    paths = sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py")))
    return [(p, p[:-3] + ".ipynb") for p in paths]


def from_script(path):
    """The notebook of a percent script, without outputs, with stable cell ids."""
    import jupytext

    nb = jupytext.read(path)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: rebuilding gives the same cells
    nb.metadata.pop("jupytext", None)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def cells_of(nb):
    """What must agree between a script and its .ipynb: each cell's kind and source."""
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def differences(script, ipynb):
    """Names of the cells (by index) where the .ipynb differs from the script; [] if none."""
    import nbformat

    if not os.path.exists(ipynb):
        return ["missing"]
    want, got = cells_of(from_script(script)), cells_of(nbformat.read(ipynb, as_version=4))
    diff = [f"cell {i}" for i, (a, b) in enumerate(zip(want, got)) if a != b]
    if len(want) != len(got):
        diff.append(f"{len(got)} cells instead of {len(want)}")
    return diff


def execute(script, ipynb, small=True, timeout=1800):
    """Run the script's notebook top to bottom in a temporary folder and write it with its
    outputs to `ipynb`; returns the executed notebook."""
    import nbclient
    import nbformat

    nb = from_script(script)
    # The stored outputs get rnnc's plain progress lines, not ipywidgets bars: a repository
    # viewer cannot draw a widget and shows its text fallback, the bar at 0%.  A first cell,
    # removed after the run, hides ipywidgets from the kernel.
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; sys.modules['ipywidgets'] = None"))
    env_before = os.environ.get("RNNC_NOTEBOOK_SMALL")
    os.environ["RNNC_NOTEBOOK_SMALL"] = "1" if small else "0"
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend shows the figures
    try:
        with tempfile.TemporaryDirectory(prefix="rnnc_nb_") as run_dir:
            nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": run_dir}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("RNNC_NOTEBOOK_SMALL", None)
        else:
            os.environ["RNNC_NOTEBOOK_SMALL"] = env_before
    del nb.cells[0]
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.execution_count is not None:
            cell.execution_count -= 1
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] -= 1
    nb.metadata.pop("widgets", None)
    nb.metadata["rnnc"] = {"executed_with": "RNNC_NOTEBOOK_SMALL=1" if small else "full size"}
    nbformat.write(nb, ipynb)
    return nb


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prefixes = [a for a in argv if not a.startswith("--")]
    chosen = [(s, n) for s, n in scripts()
              if not prefixes or any(os.path.basename(s).startswith(p) for p in prefixes)]
    if "--check" in argv:
        stale = {os.path.basename(n): d for s, n in chosen if (d := differences(s, n))}
        for name, diff in stale.items():
            print(f"{name} differs from its script ({', '.join(diff)}): "
                  f"run python notebooks/build_notebooks.py {name[:2]}")
        return 1 if stale else 0
    for script, ipynb in chosen:
        print("executing", os.path.basename(script), flush=True)
        execute(script, ipynb, small="--full" not in argv)
        print("wrote", ipynb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
