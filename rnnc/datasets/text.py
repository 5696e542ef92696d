"""Character corpora: the Python standard library's own source code, or any text file.

    text = load_python_stdlib_text(max_chars=1_000_000)   # real code, on every machine
    text = load_text_file("shakespeare.txt")
    text = load_char_corpus()                              # the first of the two by default

The stdlib corpus is deterministic on a given Python installation: the .py files
under sysconfig.get_paths()["stdlib"] in sorted order of their relative path
(site-packages, test suites and __pycache__ left out), each decoded as UTF-8
with universal newlines and separated by one blank line. Another Python version
has other files, so the text differs between versions.
"""
import numbers
import os
import sysconfig

class TextDecodeError(ValueError):
    """A text file is not in the encoding it was read with; `reason` is the codec's own
    description (position and byte)."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


_SKIPPED_DIRS = {"site-packages", "dist-packages", "__pycache__", "test", "tests", "idle_test"}


def _check_max_chars(max_chars, func):
    if max_chars is None:
        return None
    if isinstance(max_chars, bool) or not isinstance(max_chars, numbers.Integral):
        raise TypeError(f"{func}: max_chars must be an int or None, got {type(max_chars).__name__}")
    if max_chars < 1:
        raise ValueError(f"{func}: max_chars must be >= 1, got {max_chars}")
    return int(max_chars)


def stdlib_dir():
    """The standard library's folder, from sysconfig.get_paths()['stdlib']."""
    path = sysconfig.get_paths()["stdlib"]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"stdlib_dir: the standard library folder {path!r} does not exist")
    return path


def stdlib_source_files(root=None):
    """Sorted absolute paths of the stdlib's .py files (site-packages and tests left out)."""
    root = stdlib_dir() if root is None else os.fspath(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS]
        for name in filenames:
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                found.append((os.path.relpath(full, root).replace(os.sep, "/"), full))
    found.sort()
    return [full for _, full in found]


def load_python_stdlib_text(max_chars=1_000_000):
    """The stdlib's Python source as one string of at most max_chars characters (None: all)."""
    func = "load_python_stdlib_text"
    max_chars = _check_max_chars(max_chars, func)
    pieces, total = [], 0
    for path in stdlib_source_files():
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue  # a few files are not UTF-8 or not readable: skip them
        if not text.strip():
            continue
        if pieces:
            text = "\n" + text  # files separated by one blank line
        pieces.append(text)
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    corpus = "".join(pieces)
    if not corpus:
        raise FileNotFoundError(f"{func}: no readable .py files under {stdlib_dir()!r}")
    return corpus if max_chars is None else corpus[:max_chars]


def load_text_file(path, max_chars=None, encoding="utf-8", errors="strict"):
    """The text of a user's file (universal newlines), at most max_chars characters."""
    func = "load_text_file"
    max_chars = _check_max_chars(max_chars, func)
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {type(path).__name__}") from None
    if not os.path.exists(path):
        raise FileNotFoundError(f"{func}: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{func}: {path!r} is a directory, expected a text file")
    try:
        with open(path, encoding=encoding, errors=errors) as f:
            text = f.read() if max_chars is None else f.read(max_chars)
    except UnicodeDecodeError as exc:
        raise TextDecodeError(f"{func}: {path!r} is not {encoding} text ({exc}); pass encoding=... "
                              f"or errors='replace'", str(exc)) from None
    if not text:
        raise ValueError(f"{func}: {path!r} is empty")
    return text


def load_char_corpus(path=None, max_chars=1_000_000, encoding="utf-8", errors="strict"):
    """A user's text file when `path` is given, else the Python stdlib source."""
    if path is None:
        return load_python_stdlib_text(max_chars=max_chars)
    return load_text_file(path, max_chars=max_chars, encoding=encoding, errors=errors)
