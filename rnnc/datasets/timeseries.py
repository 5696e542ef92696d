"""Real time series that install offline, the user's CSV files, windows and scaling.

    series = load_sunspots()                               # 309 yearly values, 1700-2008
    train, val, test = chronological_split(series.values, val_fraction=0.1, test_fraction=0.2)
    scaler = StandardScaler().fit(train)                   # statistics of train only
    X, Y = sliding_windows(scaler.transform(train), window=20)            # many-to-one
    X, Y = sliding_windows(scaler.transform(train), window=20, mode="many_to_many")

statsmodels ships the data files (read here with the csv module, statsmodels is
never imported):
    pip install statsmodels
- sunspots:  datasets/sunspots/sunspots.csv, columns YEAR, SUNACTIVITY; 309 rows (1700-2008).
- co2:       datasets/co2/co2.csv, columns date (YYYYMMDD), co2 (ppm); 2,284 weekly
             values from 1958-03-29 to 2001-12-29 of which 59 are empty (the longest
             gap: 18 weeks in 1958). load_co2 interpolates them linearly in time by
             default (missing="interpolate"); "drop" removes those weeks, "keep"
             leaves NaN.
- macrodata: datasets/macrodata/macrodata.csv, US quarterly macro data 1959Q1-2009Q3,
             203 rows; columns year, quarter and 12 series (realgdp, realcons,
             realinv, realgovt, realdpi, cpi, m1, tbilrate, unemp, pop, infl, realint).
"""
import csv
import dataclasses
import datetime
import numbers
import os

import numpy as np

from rnnc.datasets._files import check_user_file, package_file

STATSMODELS_INSTALL = "pip install statsmodels"
MACRODATA_COLUMNS = ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
                     "tbilrate", "unemp", "pop", "infl", "realint")
_MISSING = ("interpolate", "drop", "keep", "raise")
_MISSING_MARKERS = {"", "na", "nan", "null", "none", "n/a", "."}


@dataclasses.dataclass
class TimeSeries:
    """values (N, F) float64; columns: F names; time (N,) the time stamps; source: a path."""
    values: np.ndarray
    columns: tuple
    time: np.ndarray
    source: str = ""

    def __len__(self):
        return self.values.shape[0]

    def __repr__(self):
        return (f"TimeSeries(n={len(self)}, columns={self.columns!r}, "
                f"time={self.time[0]!s}..{self.time[-1]!s}, source={self.source!r})")

    def column(self, name):
        """One column as a float64 array (N,)."""
        if name not in self.columns:
            raise KeyError(f"TimeSeries.column: no column {name!r}; columns are {self.columns!r}")
        return self.values[:, self.columns.index(name)]


# ------------------------------------------------------------------ reading

def _read_csv(path, func, delimiter=","):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{func}: could not read {path!r} ({type(exc).__name__}: {exc})") from None
    if len(rows) < 2:
        raise ValueError(f"{func}: {path!r} has no data rows (expected a header line and data)")
    return [c.strip() for c in rows[0]], rows[1:]


def _to_float(cell, func, path, row, col):
    text = cell.strip()
    if text.lower() in _MISSING_MARKERS:
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{func}: {path!r} data row {row + 1}, column {col!r}: {cell!r} is not a number") from None


def _numeric_columns(header, rows, names, func, path):
    """(N, len(names)) float64 from the named columns (missing cells -> NaN)."""
    idx = []
    for name in names:
        if name not in header:
            raise ValueError(f"{func}: {path!r} has no column {name!r}; its columns are {header!r}")
        idx.append(header.index(name))
    values = np.empty((len(rows), len(names)), dtype=np.float64)  # (N, F)
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"{func}: {path!r} data row {r + 1} has {len(row)} fields, expected {len(header)}")
        for j, (name, i) in enumerate(zip(names, idx)):
            values[r, j] = _to_float(row[i], func, path, r, name)
    return values


def fill_missing(values, time=None, missing="interpolate", func="fill_missing"):
    """Handle NaN rows of values (N, F): "interpolate" linearly in time (or in row
    order without time; the ends take the nearest value), "drop" the rows, "keep"
    them, or "raise". Returns (values, time)."""
    if missing not in _MISSING:
        raise ValueError(f"{func}: missing must be one of {_MISSING}, got {missing!r}")
    values = np.array(values, dtype=np.float64)
    nan = np.isnan(values)
    if not nan.any() or missing == "keep":
        return values, time
    if missing == "raise":
        r = int(np.flatnonzero(nan.any(axis=1))[0])
        raise ValueError(f"{func}: missing value in data row {r + 1}; pass missing='interpolate', 'drop' or 'keep'")
    if missing == "drop":
        keep = ~nan.any(axis=1)
        return values[keep], None if time is None else time[keep]
    if time is None:
        x = np.arange(values.shape[0], dtype=np.float64)
    elif np.issubdtype(np.asarray(time).dtype, np.datetime64):
        x = np.asarray(time).astype("datetime64[D]").astype(np.float64)  # days
    else:
        x = np.asarray(time, dtype=np.float64)
    for j in range(values.shape[1]):
        ok = ~nan[:, j]
        if not ok.any():
            raise ValueError(f"{func}: column {j} has no values at all; cannot interpolate")
        # linear in time between the neighbouring observed values; constant beyond the ends
        values[~ok, j] = np.interp(x[~ok], x[ok], values[ok, j])
    return values, time


def _statsmodels_file(relative):
    return package_file("statsmodels", "datasets/" + relative, STATSMODELS_INSTALL)


def load_sunspots(path=None):
    """Yearly sunspot activity 1700-2008: values (309, 1), time = years (int64)."""
    func = "load_sunspots"
    path = _statsmodels_file("sunspots/sunspots.csv") if path is None else check_user_file(path, func)
    header, rows = _read_csv(path, func)
    values = _numeric_columns(header, rows, ["YEAR", "SUNACTIVITY"], func, path)
    if np.isnan(values).any():
        raise ValueError(f"{func}: {path!r} has missing values")
    return TimeSeries(values=values[:, 1:], columns=("SUNACTIVITY",), time=values[:, 0].astype(np.int64),
                      source=path)


def load_co2(path=None, missing="interpolate"):
    """Weekly Mauna Loa CO2 (ppm), 1958-03-29..2001-12-29: values (2284, 1), time datetime64[D].

    59 weeks have no value; missing="interpolate" (default) fills them linearly in
    time, "drop" removes them (the weeks are then no longer evenly spaced), "keep"
    leaves NaN.
    """
    func = "load_co2"
    path = _statsmodels_file("co2/co2.csv") if path is None else check_user_file(path, func)
    header, rows = _read_csv(path, func)
    if "date" not in header:
        raise ValueError(f"{func}: {path!r} has no column 'date'; its columns are {header!r}")
    di = header.index("date")
    try:
        time = np.array([datetime.datetime.strptime(r[di].strip(), "%Y%m%d").date() for r in rows],
                        dtype="datetime64[D]")
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{func}: {path!r} has a date that is not YYYYMMDD ({exc})") from None
    values = _numeric_columns(header, rows, ["co2"], func, path)
    values, time = fill_missing(values, time, missing, func)
    return TimeSeries(values=values, columns=("co2",), time=time, source=path)


def load_macrodata(path=None, columns=None):
    """US quarterly macroeconomic data 1959Q1-2009Q3: values (203, F), time = first day
    of each quarter (datetime64[D]); columns: any of MACRODATA_COLUMNS (default all 12)."""
    func = "load_macrodata"
    path = _statsmodels_file("macrodata/macrodata.csv") if path is None else check_user_file(path, func)
    columns = MACRODATA_COLUMNS if columns is None else tuple([columns] if isinstance(columns, str) else columns)
    if not columns:
        raise ValueError(f"{func}: columns must name at least one of {MACRODATA_COLUMNS}")
    header, rows = _read_csv(path, func)
    yq = _numeric_columns(header, rows, ["year", "quarter"], func, path).astype(np.int64)
    months = (yq[:, 0] - 1970) * 12 + (yq[:, 1] - 1) * 3
    time = months.astype("datetime64[M]").astype("datetime64[D]")
    values = _numeric_columns(header, rows, list(columns), func, path)
    if np.isnan(values).any():
        raise ValueError(f"{func}: {path!r} has missing values")
    return TimeSeries(values=values, columns=columns, time=time, source=path)


def load_timeseries_csv(path, columns=None, time_column=None, delimiter=None, missing="raise"):
    """The user's own series from a CSV/TSV file with a header line.

    columns      names of the value columns (default: every column but time_column).
    time_column  name of a time column: parsed as numbers if it can be, else as ::

                 ISO dates (YYYY-MM-DD), else kept as strings; None -> 0..N-1.

    missing      empty / NA cells: "raise" (default), "interpolate", "drop", "keep".
    """
    func = "load_timeseries_csv"
    path = check_user_file(path, func)
    if delimiter is None:
        delimiter = "\t" if path.lower().endswith((".tsv", ".tab")) else ","
    header, rows = _read_csv(path, func, delimiter)
    if time_column is not None and time_column not in header:
        raise ValueError(f"{func}: {path!r} has no column {time_column!r}; its columns are {header!r}")
    if columns is None:
        columns = [h for h in header if h != time_column]
    elif isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    if not columns:
        raise ValueError(f"{func}: no value columns in {path!r}")
    values = _numeric_columns(header, rows, columns, func, path)
    if time_column is None:
        time = np.arange(len(rows), dtype=np.int64)
    else:
        ti = header.index(time_column)
        raw = [r[ti].strip() for r in rows]
        try:
            time = np.array([float(t) for t in raw])
            if np.all(time == np.round(time)):
                time = time.astype(np.int64)
        except ValueError:
            try:
                time = np.array(raw, dtype="datetime64[D]")
            except ValueError:
                time = np.array(raw, dtype=object)
    if missing == "interpolate" and time.dtype == object:
        values, _ = fill_missing(values, None, missing, func)
    else:
        values, time = fill_missing(values, time, missing, func)
    return TimeSeries(values=values, columns=tuple(columns), time=time, source=path)


# ------------------------------------------------------------------ splitting, windows, scaling

def _as_2d(series, func, name="series"):
    arr = np.asarray(series)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{func}: {name} must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]  # (N,) -> (N, 1)
    if arr.ndim != 2:
        raise ValueError(f"{func}: {name} must be (N,) or (N, F), got shape {arr.shape}")
    return arr


def chronological_split(values, val_fraction=0.1, test_fraction=0.2):
    """Contiguous (train, val, test) along the time axis 0: no shuffling, the future stays out of train."""
    func = "chronological_split"
    values = np.asarray(values)
    if values.ndim == 0:
        raise ValueError(f"{func}: values must have a time axis, got a scalar")
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0.0 <= frac < 1.0:
            raise ValueError(f"{func}: {name} must be a float in [0, 1), got {frac!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"{func}: val_fraction + test_fraction must be < 1")
    n = values.shape[0]
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f"{func}: {n} steps leave no training data")
    return values[:n_train], values[n_train:n_train + n_val], values[n_train + n_val:]


def sliding_windows(series, window, horizon=1, stride=1, mode="many_to_one", targets=None):
    """Cut a series into overlapping windows for supervised training (batch-first).

    series   (N,) or (N, F).
    window   input length W.
    horizon  how far ahead the target is.
    mode     "many_to_one":  X[k] = s[i : i+W],   Y[k] = s[i+W+horizon-1]          -> X (K, W, F), Y (K, Ft) ::

             "many_to_many": X[k] = s[i : i+W],   Y[k] = s[i+horizon : i+horizon+W] -> X (K, W, F), Y (K, W, Ft)
             with i = k * stride; many_to_many with horizon=1 is next-step prediction at every step.

    targets  None (all F columns) or a list of column indices for Y (Ft of them).
    For time-major models use X.transpose(1, 0, 2).
    """
    func = "sliding_windows"
    arr = _as_2d(series, func)
    for name, v, low in (("window", window, 1), ("horizon", horizon, 1), ("stride", stride, 1)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"{func}: {name} must be an int, got {type(v).__name__}")
        if v < low:
            raise ValueError(f"{func}: {name} must be >= {low}, got {v}")
    if mode not in ("many_to_one", "many_to_many"):
        raise ValueError(f"{func}: mode must be 'many_to_one' or 'many_to_many', got {mode!r}")
    if targets is None:
        target_idx = np.arange(arr.shape[1])
    else:
        target_idx = np.atleast_1d(np.asarray(targets))
        if not np.issubdtype(target_idx.dtype, np.integer) or target_idx.ndim != 1 or target_idx.size == 0:
            raise TypeError(f"{func}: targets must be a non-empty list of column indices, got {targets!r}")
        if target_idx.min() < -arr.shape[1] or target_idx.max() >= arr.shape[1]:
            raise ValueError(f"{func}: targets {targets!r} out of range for {arr.shape[1]} columns")
    N = arr.shape[0]
    span = window + horizon  # steps one sample touches, in both modes
    count = (N - span) // stride + 1
    if N < span or count < 1:
        raise ValueError(f"{func}: a series of {N} steps is too short for window={window} and "
                         f"horizon={horizon} (needs at least {span})")
    starts = np.arange(count) * stride  # (K,)
    offsets = np.arange(window)  # (W,)
    X = arr[starts[:, None] + offsets[None, :]]  # (K, W, F)
    if mode == "many_to_one":
        Y = arr[starts + window + horizon - 1][:, target_idx]  # (K, Ft)
    else:
        Y = arr[starts[:, None] + offsets[None, :] + horizon][:, :, target_idx]  # (K, W, Ft)
    return X, Y


class _Scaler:
    """Per-column scaling fitted on training data only (fit), then applied to any part."""

    _fields = ()

    def _fit_array(self, data, func):
        arr = _as_2d(data, func, "data").astype(np.float64)
        if arr.shape[0] == 0:
            raise ValueError(f"{func}: data is empty")
        if not np.isfinite(arr).all():
            raise ValueError(f"{func}: data has NaN or infinite values; fill them first (fill_missing)")
        return arr

    def _check_fitted(self, func):
        if getattr(self, self._fields[0]) is None:
            raise RuntimeError(f"{func}: call fit(train) first")

    def _apply(self, data, func, inverse):
        self._check_fitted(func)
        arr = np.asarray(data)
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float64)
        width = getattr(self, self._fields[0]).shape[0]
        if arr.ndim == 0 or arr.shape[-1] != width and not (arr.ndim == 1 and width == 1):
            raise ValueError(f"{func}: data must end in {width} columns (as fitted), got shape {arr.shape}")
        scale, shift = self._affine()
        if arr.ndim == 1:
            scale, shift = scale[0], shift[0]
        scale = np.asarray(scale, dtype=arr.dtype)
        shift = np.asarray(shift, dtype=arr.dtype)
        return arr * scale + shift if inverse else (arr - shift) / scale

    def fit_transform(self, data):
        return self.fit(data).transform(data)

    def transform(self, data):
        """Scale data (..., F) (or (N,) for one column); keeps a float dtype."""
        return self._apply(data, f"{type(self).__name__}.transform", inverse=False)

    def inverse_transform(self, data):
        """Undo transform: back to the original units."""
        return self._apply(data, f"{type(self).__name__}.inverse_transform", inverse=True)

    def to_dict(self):
        return {"type": type(self).__name__,
                **{f: None if getattr(self, f) is None else getattr(self, f).tolist() for f in self._fields}}

    @classmethod
    def from_dict(cls, d):
        obj = cls()
        for f in cls._fields:
            setattr(obj, f, None if d.get(f) is None else np.asarray(d[f], dtype=np.float64))
        return obj


class StandardScaler(_Scaler):
    """(x - mean) / std per column; a constant column gets std 1."""

    _fields = ("mean", "std")

    def __init__(self):
        self.mean = None  # (F,)
        self.std = None  # (F,)

    def fit(self, data):
        arr = self._fit_array(data, "StandardScaler.fit")
        self.mean = arr.mean(axis=0)
        std = arr.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def _affine(self):
        return self.std, self.mean

    def __repr__(self):
        return f"StandardScaler(mean={self.mean}, std={self.std})"


class MinMaxScaler(_Scaler):
    """Maps each column's train range [min, max] onto feature_range (default [0, 1])."""

    _fields = ("data_min", "data_max")

    def __init__(self, feature_range=(0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high, got {feature_range!r}")
        self.feature_range = (float(lo), float(hi))
        self.data_min = None  # (F,)
        self.data_max = None  # (F,)

    def fit(self, data):
        arr = self._fit_array(data, "MinMaxScaler.fit")
        self.data_min = arr.min(axis=0)
        self.data_max = arr.max(axis=0)
        return self

    def _affine(self):
        lo, hi = self.feature_range
        width = np.where(self.data_max > self.data_min, self.data_max - self.data_min, 1.0)
        scale = width / (hi - lo)  # x = (y - lo) * scale + min
        return scale, self.data_min - lo * scale

    def to_dict(self):
        return {**super().to_dict(), "feature_range": list(self.feature_range)}

    @classmethod
    def from_dict(cls, d):
        obj = cls(tuple(d.get("feature_range", (0.0, 1.0))))
        obj.data_min = None if d.get("data_min") is None else np.asarray(d["data_min"], dtype=np.float64)
        obj.data_max = None if d.get("data_max") is None else np.asarray(d["data_max"], dtype=np.float64)
        return obj

    def __repr__(self):
        return f"MinMaxScaler(feature_range={self.feature_range}, min={self.data_min}, max={self.data_max})"
