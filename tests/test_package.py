"""The package as pip installs it: what pyproject.toml ships, the NumPy C-API target,
the type stub of rnnc._C, and the submodules reachable from `import rnnc`.

Building and installing a real wheel takes minutes, so that is tests/wheel_check.sh
(run by .ci/run with the oldest and newest supported Python); these tests check the
metadata and files the wheel is made from.
"""
import ast
import os
import re
import subprocess
import sys

import pytest

import rnnc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "rnnc")
STUB = os.path.join(PKG, "_C.pyi")


def _pyproject():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def _packages_on_disk():
    found = []
    for dirpath, dirnames, filenames in os.walk(PKG):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if "__init__.py" in filenames:
            found.append(os.path.relpath(dirpath, ROOT).replace(os.sep, "."))
    return sorted(found)


def test_pyproject_ships_every_subpackage():
    from setuptools import find_packages

    setuptools_cfg = _pyproject()["tool"]["setuptools"]
    assert "packages" not in setuptools_cfg or isinstance(setuptools_cfg["packages"], dict), \
        "a fixed package list misses new subpackages: use [tool.setuptools.packages.find]"
    find = setuptools_cfg["packages"]["find"]
    shipped = sorted(find_packages(where=ROOT, include=find.get("include", ["*"]),
                                   exclude=find.get("exclude", ())))
    on_disk = _packages_on_disk()
    assert {"rnnc", "rnnc.apps", "rnnc.datasets"} <= set(on_disk)
    assert shipped == on_disk


def test_pyproject_ships_the_typing_files():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["rnnc"]
    for name in ("py.typed", "_C.pyi"):
        assert os.path.isfile(os.path.join(PKG, name))
        assert any(re.fullmatch(p.replace(".", r"\.").replace("*", ".*"), name) for p in data), name


def test_numpy_target_version_matches_the_runtime_minimum():
    """The binding uses PyDataMem_SetHandler (NumPy >= 1.22 C API): setup.py must build for
    that API version, and the dependency must not allow an older NumPy at run time."""
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as f:
        m = re.search(r'"NPY_TARGET_VERSION",\s*"NPY_1_(\d+)_API_VERSION"', f.read())
    assert m, "setup.py must define NPY_TARGET_VERSION (NumPy 2 builds for 1.19 otherwise)"
    target = (1, int(m.group(1)))
    assert target >= (1, 22), f"PyDataMem_SetHandler needs the 1.22 API, setup.py targets {target}"
    deps = [d for d in _pyproject()["project"]["dependencies"] if re.match(r"numpy\b", d)]
    assert len(deps) == 1
    low = re.search(r">=\s*(\d+)\.(\d+)", deps[0])
    assert low and (int(low.group(1)), int(low.group(2))) == target, (deps[0], target)


# ------------------------------------------------------------------------- the C stub
def _stub_functions():
    """{name: [parameter names]} and the set of constants declared in rnnc/_C.pyi."""
    with open(STUB, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    funcs, consts = {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            a = node.args
            funcs[node.name] = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
        elif isinstance(node, ast.AnnAssign) and not node.target.id.startswith("_"):
            consts.add(node.target.id)
    return funcs, consts


def _public_names():
    return {n for n in dir(rnnc._C) if not n.startswith("_")}


def test_stub_names_are_the_extension_public_names():
    funcs, consts = _stub_functions()
    stub, module = set(funcs) | consts, _public_names()
    assert not (module - stub), f"add to rnnc/_C.pyi: {sorted(module - stub)}"
    assert not (stub - module), f"remove from rnnc/_C.pyi (no longer in rnnc._C): {sorted(stub - module)}"
    for name in consts:
        assert not callable(getattr(rnnc._C, name)), name
    for name in funcs:
        assert callable(getattr(rnnc._C, name)), name


def _doc_parameters(doc):
    """Parameter names of a docstring signature 'name(a, b=1, 'x'|'y')': None where the
    docstring gives only literal values."""
    m = re.match(r"\w+\((.*?)\)", doc)
    assert m, f"docstring without a signature: {doc!r}"
    params = [p.strip() for p in m.group(1).split(",") if p.strip()]
    names = []
    for p in params:
        ident = re.match(r"([A-Za-z_]\w*)\s*(=|$)", p)
        names.append(ident.group(1) if ident else None)
    return names


def test_stub_signatures_follow_the_docstrings():
    funcs, _ = _stub_functions()
    for name, params in funcs.items():
        doc = getattr(rnnc._C, name).__doc__
        expected = _doc_parameters(doc)
        assert len(params) == len(expected), f"rnnc/_C.pyi {name}{tuple(params)} vs docstring {doc!r}"
        for got, want in zip(params, expected):
            assert want is None or got == want, f"rnnc/_C.pyi {name}: {got!r} vs docstring {doc!r}"


# ------------------------------------------------------------- submodules as attributes
def test_readme_modules_are_attributes_of_rnnc_loaded_on_first_use():
    code = (
        "import sys, rnnc\n"
        "lazy = ('training', 'tbptt', 'checkpoint', 'datasets', 'text')\n"
        "early = [m for m in ('rnnc.datasets', 'rnnc.training') if m in sys.modules]\n"
        "assert not early, early\n"
        "for name in lazy:\n"
        "    mod = getattr(rnnc, name)\n"
        "    assert mod is sys.modules['rnnc.' + name], name\n"
        "    assert name in dir(rnnc), name\n"
        "assert callable(rnnc.training.fit) and callable(rnnc.datasets.load_char_corpus)\n"
        "try:\n"
        "    rnnc.no_such_module\n"
        "except AttributeError as exc:\n"
        "    assert 'no_such_module' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('rnnc.no_such_module did not raise')\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
