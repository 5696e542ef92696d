"""Finding data files that registry packages ship, without importing those packages."""
import importlib.util
import os


class MissingDataError(FileNotFoundError):
    """A data source is not on this machine; the message says exactly what to install."""


def package_dir(package):
    """Directory of an installed top-level `package`, or None when it is not installed.

    importlib.util.find_spec locates a top-level package without executing it, so
    heavy packages (scattertext, statsmodels) are never imported here.
    """
    if "." in package:
        raise ValueError(f"package_dir: give a top-level package name, got {package!r}")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        if os.path.isdir(location):
            return location
    return None


def package_file(package, relative_path, install_hint):
    """Absolute path of `relative_path` inside `package`, or MissingDataError naming `install_hint`."""
    root = package_dir(package)
    if root is None:
        raise MissingDataError(f"the Python package {package!r} is not installed; install it with:\n"
                               f"    {install_hint}")
    path = os.path.join(root, *relative_path.split("/"))
    if not os.path.isfile(path):
        raise MissingDataError(f"{package!r} is installed at {root} but has no {relative_path!r} "
                               f"(another version?); install the one rnnc knows with:\n    {install_hint}")
    return path


def check_user_file(path, func):
    """os.fspath(path) if it names an existing file, else a clear error."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {type(path).__name__}") from None
    if not os.path.exists(path):
        raise FileNotFoundError(f"{func}: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{func}: {path!r} is a directory, expected a file")
    return path
