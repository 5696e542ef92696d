"""Time-series forecasting with a recurrent network: yearly sunspots, or US macro data.

    python -m rnnc.apps.forecast                                   # sunspots, next year
    python -m rnnc.apps.forecast --mode many_to_many               # a prediction at every step
    python -m rnnc.apps.forecast --mode seq2seq --horizon 10       # encoder-decoder, 10 years ahead
    python -m rnnc.apps.forecast --dataset macrodata               # multivariate: 6 series -> inflation
    python -m rnnc.apps.forecast --csv data.csv --columns load,temp --target load --time-column date

The series is split in time (70% train, 10% validation, 20% test: the future never
leaks into training) and standardised with the mean and deviation of the training part
only.  Windows of --window steps are the inputs; a window belongs to the part that
holds its target.

  many_to_one   (B, W, F) -> LSTM -> last step -> Linear -> the next value (B, Ft)
  many_to_many  (B, W, F) -> LSTM -> Linear at every step -> the next value after every
                step (B, W, Ft); evaluated at the window's last step, like many_to_one.
  seq2seq       encoder-decoder: an encoder LSTM reads the window and hands its final
                state to a decoder LSTM that emits the next --horizon values one at a
                time, each fed back in as its next input (trained with teacher forcing:
                the true previous value is fed instead).  Compared with repeating the
                last value for the whole horizon.

The yardstick is the naive forecast "next value = last value".  The test-set RMSE and
MAE of both (in the data's own units) are printed, and a plot is saved (PNG): the whole
series with the one-step forecasts, a zoom on the test years against the naive forecast,
and (univariate) a multi-step forecast made autoregressively, each prediction fed back
in as the next input.

macrodata (statsmodels' US quarterly data, 1959-2009): the level series (real GDP,
consumption, investment) become growth rates, 100 * diff(log), the rates (unemployment,
inflation, T-bill) stay as they are; the default target is next quarter's inflation
(annualised %), forecast from all six series (--target realgdp for GDP growth, which
over the 2000-2009 test years, recession included, no model here beats the naive
forecast).

Outputs, in --out DIR (default ./rnnc_forecast/): model.ckpt (weights, configuration,
the training part's scaling statistics, results; rnnc.checkpoint format, read back by
rnnc.apps.forecast.load_model) and, unless --no-plot, the figure
forecast_<dataset or csv>_<mode>.png.  The errors are printed.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from rnnc import checkpoint
from rnnc.apps import _cli
from rnnc.apps._cli import UsageError, positive_int
from rnnc.layers import LastStep, Linear, Sequential
from rnnc.module import Module
from rnnc.losses import MSELoss
from rnnc.optim import Adam
from rnnc.recurrent import GRU, LSTM, RNN
from rnnc.training import EarlyStopping, fit, predict

DEFAULT_OUT = "rnnc_forecast"
MODEL_FILE = "model.ckpt"
MODES = ("many_to_one", "many_to_many", "seq2seq")
# level series of macrodata become growth rates (100 * diff log); the others are rates already
MACRO_LEVELS = {"realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "pop"}
MACRO_DEFAULT = ("realgdp", "realcons", "realinv", "unemp", "infl", "tbilrate")

DEFAULTS = dict(window=20, hidden=32, layers=1, epochs=300, batch_size=16, lr=3e-3, patience=40,
                clip=1.0)
QUICK = dict(window=12, hidden=16, layers=1, epochs=80, batch_size=16, lr=1e-2, patience=20, clip=1.0)


# ------------------------------------------------------------------------------- data
def load_series(cfg: dict):
    """(values (N, F) float64, column names, time (N,), target column indices, description)."""
    from rnnc.datasets import load_macrodata, load_sunspots, load_timeseries_csv

    if cfg.get("csv"):
        ts = load_timeseries_csv(cfg["csv"], columns=cfg.get("columns"), time_column=cfg.get("time_column"),
                                 missing="interpolate")
        values, columns, time, what = ts.values, ts.columns, ts.time, cfg["csv"]
    elif cfg["dataset"] == "sunspots":
        ts = load_sunspots()
        values, columns, time, what = ts.values, ts.columns, ts.time, "yearly sunspot activity"
    elif cfg["dataset"] == "macrodata":
        ts = load_macrodata(columns=cfg.get("columns") or MACRO_DEFAULT)
        cols = []
        for j, name in enumerate(ts.columns):  # growth rates for levels: stationary inputs
            v = ts.values[:, j]
            cols.append(100 * np.diff(np.log(v)) if name in MACRO_LEVELS else v[1:])
        values = np.stack(cols, axis=1)
        columns = tuple(f"{n} growth %" if n in MACRO_LEVELS else n for n in ts.columns)
        time, what = ts.time[1:], "US quarterly macro data"
        if not cfg.get("target"):
            cfg = dict(cfg, target="infl" if "infl" in ts.columns else ts.columns[0])
    else:
        raise ValueError(f"dataset must be 'sunspots' or 'macrodata' (or give --csv), got {cfg['dataset']!r}")
    names = [c.split(" ")[0] for c in columns]
    target = cfg.get("target") or names[0]
    if target not in names:
        raise UsageError(f"--target {target!r} is not one of the columns {names}")
    return values, tuple(columns), time, [names.index(target)], what


def make_windows(scaled: np.ndarray, window: int, mode: str, targets, n_train: int, n_val: int):
    """Windows over the whole scaled series, each assigned to the part holding its target
    (the input steps before it are known at forecast time).  Returns per part
    (X (K, W, F), Y (K, Ft) or (K, W, Ft), index of the predicted step (K,))."""
    from rnnc.datasets import sliding_windows

    X, Y = sliding_windows(scaled, window, horizon=1, mode=mode, targets=targets)
    t_next = np.arange(len(X)) + window  # the step each window's last target predicts
    bounds = [(window, n_train), (n_train, n_train + n_val), (n_train + n_val, len(scaled))]
    parts = []
    for lo, hi in bounds:
        sel = (t_next >= lo) & (t_next < hi)
        parts.append((X[sel].astype(np.float32), Y[sel].astype(np.float32), t_next[sel]))
    return parts


def make_seq2seq_windows(scaled: np.ndarray, window: int, horizon: int, targets, n_train: int,
                         n_val: int):
    """Encoder inputs X (K, W, F) and the next `horizon` target values Y (K, horizon, Ft)
    per part; a window belongs to a part when all its targets lie in it.  Also returns
    the index of each window's first target step (K,)."""
    N = len(scaled)
    starts = np.arange(N - window - horizon + 1)                      # (K,)
    X = scaled[starts[:, None] + np.arange(window)]                   # (K, W, F)
    Y = scaled[starts[:, None] + window + np.arange(horizon)][:, :, targets]  # (K, horizon, Ft)
    t0 = starts + window
    bounds = [(window, n_train), (n_train, n_train + n_val), (n_train + n_val, N)]
    parts = []
    for lo, hi in bounds:
        sel = (t0 >= lo) & (t0 + horizon - 1 < hi)
        parts.append((X[sel].astype(np.float32), Y[sel].astype(np.float32), t0[sel]))
    return parts


# ------------------------------------------------------------------------------ model
class EncoderDecoder(Module):
    """Sequence-to-sequence model: an encoder reads the input window (many-to-one: only
    its final state is used), a decoder starts from that state and produces the output
    sequence one step at a time (one-to-many).

    forward((x_enc (B, W, F), x_dec (B, S, Ft))) -> (B, S, Ft): the decoder reads x_dec,
    the previous target values (teacher forcing), and predicts the next ones.
    backward(d_out) sends the gradient through the decoder into the encoder's final
    state, and through the encoder's steps (BPTT across both).
    generate(x_enc, first (B, 1, Ft), steps) -> (B, steps, Ft): autoregressive decoding,
    each prediction fed back in as the next decoder input.
    """

    def __init__(self, cell: str, n_features: int, n_targets: int, hidden: int, layers: int = 1,
                 seed: int = 0, dtype=np.float32):
        super().__init__()
        layer = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[cell]
        kw = dict(num_layers=layers, batch_first=True, dtype=dtype)
        self.encoder = layer(n_features, hidden, seed=seed, **kw)
        self.decoder = layer(n_targets, hidden, seed=seed + 1, **kw)
        self.head = Linear(hidden, n_targets, seed=seed + 2, dtype=dtype)

    def forward(self, inputs):
        x_enc, x_dec = inputs
        _, state = self.encoder(x_enc)              # the summary of the window: (h_n[, c_n])
        out, _ = self.decoder(x_dec, state)         # (B, S, hidden), starting from that state
        return self.head(out)                       # (B, S, Ft)

    def backward(self, d_out):
        d_dec = self.head.backward(d_out)
        _, d_state = self.decoder.backward(d_dec)   # gradient w.r.t. the decoder's initial state
        self.encoder.backward(None, d_state)        # = the encoder's final state; its outputs unused
        return None

    def generate(self, x_enc, first, steps: int) -> np.ndarray:
        was_training = self.training
        self.eval()
        try:
            _, state = self.encoder(x_enc)
            y, outs = first, []
            for _ in range(steps):
                out, state = self.decoder(y, state)  # one step, carrying the state
                y = self.head(out)                   # (B, 1, Ft): the prediction is the next input
                outs.append(y)
        finally:
            self.train(was_training)
        return np.concatenate(outs, axis=1)


def teacher_forcing_collate(target_cols):
    """collate for fit: decoder inputs = [last observed target, y_0, ..., y_{S-2}]."""
    def collate(xs, ys):
        last = xs[:, -1:, target_cols]                        # (B, 1, Ft)
        x_dec = np.concatenate([last, ys[:, :-1]], axis=1)    # (B, S, Ft)
        return (xs, x_dec), ys, None
    return collate


def build_model(n_features: int, n_targets: int, cfg: dict):
    if cfg["mode"] == "seq2seq":
        return EncoderDecoder(cfg["cell"], n_features, n_targets, cfg["hidden"], cfg["layers"], cfg["seed"])
    layer = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[cfg["cell"]]
    rec = layer(n_features, cfg["hidden"], num_layers=cfg["layers"], batch_first=True, seed=cfg["seed"])
    head = Linear(cfg["hidden"], n_targets, seed=cfg["seed"] + 1)
    if cfg["mode"] == "many_to_one":
        return Sequential(rec, LastStep(), head)        # (B, W, F) -> (B, Ft)
    return Sequential(rec, head)                        # (B, W, F) -> (B, W, Ft)


def one_step(model, X: np.ndarray, mode: str) -> np.ndarray:
    """Forecasts of the value after each window (K, Ft), scaled units."""
    out = predict(model, X, batch_size=256)
    return out if mode == "many_to_one" else out[:, -1, :]


def recursive_forecast(model, context: np.ndarray, steps: int, mode: str) -> np.ndarray:
    """Autoregressive multi-step forecast of a univariate series: predict the next value,
    append it to the window, drop the oldest value, repeat.  context (W, 1) -> (steps,)."""
    window = context.astype(np.float32).copy()
    out = []
    for _ in range(steps):
        nxt = one_step(model, window[None], mode)[0, 0]
        out.append(nxt)
        window = np.concatenate([window[1:], [[nxt]]]).astype(np.float32)
    return np.array(out)


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def mae(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


# ------------------------------------------------------------------------------- plot
def _figure():
    """A matplotlib Figure not managed by pyplot: drawing and saving it leaves the
    session's backend and its open figures alone (in a notebook, plt.show() still shows)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(11, 7.5))


def _save(fig, path):
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def plot(path, time, values, target_name, parts_idx, preds, naive, truth, recursive=None, title=""):
    """Save the forecast figure to `path` (PNG)."""
    fig = _figure()

    axes = fig.subplots(2, 1)
    ax = axes[0]
    ax.plot(time, values, color="0.55", lw=1, label=f"{target_name} (data)")
    colors = {"val": "tab:orange", "test": "tab:red"}
    for name in ("val", "test"):
        idx = parts_idx[name]
        if len(idx):
            ax.axvspan(time[idx[0]], time[idx[-1]], color=colors[name], alpha=0.08)
            ax.plot(time[idx], preds[name], color=colors[name], lw=1.5, label=f"one-step forecast ({name})")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    idx = parts_idx["test"]
    ax.plot(time[idx], truth, "k.-", lw=1, label="actual")
    ax.plot(time[idx], preds["test"], color="tab:red", lw=1.5,
            label=f"model one-step (RMSE {rmse(preds['test'], truth):.3g})")
    ax.plot(time[idx], naive, color="tab:blue", lw=1, ls="--",
            label=f"naive last value (RMSE {rmse(naive, truth):.3g})")
    if recursive is not None:
        ax.plot(time[idx][:len(recursive)], recursive, color="tab:green", lw=1.5, ls=":",
                label=f"autoregressive {len(recursive)}-step forecast")
    ax.set_title("test period")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def plot_seq2seq(path, time, values, target_name, starts, pred, per_step, naive_step, title=""):
    """Forecast trajectories from non-overlapping test windows, and RMSE by steps ahead."""
    fig = _figure()

    horizon = pred.shape[1]
    axes = fig.subplots(2, 1)
    ax = axes[0]
    lo = max(starts[0] - 3 * horizon, 0)
    ax.plot(time[lo:], values[lo:], "k.-", lw=1, label=f"{target_name} (data)")
    for n, k in enumerate(range(0, len(starts), horizon)):  # one trajectory every `horizon` steps
        t = starts[k] + np.arange(horizon)
        ax.plot(time[t], pred[k], color="tab:red", lw=1.8, label="encoder-decoder forecast" if n == 0 else None)
        ax.plot(time[t[0]], pred[k, 0], "o", color="tab:red", ms=4)
    ax.axvspan(time[starts[0]], time[-1], color="tab:red", alpha=0.06)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    steps = np.arange(1, horizon + 1)
    ax.plot(steps, per_step, "o-", color="tab:red", label="encoder-decoder")
    ax.plot(steps, naive_step, "s--", color="tab:blue", label="naive: last value repeated")
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("test RMSE")
    ax.set_title("error by forecast distance")
    ax.legend(fontsize=8)
    return _save(fig, path)


# ------------------------------------------------------------------------------ saving
def save_model(out_dir: str, model, cfg: dict, scaler, n_targets: int, res: dict) -> str:
    """model.ckpt into out_dir: weights, configuration, the scaling statistics of the
    training part (inputs and forecasts are in scaled units) and the scalar results."""
    os.makedirs(out_dir, exist_ok=True)
    results = {k: v for k, v in res.items() if isinstance(v, (int, float, str))}
    results["history"] = res["history"]
    extra = {"app": "rnnc.apps.forecast", "config": _cli.jsonable(cfg), "n_targets": int(n_targets),
             "scaler": {"mean": np.asarray(scaler.mean), "std": np.asarray(scaler.std)},
             "results": _cli.jsonable(results)}
    return checkpoint.save(os.path.join(out_dir, MODEL_FILE), model, extra=extra)


def load_model(out_dir: str):
    """(model in eval mode, config, StandardScaler of the training part) saved by a run."""
    from rnnc.datasets import StandardScaler

    path = os.path.join(out_dir, MODEL_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no trained model in {out_dir!r} (expected {MODEL_FILE}); train one "
                                f"first: python -m rnnc.apps.forecast --out {out_dir}")
    ckpt = checkpoint.load(path)
    extra = ckpt["extra"]
    if not isinstance(extra, dict) or extra.get("app") != "rnnc.apps.forecast":
        raise ValueError(f"{path!r} is an rnnc checkpoint but not one written by rnnc.apps.forecast")
    cfg = dict(extra["config"])
    scaler = StandardScaler()
    scaler.mean = np.asarray(extra["scaler"]["mean"])
    scaler.std = np.asarray(extra["scaler"]["std"])
    model = build_model(len(scaler.mean), extra["n_targets"], cfg)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, cfg, scaler


def _save_and_plot(res, cfg, model, scaler, n_targets, log, draw):
    """The outputs of a run, in cfg["out"]: model.ckpt, then the figure unless cfg["plot"] is False."""
    res["model_path"] = save_model(cfg["out"], model, cfg, scaler, n_targets, res)
    log(f"saved {res['model_path']}")
    if cfg.get("plot", True):
        name = f"forecast_{cfg['dataset'] if not cfg.get('csv') else 'csv'}_{cfg['mode']}.png"
        res["plot"] = draw(os.path.join(cfg["out"], name))
        log(f"saved plot {res['plot']}")
    res["model"] = model
    return res


# -------------------------------------------------------------------------------- run
def run(cfg: dict, progress: bool = False, log=print) -> dict:
    from rnnc.datasets import StandardScaler

    values, columns, time, targets, what = load_series(cfg)
    N = len(values)
    n_test, n_val = round(0.2 * N), round(0.1 * N)
    n_train = N - n_val - n_test
    if n_train <= cfg["window"] + 2:
        raise UsageError(f"{N} steps leave too little training data for --window {cfg['window']}")
    scaler = StandardScaler().fit(values[:n_train])        # statistics of the training part only
    scaled = scaler.transform(values)
    if cfg["mode"] == "seq2seq":
        return _run_seq2seq(cfg, values, scaled, scaler, columns, time, targets, what,
                            (n_train, n_val), progress, log)
    (Xtr, Ytr, _), (Xva, Yva, iva), (Xte, Yte, ite) = make_windows(
        scaled, cfg["window"], cfg["mode"], targets, n_train, n_val)
    tcol = targets[0]
    tname = columns[tcol]
    log(f"data: {what}, {N} steps, columns {list(columns)}; target {tname!r}; "
        f"{len(Xtr)} train / {len(Xva)} val / {len(Xte)} test windows of {cfg['window']} steps ({cfg['mode']})")

    model = build_model(values.shape[1], len(targets), cfg)
    history = fit(model, (Xtr, Ytr), MSELoss(), Adam(model.parameters(), lr=cfg["lr"]),
                  epochs=cfg["epochs"], batch_size=cfg["batch_size"], val_data=(Xva, Yva),
                  seed=cfg["seed"], clip_grad_norm=cfg["clip"], metrics=(), progress=progress,
                  early_stopping=EarlyStopping(monitor="val_loss", patience=cfg["patience"]))
    best = int(np.argmin(history.history["val_loss"]))
    log(f"trained {len(history.epoch)} epochs; best validation MSE {history.history['val_loss'][best]:.4f} "
        f"(scaled units) at epoch {best + 1}")

    def unscale(col_scaled):  # scaled target column -> original units
        return col_scaled * scaler.std[tcol] + scaler.mean[tcol]

    truth = values[ite, tcol]
    preds = {"val": unscale(one_step(model, Xva, cfg["mode"])[:, 0]),
             "test": unscale(one_step(model, Xte, cfg["mode"])[:, 0])}
    naive = values[ite - 1, tcol]                            # next value = last value
    res = {"rmse": rmse(preds["test"], truth), "mae": mae(preds["test"], truth),
           "naive_rmse": rmse(naive, truth), "naive_mae": mae(naive, truth),
           "mean_rmse": rmse(np.full_like(truth, scaler.mean[tcol]), truth),
           "history": {k: [float(x) for x in v] for k, v in history.history.items()},
           "epochs_run": len(history.epoch), "target": tname, "mode": cfg["mode"],
           "test_truth": truth, "test_pred": preds["test"], "test_naive": naive, "test_index": ite}
    res["skill"] = 1.0 - res["rmse"] / res["naive_rmse"]
    log(f"test ({len(truth)} steps, {tname}):   RMSE {res['rmse']:.3f}  MAE {res['mae']:.3f}")
    log(f"naive last value:          RMSE {res['naive_rmse']:.3f}  MAE {res['naive_mae']:.3f}")
    log(f"training mean:             RMSE {res['mean_rmse']:.3f}")
    log(f"skill vs naive (1 - RMSE ratio): {res['skill']:+.1%}")

    recursive = None
    if values.shape[1] == 1 and len(ite):
        steps = min(cfg.get("horizon", 15), len(ite))
        context = scaled[ite[0] - cfg["window"]:ite[0]]      # the window before the test period
        recursive = unscale(recursive_forecast(model, context, steps, cfg["mode"]))
        res["recursive"] = recursive
        log(f"autoregressive {steps}-step forecast from the start of the test period: "
            f"RMSE {rmse(recursive, truth[:steps]):.3f}")
    return _save_and_plot(res, cfg, model, scaler, len(targets), log, lambda path: plot(
        path, time, values[:, tcol], tname, {"val": iva, "test": ite}, preds, naive, truth,
        recursive, title=f"{what}: {cfg['cell'].upper()} {cfg['mode']} forecast of {tname}"))


def _run_seq2seq(cfg, values, scaled, scaler, columns, time, targets, what, sizes, progress, log):
    """The encoder-decoder mode of run(): multi-step forecasts of the next `horizon` values."""
    horizon = cfg["horizon"]
    (Xtr, Ytr, _), (Xva, Yva, _), (Xte, Yte, ite) = make_seq2seq_windows(
        scaled, cfg["window"], horizon, targets, *sizes)
    tcol = targets[0]
    tname = columns[tcol]
    log(f"data: {what}, {len(values)} steps, columns {list(columns)}; target {tname!r}; "
        f"{len(Xtr)} train / {len(Xva)} val / {len(Xte)} test windows of {cfg['window']} steps, "
        f"forecasting {horizon} steps ahead (encoder-decoder)")
    if min(len(Xtr), len(Xva), len(Xte)) == 0:
        raise UsageError(f"--horizon {horizon} is too long for this series' validation/test parts")
    model = build_model(values.shape[1], len(targets), cfg)
    history = fit(model, (Xtr, Ytr), MSELoss(), Adam(model.parameters(), lr=cfg["lr"]),
                  epochs=cfg["epochs"], batch_size=cfg["batch_size"], val_data=(Xva, Yva),
                  seed=cfg["seed"], clip_grad_norm=cfg["clip"], metrics=(), progress=progress,
                  collate=teacher_forcing_collate(targets),
                  early_stopping=EarlyStopping(monitor="val_loss", patience=cfg["patience"]))
    best = int(np.argmin(history.history["val_loss"]))
    log(f"trained {len(history.epoch)} epochs; best validation MSE (teacher forcing) "
        f"{history.history['val_loss'][best]:.4f} at epoch {best + 1}")
    first = Xte[:, -1:, targets]                                          # (K, 1, Ft)
    pred = model.generate(Xte, first, horizon)[:, :, 0] * scaler.std[tcol] + scaler.mean[tcol]  # (K, S)
    truth = values[ite[:, None] + np.arange(horizon), tcol]              # (K, S)
    naive = np.repeat(values[ite - 1, tcol][:, None], horizon, axis=1)   # last value, repeated
    per_step = [rmse(pred[:, j], truth[:, j]) for j in range(horizon)]
    naive_step = [rmse(naive[:, j], truth[:, j]) for j in range(horizon)]
    res = {"rmse": rmse(pred, truth), "mae": mae(pred, truth), "naive_rmse": rmse(naive, truth),
           "naive_mae": mae(naive, truth),
           "mean_rmse": rmse(np.full_like(truth, scaler.mean[tcol]), truth),
           "rmse_by_step": per_step, "naive_rmse_by_step": naive_step,
           "history": {k: [float(x) for x in v] for k, v in history.history.items()},
           "epochs_run": len(history.epoch), "target": tname, "mode": "seq2seq",
           "test_truth": truth, "test_pred": pred, "test_naive": naive, "test_index": ite}
    res["skill"] = 1.0 - res["rmse"] / res["naive_rmse"]
    log(f"test ({len(ite)} windows x {horizon} steps, {tname}):   RMSE {res['rmse']:.3f}  MAE {res['mae']:.3f}")
    log(f"naive last value, repeated:   RMSE {res['naive_rmse']:.3f}  MAE {res['naive_mae']:.3f}")
    log(f"training mean:                RMSE {res['mean_rmse']:.3f}")
    log("RMSE by steps ahead: " + " ".join(f"{j + 1}:{r:.1f}" for j, r in enumerate(per_step)))
    log(f"skill vs naive (1 - RMSE ratio): {res['skill']:+.1%}")
    return _save_and_plot(res, cfg, model, scaler, len(targets), log, lambda path: plot_seq2seq(
        path, time, values[:, tcol], tname, ite, pred, per_step, naive_step,
        title=f"{what}: {cfg['cell'].upper()} encoder-decoder, {horizon} steps ahead"))


# ------------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = _cli.parser("python -m rnnc.apps.forecast", __doc__)
    p.add_argument("--dataset", choices=("sunspots", "macrodata"), default="sunspots")
    p.add_argument("--csv", help="your own CSV/TSV file instead of --dataset")
    p.add_argument("--columns", help="comma-separated input columns (macrodata / --csv)")
    p.add_argument("--target", help="the column to forecast (default: the first)")
    p.add_argument("--time-column", help="time column of a --csv file")
    p.add_argument("--mode", choices=MODES, default="many_to_one")
    p.add_argument("--cell", choices=("lstm", "gru", "rnn"), default="lstm")
    p.add_argument("--window", type=positive_int, help="input window length (20)")
    p.add_argument("--hidden", type=positive_int, help="hidden size (32)")
    p.add_argument("--layers", type=positive_int, help="stacked recurrent layers (1)")
    p.add_argument("--epochs", type=positive_int, help="maximum epochs (300; early stopping on validation MSE)")
    p.add_argument("--batch-size", type=positive_int, help="mini-batch size (16)")
    p.add_argument("--lr", type=_cli.positive_float, help="Adam learning rate (3e-3)")
    p.add_argument("--patience", type=_cli.nonnegative_int, help="early-stopping patience in epochs (40)")
    p.add_argument("--clip", type=_cli.positive_float, help="max global gradient norm (1.0)")
    p.add_argument("--horizon", type=positive_int, default=None,
                   help="steps ahead: of the seq2seq forecast (10) and of the autoregressive "
                        "roll-out of the other modes (15)")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help=f"output directory for model.ckpt and the plot (./{DEFAULT_OUT}/)")
    p.add_argument("--no-plot", action="store_true", help="no figure (no matplotlib needed)")
    p.add_argument("--quick", action="store_true", help="a small model and few epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=positive_int, help="rnnc compute threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def config_from_args(args) -> dict:
    cfg = dict(QUICK if args.quick else DEFAULTS)
    for key in ("window", "hidden", "layers", "epochs", "batch_size", "lr", "patience", "clip"):
        v = getattr(args, key)
        if v is not None:
            cfg[key] = v
    cfg.update(dataset=args.dataset, csv=args.csv, target=args.target, time_column=args.time_column,
               columns=args.columns.split(",") if args.columns else None, mode=args.mode,
               cell=args.cell, out=args.out,
               horizon=args.horizon or (10 if args.mode == "seq2seq" else 15), plot=not args.no_plot,
               seed=args.seed, quick=bool(args.quick))
    return cfg


def main(argv=None) -> dict:
    """Run the app; returns {"rmse", "mae", "naive_rmse", "naive_mae", "skill", "plot",
    "model_path", ...}.  A flag that cannot work is an argparse error (SystemExit 2)."""
    return _cli.run_app(build_parser,
                        lambda args: run(config_from_args(args), progress=not args.no_progress),
                        argv)


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as exc:
        sys.exit(f"error: {exc}")
