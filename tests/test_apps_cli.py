"""The apps' command lines: a flag that cannot work is an argparse error (exit status 2,
the usage line and a message naming the flag on stderr), never a traceback or a silent
change; every app lists its outputs in --help; forecast saves its model like the others.
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from rnnc.datasets import MissingDataError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _usage_error(capsys, main, argv):
    """main(argv) must exit as argparse does for a bad flag; returns its stderr."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m rnnc.apps." in err and "error:" in err
    return err


def _apps():
    from rnnc.apps import charlm, forecast, sentiment
    return {"charlm": charlm, "sentiment": sentiment, "forecast": forecast}


# ------------------------------------------------------------------------------ charlm
@pytest.mark.parametrize("argv, flag", [
    (["--temperature", "-1"], "--temperature"),
    (["--temperature", "nan"], "--temperature"),
    (["--top-k", "0"], "--top-k"),
    (["--top-k", "-3"], "--top-k"),
    (["--length", "0"], "--length"),
    (["--epochs", "0"], "--epochs"),
    (["--dropout", "1.5"], "--dropout"),
])
def test_charlm_out_of_range_flags_are_argparse_errors(capsys, tmp_path, argv, flag):
    from rnnc.apps import charlm

    err = _usage_error(capsys, charlm.main, ["--quick", "--out", str(tmp_path), *argv])
    assert f"argument {flag}" in err


def test_sample_next_refuses_what_it_used_to_change_silently():
    from rnnc.apps.charlm import sample_next

    rng = np.random.default_rng(0)
    logits = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        sample_next(logits, rng, temperature=-1.0)      # was: silently greedy
    with pytest.raises(ValueError, match="top_k must be an integer >= 1"):
        sample_next(logits, rng, top_k=0)               # was: silently ignored
    assert sample_next(logits, rng, temperature=0) == 2  # 0 stays greedy, as documented


def test_charlm_text_too_short_is_an_argparse_error(capsys, tmp_path):
    from rnnc.apps import charlm

    short = tmp_path / "short.txt"
    short.write_text("hello world\n", encoding="utf-8")          # 12 characters
    err = _usage_error(capsys, charlm.main, ["--quick", "--no-progress", "--text", str(short),
                                            "--out", str(tmp_path / "out")])
    assert "--text" in err and "12 characters" in err and "--batch-size" in err
    assert "Traceback" not in err


def test_charlm_encoding_advice_names_a_real_flag(capsys, tmp_path):
    from rnnc.apps import charlm

    latin = tmp_path / "latin1.txt"
    latin.write_bytes(("caf\xe9 ol\xe9, d\xe9j\xe0 vu. " * 120).encode("latin-1"))
    err = _usage_error(capsys, charlm.main, ["--quick", "--no-progress", "--text", str(latin),
                                            "--out", str(tmp_path / "out")])
    assert "--encoding" in err and "not utf-8 text" in err
    # the flag the advice names exists and works
    res = charlm.main(["--quick", "--no-progress", "--text", str(latin), "--encoding", "latin-1",
                       "--epochs", "1", "--length", "5", "--out", str(tmp_path / "out")])
    assert res["characters"] == len(latin.read_bytes())
    err = _usage_error(capsys, charlm.main, ["--quick", "--text", str(latin), "--encoding", "nope",
                                            "--out", str(tmp_path / "out")])
    assert "--encoding 'nope'" in err


def test_charlm_missing_text_file_is_an_argparse_error(capsys, tmp_path):
    from rnnc.apps import charlm

    err = _usage_error(capsys, charlm.main, ["--quick", "--text", str(tmp_path / "none.txt"),
                                            "--out", str(tmp_path)])
    assert "--text" in err and "no such file" in err


# --------------------------------------------------------------------------- sentiment
def _write_csv(path, rows):
    path.write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows), encoding="utf-8")
    return str(path)


def test_sentiment_tiny_data_file_is_an_argparse_error(capsys, tmp_path):
    from rnnc.apps import sentiment

    data = _write_csv(tmp_path / "two.csv", [("a great film", 1), ("an awful film", 0)])
    err = _usage_error(capsys, sentiment.main, ["--data", data, "--quick", "--no-progress",
                                               "--out", str(tmp_path / "out")])
    assert "--data" in err and "2 labelled rows" in err and "Traceback" not in err


def test_sentiment_small_data_file_that_splits_trains(tmp_path):
    from rnnc.apps import sentiment

    rows = [(f"a great fine film {i}", 1) for i in range(10)] + [(f"an awful dull film {i}", 0)
                                                                  for i in range(10)]
    data = _write_csv(tmp_path / "twenty.csv", rows)   # what the error message asks for
    res = sentiment.main(["--data", data, "--quick", "--no-progress", "--epochs", "1",
                          "--out", str(tmp_path / "out")])
    assert sum(res["sizes"]) == 20 and min(res["sizes"]) >= 1


def test_sentiment_bad_column_is_an_argparse_error(capsys, tmp_path):
    from rnnc.apps import sentiment

    data = _write_csv(tmp_path / "two.csv", [("a great film", 1), ("an awful film", 0)])
    err = _usage_error(capsys, sentiment.main, ["--data", data, "--text-column", "review",
                                               "--out", str(tmp_path / "out")])
    assert "--data" in err and "'review'" in err


def test_sentiment_out_of_range_flags_are_argparse_errors(capsys, tmp_path):
    from rnnc.apps import sentiment

    for argv, flag in ((["--epochs", "0"], "--epochs"), (["--dropout", "1"], "--dropout"),
                       (["--lr", "-1e-3"], "--lr"), (["--patience", "-1"], "--patience")):
        err = _usage_error(capsys, sentiment.main, ["--quick", "--out", str(tmp_path), *argv])
        assert f"argument {flag}" in err


def test_empty_sentence_is_classified_with_a_warning():
    from rnnc.apps import sentiment
    from rnnc.text import Vocab

    vocab = Vocab.from_texts(["a good film", "a bad film"], level="word")
    cfg = dict(sentiment.QUICK, seed=0)
    model = sentiment.build_model(len(vocab), 2, cfg).eval()
    with pytest.warns(UserWarning, match=r"sentence 1 \(''\) has no words"):
        preds = sentiment.classify(model, vocab, ["a good film", "", "zz"], ("neg", "pos"))
    assert len(preds) == 3
    with pytest.warns(UserWarning, match=r"sentence 0 \('  '\) has no words"):
        sentiment.classify(model, vocab, ["  "], ("neg", "pos"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # a sentence with words: no warning
        sentiment.classify(model, vocab, ["a good film"], ("neg", "pos"))


# ---------------------------------------------------------------------------- forecast
def _need_statsmodels_data():
    from rnnc.datasets import load_sunspots
    try:
        load_sunspots()
    except MissingDataError:
        pytest.skip("the time-series data is missing: pip install statsmodels")


def test_forecast_out_of_range_flags_are_argparse_errors(capsys, tmp_path):
    from rnnc.apps import forecast

    for argv, flag in ((["--window", "0"], "--window"), (["--horizon", "0"], "--horizon"),
                       (["--epochs", "-2"], "--epochs"), (["--lr", "0"], "--lr")):
        err = _usage_error(capsys, forecast.main, ["--quick", "--out", str(tmp_path), *argv])
        assert f"argument {flag}" in err
    _need_statsmodels_data()
    err = _usage_error(capsys, forecast.main, ["--quick", "--target", "nope", "--out", str(tmp_path)])
    assert "--target 'nope'" in err


def test_forecast_takes_no_progress_like_the_other_apps():
    from rnnc.apps import charlm, forecast, sentiment

    for app in (charlm, sentiment, forecast):
        assert app.parse_args(["--no-progress"]).no_progress is True
        assert app.parse_args([]).no_progress is False


def test_forecast_saves_its_model_and_load_model_reproduces_the_forecast(tmp_path):
    _need_statsmodels_data()
    from rnnc.apps import forecast

    res = forecast.main(["--quick", "--no-plot", "--no-progress", "--epochs", "5",
                         "--out", str(tmp_path)])
    assert res["model_path"] == os.path.join(str(tmp_path), forecast.MODEL_FILE)
    model, cfg, scaler = forecast.load_model(str(tmp_path))
    assert cfg["mode"] == "many_to_one" and cfg["window"] == forecast.QUICK["window"]
    from rnnc.datasets import load_sunspots
    values = load_sunspots().values
    ite, W = res["test_index"], cfg["window"]
    X = scaler.transform(values)[ite[:, None] - W + np.arange(W)].astype(np.float32)  # (K, W, 1)
    again = forecast.one_step(model, X, cfg["mode"])[:, 0] * scaler.std[0] + scaler.mean[0]
    np.testing.assert_allclose(again, res["test_pred"], rtol=1e-5, atol=1e-4)
    with pytest.raises(FileNotFoundError, match="python -m rnnc.apps.forecast"):
        forecast.load_model(str(tmp_path / "none"))


def test_forecast_plot_leaves_the_matplotlib_backend_alone(tmp_path):
    pytest.importorskip("matplotlib")
    code = (
        "import matplotlib, numpy as np\n"
        "matplotlib.use('svg')\n"
        "import matplotlib.pyplot as plt\n"
        "from rnnc.apps import forecast\n"
        "t = np.arange(30.0); v = np.sin(t / 3)\n"
        "idx = {'val': np.arange(20, 24), 'test': np.arange(24, 30)}\n"
        "preds = {'val': v[20:24], 'test': v[24:30]}\n"
        f"path = forecast.plot({str(tmp_path / 'f.png')!r}, t, v, 'x', idx, preds, v[23:29], v[24:30])\n"
        "pred = np.stack([v[24:28], v[25:29]])\n"
        f"forecast.plot_seq2seq({str(tmp_path / 's.png')!r}, t, v, 'x', np.array([24, 25]), pred,"
        " [0.1] * 4, [0.2] * 4)\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert plt.get_fignums() == [], plt.get_fignums()\n"
        "assert open(path, 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n'\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MPLBACKEND", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_no_library_code_switches_the_matplotlib_backend():
    offenders = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "rnnc")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    if "matplotlib.use(" in f.read():
                        offenders.append(os.path.join(dirpath, name))
    assert offenders == []


# -------------------------------------------------------------------------------- help
@pytest.mark.parametrize("app, outputs", [
    ("charlm", ["model.ckpt", "vocab.json"]),
    ("sentiment", ["model.ckpt", "vocab.json", "results.json"]),
    ("forecast", ["model.ckpt", "forecast_<dataset or csv>_<mode>.png"]),
])
def test_help_lists_the_outputs(capsys, app, outputs):
    with pytest.raises(SystemExit) as info:
        _apps()[app].main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "Outputs" in text and "--out DIR" in text
    for name in outputs:
        assert name in " ".join(text.split()), (app, name)
