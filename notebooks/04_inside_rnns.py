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
# # 04 · Inside recurrent networks
#
# *Small mode:* start Jupyter with `RNNC_NOTEBOOK_SMALL=1` in the environment
# (`RNNC_NOTEBOOK_SMALL=1 jupyter lab`) and every experiment here runs on a subset in
# seconds to a minute, as in the test suite and the stored outputs; without it, full size.
#
# Backpropagation through time makes an RNN as deep as its sequence is long. This
# notebook measures what that does to gradients (vanishing, exploding), why `tanh`, what
# the LSTM's cell state and forget gate change, what clipping and truncation do, and
# what the hidden units and gates of a trained character model look at.

# %%
import os
import time

import numpy as np
import matplotlib.pyplot as plt

import rnnc

SMALL = os.environ.get("RNNC_NOTEBOOK_SMALL") == "1"   # small mode: see the first cell
print(f"rnnc {rnnc.__version__}, {rnnc.get_num_threads()} threads,", "small mode" if SMALL else "full size")

# %% [markdown]
# ## Gradient norm against time-step distance
#
# Feed 100 random steps, take a loss on the final hidden state only, and look at
# $\lVert \partial L / \partial x_t \rVert$: how much the input `d` steps before the end still
# matters. Through each step the gradient is multiplied by the recurrent Jacobian; for a
# vanilla RNN that is $W_{hh}^\top \operatorname{diag}(1 - h^2)$, so it shrinks (or grows)
# geometrically. `rnnc.functional` exposes exactly these gradients.

# %%
from rnnc import functional as F, reference

T, B, I, Hd = 100, 16, 8, 64
rng = np.random.default_rng(0)
x = rng.standard_normal((T, B, I))               # time-major (T, B, I), float64
d_h_n = rng.standard_normal((1, B, Hd))          # dL/dh_T of a loss on the last state

def grad_by_distance(cell, w):
    if cell == "lstm":
        _, _, saved = F.lstm_forward(x, w); g = F.lstm_backward(saved, d_h_n=d_h_n)
    elif cell == "gru":
        _, _, saved = F.gru_forward(x, w); g = F.gru_backward(saved, d_h_n=d_h_n)
    else:
        _, _, saved = F.rnn_forward(x, w, nonlinearity=cell[4:]); g = F.rnn_backward(saved, d_h_n=d_h_n)
    return np.linalg.norm(g["x"], axis=2).mean(axis=1)[::-1]    # index d = T-1-t

plt.figure(figsize=(8, 3.5))
for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
    w = reference.init_weights(cell, input_size=I, hidden_size=Hd, dtype=np.float64, rng=np.random.default_rng(1))
    plt.semilogy(grad_by_distance(cell, w), label=cell)
w = reference.init_weights("lstm", input_size=I, hidden_size=Hd, dtype=np.float64, rng=np.random.default_rng(1))
w["bias_ih_l0"][Hd:2 * Hd] = 3.0                 # forget gate open: f = sigmoid(3) ~ 0.95
plt.semilogy(grad_by_distance("lstm", w), "--", label="lstm, forget bias 3")
plt.xlabel("distance d from the last step"); plt.ylabel("mean ||dL/dx_t||"); plt.legend(fontsize=8)
plt.title("default initialisation: gradients vanish geometrically"); plt.show()

# %% [markdown]
# With the default initialisation every cell forgets: the gradient from 50 steps away is
# ~$10^{-10}$ of the one from the last step. The LSTM's cell state is an *additive* path,
# $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, whose Jacobian is just $\operatorname{diag}(f_t)$: with the
# forget gate held open (bias 3) the gradient survives 100 steps.
#
# ## The size of the recurrent weights: vanishing or exploding, and why tanh
#
# Scale an orthogonal $W_{hh}$ by a gain: below 1 gradients vanish, above 1 they explode.
# `tanh` keeps every hidden state in $(-1, 1)$, and its derivative $1 - h^2$ damps the
# gradient where it saturates; ReLU lets states and gradients grow without bound.

# %%
from rnnc.init import orthogonal_

fig, axes = plt.subplots(1, 3, figsize=(14, 3.5))
for nl, ax in zip(("tanh", "relu"), axes[:2]):
    for gain in (0.5, 1.0, 1.2, 1.5, 3.0):
        w = reference.init_weights("rnn_" + nl, input_size=I, hidden_size=Hd, dtype=np.float64,
                                   rng=np.random.default_rng(1))
        orthogonal_(w["weight_hh_l0"], np.random.default_rng(2))
        w["weight_hh_l0"] *= gain
        ax.semilogy(grad_by_distance("rnn_" + nl, w), label=f"gain {gain}")
    ax.set_title(f"{nl} RNN: ||dL/dx_t||"); ax.set_xlabel("distance from the last step"); ax.legend(fontsize=7)

for nl in ("tanh", "relu"):
    w = reference.init_weights("rnn_" + nl, input_size=I, hidden_size=Hd, dtype=np.float64,
                               rng=np.random.default_rng(1))
    orthogonal_(w["weight_hh_l0"], np.random.default_rng(2)); w["weight_hh_l0"] *= 1.5
    out, _, _ = F.rnn_forward(x, w, nonlinearity=nl, training=False)
    axes[2].semilogy(np.abs(out).max(axis=(1, 2)), label=nl)
axes[2].set_title("max |h_t|, gain 1.5"); axes[2].set_xlabel("t"); axes[2].legend()
plt.tight_layout(); plt.show()


# %% [markdown]
# ## Gradient clipping
#
# A task that needs memory: the sign of the *first* input decides the class read at the
# last of 30 steps, the other inputs are noise. A vanilla tanh RNN trained with plain SGD
# meets occasional gradient spikes; one of them throws the weights far away and training
# never recovers. `rnnc.clip_grad_norm_` rescales the whole gradient to norm ≤ 1 when it is
# larger (and returns the norm before clipping), so a spike becomes an ordinary step.

# %%
def train_memory_task(clip, steps, seed=0, T=30):
    rng = np.random.default_rng(seed)
    rnn = rnnc.RNN(1, 32, batch_first=True, seed=seed)
    orthogonal_(rnn.weight_hh_l0.data, rng)
    model = rnnc.Sequential(rnn, rnnc.LastStep(), rnnc.Linear(32, 2, seed=seed))
    opt = rnnc.optim.SGD(model.parameters(), lr=0.05)
    loss_fn = rnnc.CrossEntropyLoss()
    losses, norms = [], []
    for _ in range(steps):
        y = rng.integers(0, 2, 64)
        xb = (0.5 * rng.standard_normal((64, T, 1))).astype(np.float32)
        xb[:, 0, 0] = 2 * y - 1                      # the answer is in the first step only
        loss = loss_fn(model(xb), y)
        model.zero_grad(); model.backward(loss_fn.backward())
        norm = (rnnc.clip_grad_norm_(model.parameters(), max_norm=clip) if clip
                else rnnc.clip.total_grad_norm(model.parameters()))
        opt.step()
        losses.append(loss); norms.append(norm)
    return np.array(losses), np.array(norms)

steps = 150 if SMALL else 300
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
for clip, color in ((None, "tab:red"), (1.0, "tab:green")):
    losses, norms = train_memory_task(clip, steps)
    label = "no clipping" if clip is None else f"clip_grad_norm_ {clip}"
    axes[0].plot(losses, color=color, label=label)
    axes[1].semilogy(norms, color=color, label=label)
    print(f"{label:>22s}: final loss {losses[-10:].mean():.3f}, largest gradient norm {norms.max():.1f}")
axes[0].set_title("loss"); axes[1].set_title("gradient norm before clipping")
for ax in axes: ax.set_xlabel("SGD step"); ax.legend()
plt.show()

# %% [markdown]
# ## Truncated BPTT
#
# Full BPTT sends the gradient back to the first step. Truncated BPTT (`rnnc.tbptt`) runs
# the forward pass through the whole stream, carrying the state, but backpropagates only
# inside each chunk of `k` steps: the carried state is a constant for the next chunk.
# Gradient from a loss at the end of a 60-step stream:

# %%
w = reference.init_weights("lstm", input_size=I, hidden_size=Hd, dtype=np.float64, rng=np.random.default_rng(1))
w["bias_ih_l0"][Hd:2 * Hd] = 1.0                 # a moderately open forget gate
xs = x[:60]
_, _, saved = F.lstm_forward(xs, w)
full = np.linalg.norm(F.lstm_backward(saved, d_h_n=d_h_n)["x"], axis=2).mean(1)

k = 20
_, (h, c), _ = F.lstm_forward(xs[:-k], w, training=False)       # earlier chunks: forward only
_, _, saved = F.lstm_forward(xs[-k:], w, (h, c))                # the last chunk, from the carried state
trunc = np.zeros(60)
trunc[-k:] = np.linalg.norm(F.lstm_backward(saved, d_h_n=d_h_n)["x"], axis=2).mean(1)

plt.figure(figsize=(8, 3))
plt.semilogy(full, "o-", ms=3, label="full BPTT")
plt.semilogy(np.where(trunc > 0, trunc, np.nan), "s-", ms=3, label=f"truncated, k = {k}")
plt.xlabel("t"); plt.ylabel("||dL/dx_t||"); plt.legend(); plt.title("the gradient stops at the chunk boundary")
plt.show()
print("same gradient inside the chunk:", np.allclose(full[-k:], trunc[-k:]))

# %% [markdown]
# ## What a trained character model looks at
#
# Train a small LSTM language model on Python source, run it over a piece of code in
# training mode, and read the saved activations: `saved.gates(layer, direction)` is
# `(T, B, 4, H)` with the LSTM gates i, f, g, o after their nonlinearity, `saved.hidden()`
# and `saved.cell()` are the states `(T+1, B, H)`.

# %%
from rnnc.datasets import load_python_stdlib_text
from rnnc.tbptt import TBPTT
from rnnc.text import Vocab

text = load_python_stdlib_text(max_chars=80_000 if SMALL else 600_000)
vocab = Vocab.from_texts([text], level="char", max_size=200)
ids = vocab.encode(text)
Hc = 64 if SMALL else 128

def char_model(layer_norm=False, seed=0):
    return rnnc.Sequential(rnnc.Embedding(len(vocab), 16, seed=seed),
                           rnnc.LSTM(16, Hc, batch_first=True, layer_norm=layer_norm, seed=seed + 1),
                           rnnc.Linear(Hc, len(vocab), seed=seed + 2))

lm = char_model()
trainer = TBPTT(lm, rnnc.CrossEntropyLoss(), rnnc.optim.Adam(lm.parameters(), lr=1e-2 if SMALL else 3e-3),
                clip_grad_norm=5.0)
hist = trainer.fit(ids, batch_size=16 if SMALL else 32, k=50, epochs=3, progress=True)
print("final training loss", round(hist["loss"][-1], 3), "nats/char")

# %%
snippet = 'def greet(name):\n    msg = "hello, " + name\n    print(msg)\n    return len(msg) > 3\n'
lm.train()                                          # training mode keeps the activations
lm(vocab.encode(snippet)[None])
saved = lm[1].saved
gates = saved.gates(0, 0)[:, 0]                     # (T, 4, H): i, f, g, o
cells = saved.cell(0, 0)[1:, 0]                     # (T, H) cell states after each character
hidden = saved.hidden(0, 0)[1:, 0]                  # (T, H)
labels = [ch if ch != "\n" else "↵" for ch in snippet]

n_units = 32
fig, axes = plt.subplots(5, 1, figsize=(16, 14), sharex=True)
for ax, (title, data, cmap, lim) in zip(axes, [
        ("hidden state h", hidden, "RdBu_r", (-1, 1)),
        ("input gate i", gates[:, 0], "viridis", (0, 1)),
        ("forget gate f", gates[:, 1], "viridis", (0, 1)),
        ("candidate g", gates[:, 2], "RdBu_r", (-1, 1)),
        ("output gate o", gates[:, 3], "viridis", (0, 1))]):
    im = ax.imshow(data[:, :n_units].T, aspect="auto", cmap=cmap, vmin=lim[0], vmax=lim[1],
                   interpolation="nearest")
    ax.set_ylabel("unit"); ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, pad=0.01)
axes[-1].set_xticks(range(len(labels)), labels, fontsize=7)
plt.tight_layout(); plt.show()

# %% [markdown]
# ### Units with a meaning
#
# Some cell-state dimensions track structure: whether we are inside a string literal or
# a comment, inside parentheses, how far along the line we are. Correlate every unit with
# such indicators over a longer piece of code and colour the text by the best unit.

# %%
probe = text[-3000:] if SMALL else text[-8000:]
lm(vocab.encode(probe)[None])
probe_cells = lm[1].saved.cell(0, 0)[1:, 0]          # (T, H): the cell state after each character

indicators = {name: np.zeros(len(probe)) for name in ("string", "comment", "parentheses", "column")}
quote, comment, depth, col = None, False, 0, 0
for t, ch in enumerate(probe):
    if ch == "\n":
        quote, comment, col = None, False, 0
    elif quote is None and not comment and ch in "'\"":
        quote = ch
    elif ch == quote:
        quote = None
    elif quote is None and ch == "#":
        comment = True
    elif quote is None and not comment and ch in "([{":
        depth += 1
    elif quote is None and not comment and ch in ")]}":
        depth = max(depth - 1, 0)
    indicators["string"][t] = quote is not None
    indicators["comment"][t] = comment
    indicators["parentheses"][t] = depth > 0
    indicators["column"][t] = col
    col += ch != "\n"

def best_unit(target):
    c = np.array([np.corrcoef(probe_cells[:, j], target)[0, 1] if probe_cells[:, j].std() > 0 else 0.0
                  for j in range(Hc)])
    c = np.nan_to_num(c)
    j = int(np.argmax(np.abs(c)))
    return j, c[j]

found = {name: best_unit(ind) for name, ind in indicators.items() if ind.std() > 0}
for name, (j, c) in found.items():
    print(f"{name:>12s}: unit {j:3d}, correlation {c:+.2f}")
name = max(found, key=lambda n: abs(found[n][1]))
unit, c = found[name]

shown = probe[:800]
act = probe_cells[:len(shown), unit] * np.sign(c)    # oriented so that "high" = the indicator
rows, r, col = [], 0, 0
for ch in shown:                                      # lay the text out on a character grid
    rows.append((r, col, ch))
    col += 1
    if ch == "\n" or col == 80:
        r, col = r + 1, 0
grid = np.full((r + 1, 80), np.nan)
for (i, j, _), a in zip(rows, act):
    grid[i, j] = a
fig, ax = plt.subplots(figsize=(15, 0.25 * (r + 1) + 0.6))
ax.imshow(grid, cmap="coolwarm", aspect="auto", interpolation="nearest")
for i, j, ch in rows:
    ax.text(j, i, "↵" if ch == "\n" else ch, family="monospace", fontsize=7, ha="center", va="center")
ax.set_xticks([]); ax.set_yticks([])
ax.set_title(f"cell unit {unit}: the '{name}' unit (correlation {c:+.2f}; red = high)")
plt.show()

# %% [markdown]
# ## Layer normalisation in the LSTM
#
# `LSTM(..., layer_norm=True)` normalises $W_{ih}x$ and $W_{hh}h$ separately (each with its
# own gain and bias) and the cell state before the output tanh (Ba et al., 2016), so the
# gate inputs keep the same scale whatever the weights grow to. Train the same model with
# and without it, and look at how saturated the gates are.

# %%
from rnnc.tbptt import stream_batches

n_chunks = 60 if SMALL else 400
results = {}
for ln in (False, True):
    model = char_model(layer_norm=ln, seed=3)
    tr = TBPTT(model, rnnc.CrossEntropyLoss(), rnnc.optim.Adam(model.parameters(), lr=1e-2 if SMALL else 3e-3),
               clip_grad_norm=5.0)
    losses = []
    for i, (xb, yb) in enumerate(stream_batches(ids, batch_size=16, k=50)):
        if i == n_chunks:
            break
        losses.append(tr.train_chunk(xb, yb))
    model(vocab.encode(probe)[None])
    g = model[1].saved.gates(0, 0)[:, 0]
    saturated = np.mean((g[:, [0, 1, 3]] < 0.05) | (g[:, [0, 1, 3]] > 0.95))
    results[ln] = (losses, saturated)
    print(f"layer_norm={ln}: last-10 loss {np.mean(losses[-10:]):.3f}, saturated sigmoid gates {saturated:.1%}")

plt.figure(figsize=(8, 3))
for ln, (losses, _) in results.items():
    plt.plot(np.convolve(losses, np.ones(5) / 5, mode="valid"), label=f"layer_norm={ln}")
plt.xlabel("TBPTT chunk"); plt.ylabel("loss (nats/char)"); plt.legend(); plt.show()

# %% [markdown]
# ## Checking a backward with `rnnc.testing.gradcheck`
#
# A custom layer needs a hand-written `backward`, and a wrong one trains silently badly.
# `rnnc.testing.gradcheck` compares it with central differences in float64 — for every
# input entry and every parameter — and names what is wrong. Here `Scale` forgets a
# factor of `x` in its weight gradient.

# %%
from rnnc import testing


class Scale(rnnc.Module):
    """y = x * w (elementwise), with a backward that forgets a factor of x."""

    def __init__(self, n):
        super().__init__()
        self.w = rnnc.Parameter(np.linspace(0.5, 1.5, n))

    def forward(self, x):
        self.x = x
        return x * self.w.data

    def backward(self, d_out):
        self.w.grad += d_out.sum(axis=0)   # wrong: should be (d_out * self.x).sum(axis=0)
        return d_out * self.w.data          # right


model = rnnc.Sequential(rnnc.LSTM(3, 4, batch_first=True, dtype=np.float64, seed=0),
                        rnnc.LastStep(), Scale(4))
x = np.random.default_rng(0).standard_normal((2, 5, 3))
result = testing.gradcheck(model, x, raise_exception=False)
print(result)                       # names "2.w", its worst entry, analytic vs numerical


class FixedScale(Scale):
    def backward(self, d_out):
        self.w.grad += (d_out * self.x).sum(axis=0)   # dL/dw = sum over the batch of d_out * x
        return d_out * self.w.data


fixed = rnnc.Sequential(model[0], model[1], FixedScale(4))
print(testing.gradcheck(fixed, x))  # True
