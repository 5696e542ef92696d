"""Builds the C extensions from csrc/:

  rnnc._C          the core (every csrc/**/*.c outside csrc/py/) and the binding
                   (csrc/py/*.c): the public module rnnc.functional and the layers use
  rnnc._testhooks  test and benchmark hooks (csrc/py/testhooks/), calling the core
                   that rnnc._C holds through its table (csrc/py/core_api.h)

Environment switches:
  RNNC_SANITIZE=1   build with AddressSanitizer + UndefinedBehaviorSanitizer
  RNNC_DEBUG=1      -O0 -g
"""
import glob
import os

import numpy as np
from setuptools import Extension, setup

BINDING = os.path.join("csrc", "py")
HOOKS = os.path.join(BINDING, "testhooks")


def c_files(folder, recursive=False):
    pattern = os.path.join(folder, "**", "*.c") if recursive else os.path.join(folder, "*.c")
    return sorted(glob.glob(pattern, recursive=recursive))


core = [f for f in c_files("csrc", recursive=True) if not f.startswith(BINDING + os.sep)]
compile_args = ["-std=c11", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter",
                "-fno-math-errno", "-pthread",
                # a call to an API the target Python or NumPy lacks (Py_NewRef on 3.9, say)
                # is a build error here, not an undefined symbol at import
                "-Werror=implicit-function-declaration"]
link_args = ["-pthread", "-lm"]
if os.environ.get("RNNC_DEBUG"):
    compile_args = [a for a in compile_args if a != "-O3"] + ["-O0", "-g"]
if os.environ.get("RNNC_SANITIZE"):
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
    compile_args += san
    link_args += san
common = dict(
    # headers and the .inc templates: editing one rebuilds the extension
    depends=sorted(glob.glob(os.path.join("csrc", "**", "*.h"), recursive=True)
                   + glob.glob(os.path.join("csrc", "**", "*.inc"), recursive=True)),
    include_dirs=["csrc", BINDING, np.get_include()],
    # The binding calls PyDataMem_SetHandler, part of NumPy's C API since 1.22: built
    # against NumPy 2 without this target, the extension leaves it out of the API table
    # and fails to import.  The run-time minimum in pyproject.toml ("numpy>=1.22") is
    # the same version.
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_20_API_VERSION"),
                   ("NPY_TARGET_VERSION", "NPY_1_22_API_VERSION")],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(
    ext_modules=[
        Extension("rnnc._C", sources=core + c_files(BINDING), **common),
        # the checkers (convert.c) call no core function, so the hooks link them too
        Extension("rnnc._testhooks",
                  sources=c_files(HOOKS) + [os.path.join(BINDING, "convert.c")], **common),
    ]
)
