# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Time-series forecasting
#
# *Small mode:* start Jupyter with `RNNC_NOTEBOOK_SMALL=1` in the environment
# (`RNNC_NOTEBOOK_SMALL=1 jupyter lab`) and every experiment here runs on a subset in
# seconds to a minute, as in the test suite and the stored outputs; without it, full size.
#
# Yearly sunspot numbers (1700–2008, shipped with `statsmodels`): a univariate series with
# an ~11-year cycle. Then a multivariate one: US quarterly macro data.

# %%
import os
import time

import numpy as np
import matplotlib.pyplot as plt

import rnnc

SMALL = os.environ.get("RNNC_NOTEBOOK_SMALL") == "1"   # small mode: see the first cell
print(f"rnnc {rnnc.__version__}, {rnnc.get_num_threads()} threads,", "small mode" if SMALL else "full size")

# %%
from rnnc.datasets import load_sunspots, StandardScaler, sliding_windows

series = load_sunspots()
print(series)
plt.figure(figsize=(10, 2.5)); plt.plot(series.time, series.values[:, 0]); plt.title("sunspots")
plt.show()

# %% [markdown]
# ## Split in time, scale with the training part only, cut windows
#
# The last 20% of the years are the test set, the 10% before them validation. The mean and
# deviation come from the training years only: anything else would leak the future. A
# window of `W` years is one input; a window belongs to the part that holds its target.

# %%
from rnnc.apps.forecast import make_windows

values = series.values                           # (N, 1)
N = len(values); n_test, n_val = round(0.2 * N), round(0.1 * N); n_train = N - n_val - n_test
scaler = StandardScaler().fit(values[:n_train])
scaled = scaler.transform(values)
W = 20
(Xtr, Ytr, _), (Xva, Yva, iva), (Xte, Yte, ite) = make_windows(scaled, W, "many_to_one", [0], n_train, n_val)
print("many-to-one windows: X", Xtr.shape, "Y", Ytr.shape, "| val", Xva.shape, "| test", Xte.shape)
Xm, Ym = sliding_windows(scaled[:n_train], W, mode="many_to_many")
print("many-to-many windows: X", Xm.shape, "Y", Ym.shape, "(the next value after every step)")

# %% [markdown]
# ## Many-to-one: a window in, the next value out
#
# `LSTM → LastStep → Linear`. Against it: the **naive** forecast, "next year = this year".

# %%
from rnnc.training import EarlyStopping, fit, predict

EPOCHS = 80 if SMALL else 300
m2o = rnnc.Sequential(rnnc.LSTM(1, 32, batch_first=True, seed=0), rnnc.LastStep(), rnnc.Linear(32, 1, seed=1))
hist = fit(m2o, (Xtr, Ytr), rnnc.MSELoss(), rnnc.optim.Adam(m2o.parameters(), lr=1e-2 if SMALL else 3e-3),
           epochs=EPOCHS, batch_size=16, val_data=(Xva, Yva), metrics=(), clip_grad_norm=1.0,
           progress=False, early_stopping=EarlyStopping("val_loss", patience=20 if SMALL else 40))

def unscale(z):
    return z * scaler.std[0] + scaler.mean[0]

truth = values[ite, 0]
pred_m2o = unscale(predict(m2o, Xte)[:, 0])
naive = values[ite - 1, 0]
rmse = lambda a, b: float(np.sqrt(np.mean((a - b) ** 2)))
print(f"{len(hist.epoch)} epochs; test RMSE: LSTM {rmse(pred_m2o, truth):.1f}, naive {rmse(naive, truth):.1f}")

plt.figure(figsize=(10, 3))
plt.plot(series.time[ite], truth, "k.-", label="actual")
plt.plot(series.time[ite], pred_m2o, color="tab:red", label="LSTM many-to-one")
plt.plot(series.time[ite], naive, "--", color="tab:blue", label="naive")
plt.legend(); plt.title("one year ahead, test period"); plt.show()

# %% [markdown]
# ## Many-to-many: a prediction after every step
#
# `LSTM → Linear` applied at every step, trained on the next value after each step of the
# window; at forecast time the last step's output is the forecast.

# %%
(Xtr2, Ytr2, _), (Xva2, Yva2, _), (Xte2, _, _) = make_windows(scaled, W, "many_to_many", [0], n_train, n_val)
m2m = rnnc.Sequential(rnnc.LSTM(1, 32, batch_first=True, seed=0), rnnc.Linear(32, 1, seed=1))
fit(m2m, (Xtr2, Ytr2), rnnc.MSELoss(), rnnc.optim.Adam(m2m.parameters(), lr=1e-2 if SMALL else 3e-3),
    epochs=EPOCHS, batch_size=16, val_data=(Xva2, Yva2), metrics=(), clip_grad_norm=1.0, progress=False,
    early_stopping=EarlyStopping("val_loss", patience=20 if SMALL else 40))
out = predict(m2m, Xte2)                          # (K, W, 1): one forecast per step
pred_m2m = unscale(out[:, -1, 0])
print(f"test RMSE: many-to-many {rmse(pred_m2m, truth):.1f} (many-to-one {rmse(pred_m2o, truth):.1f})")

err_by_step = np.sqrt(np.mean((unscale(out[:, :, 0]) - values[ite[:, None] - W + 1 + np.arange(W), 0]) ** 2, axis=0))
plt.figure(figsize=(6, 2.5)); plt.plot(np.arange(1, W + 1), err_by_step, "o-")
plt.xlabel("steps of context read"); plt.ylabel("test RMSE"); plt.title("the more it has read, the better")
plt.show()

# %% [markdown]
# ## Autoregressive forecasting: feeding predictions back
#
# To see several years ahead with a one-step model, append each prediction to the window
# and predict again. Errors compound: compare with the encoder–decoder below.

# %%
from rnnc.apps.forecast import recursive_forecast

steps = 15
context = scaled[ite[0] - W:ite[0]]
roll = unscale(recursive_forecast(m2o, context, steps, "many_to_one"))
plt.figure(figsize=(10, 3))
plt.plot(series.time[ite[0] - W:ite[0] + steps], values[ite[0] - W:ite[0] + steps, 0], "k.-", label="actual")
plt.plot(series.time[ite[:steps]], roll, "o-", color="tab:green", label=f"{steps} years, fed back")
plt.axvline(series.time[ite[0]], color="0.6"); plt.legend(); plt.show()

# %% [markdown]
# ## Encoder–decoder
#
# An **encoder** LSTM reads the window and keeps only its final state (many-to-one); a
# **decoder** LSTM starts from that state and emits the next 10 values, each fed back as
# its next input (one-to-many). Training uses *teacher forcing* (the true previous value
# is the decoder input); the backward pass flows from the decoder into the encoder's
# final state and through the encoder (`rnnc.apps.forecast.EncoderDecoder`).

# %%
from rnnc.apps import forecast

cfg = dict(forecast.QUICK if SMALL else forecast.DEFAULTS, dataset="sunspots", mode="seq2seq", cell="lstm",
           horizon=10, seed=0, out="rnnc_forecast", plot=False)
s2s = forecast.run(cfg, log=lambda *a: None)
print(f"10 years ahead, test RMSE: encoder-decoder {s2s['rmse']:.1f}, naive (last value repeated) {s2s['naive_rmse']:.1f}")
fig, ax = plt.subplots(figsize=(10, 3))
starts = s2s["test_index"]
ax.plot(series.time[starts[0]:], values[starts[0]:, 0], "k.-", label="actual")
for n, k in enumerate(range(0, len(starts), 10)):
    t = starts[k] + np.arange(10)
    ax.plot(series.time[t], s2s["test_pred"][k], color="tab:red", label="forecast" if n == 0 else None)
ax.legend(); plt.show()

# %% [markdown]
# ## LSTM, GRU and a vanilla RNN on the same task

# %%
rows = []
for cell in ("lstm", "gru", "rnn"):
    for mode in ("many_to_one", "many_to_many"):
        cfg = dict(forecast.QUICK if SMALL else forecast.DEFAULTS, dataset="sunspots", mode=mode, cell=cell,
                   horizon=15, seed=0, out="rnnc_forecast", plot=False)
        r = forecast.run(cfg, log=lambda *a: None)
        rows.append((cell, mode, r["rmse"], r["naive_rmse"], r["epochs_run"]))
print(f"{'cell':6s} {'mode':14s} {'RMSE':>7s} {'naive':>7s} {'epochs':>7s}")
for row in rows:
    print(f"{row[0]:6s} {row[1]:14s} {row[2]:7.2f} {row[3]:7.2f} {row[4]:7d}")

# %% [markdown]
# ## Multivariate: US macro data
#
# Six quarterly series (real GDP, consumption and investment as growth rates; unemployment,
# inflation, T-bill rate) are the inputs at each step; the target is next quarter's
# inflation. Input features `F = 6`, output `1`.

# %%
cfg = dict(forecast.QUICK if SMALL else forecast.DEFAULTS, dataset="macrodata", mode="many_to_one", cell="lstm",
           horizon=15, seed=0, out="rnnc_forecast", plot=True)
macro = forecast.run(cfg)
from IPython.display import Image, display
display(Image(macro["plot"]))
