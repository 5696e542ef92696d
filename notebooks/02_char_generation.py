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
# # 02 · Character-level language models and generation
#
# *Small mode:* start Jupyter with `RNNC_NOTEBOOK_SMALL=1` in the environment
# (`RNNC_NOTEBOOK_SMALL=1 jupyter lab`) and every experiment here runs on a subset in
# seconds to a minute, as in the test suite and the stored outputs; without it, full size.
#
# A language model predicts the next character from the ones before it. Trained on text,
# it outputs a **softmax** over the vocabulary at every step (**many-to-many**). Sampled
# and fed back in, one character at a time, it writes (**one-to-many**, autoregressive).

# %%
import os
import time

import numpy as np
import matplotlib.pyplot as plt

import rnnc

SMALL = os.environ.get("RNNC_NOTEBOOK_SMALL") == "1"   # small mode: see the first cell
print(f"rnnc {rnnc.__version__}, {rnnc.get_num_threads()} threads,", "small mode" if SMALL else "full size")

# %% [markdown]
# ## "hello": the smallest example
#
# Vocabulary h, e, l, o as one-hot vectors. Input `h e l l`, target `e l l o`: at each
# step the next character. Note that after the first `l` the answer is `l` and after the
# second it is `o`: the input alone cannot tell, the hidden state has to remember.

# %%
chars = ["h", "e", "l", "o"]
onehot = np.eye(4, dtype=np.float32)
x = onehot[[0, 1, 2, 2]][None]             # (B=1, T=4, 4): "hell"
y = np.array([[1, 2, 2, 3]])                # (1, 4): "ello"

model = rnnc.Sequential(rnnc.RNN(4, 8, batch_first=True, seed=0), rnnc.Linear(8, 4, seed=1))
loss_fn = rnnc.CrossEntropyLoss()           # softmax + cross-entropy at every step
opt = rnnc.optim.Adam(model.parameters(), lr=0.05)
losses = []
for step in range(100):
    loss = loss_fn(model(x), y)
    model.zero_grad()
    model.backward(loss_fn.backward())      # backpropagation through the 4 time steps
    opt.step()
    losses.append(loss)

model.eval()
probs = rnnc.losses.softmax(model(x)[0].astype(np.float64))  # (4, 4)
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].plot(losses); axes[0].set_yscale("log"); axes[0].set_title("loss"); axes[0].set_xlabel("step")
im = axes[1].imshow(probs, cmap="Blues", vmin=0, vmax=1)
axes[1].set_xticks(range(4), chars); axes[1].set_yticks(range(4), list("hell"))
axes[1].set_xlabel("next character"); axes[1].set_ylabel("input"); axes[1].set_title("softmax output")
for t in range(4):
    for j in range(4):
        axes[1].text(j, t, f"{probs[t, j]:.2f}", ha="center", va="center", fontsize=8)
plt.show()

# generate: start with "h", feed each prediction back in, carrying the hidden state
text, state = "h", None
for _ in range(4):
    logits, state = model(onehot[[chars.index(text[-1])]][None], state=state, return_state=True)
    text += chars[int(logits[0, -1].argmax())]
print("generated:", text)

# %% [markdown]
# ## A character model of Python source code
#
# The corpus is the Python standard library's own source, present on every machine that
# runs rnnc. The text is one long sequence; it is cut into `B` parallel streams and each
# stream into chunks of `k` steps: **truncated BPTT**. Each chunk starts from the hidden
# state where the previous one ended, but the gradient stops at the chunk boundary, so
# memory and time per update stay proportional to `k`.

# %%
from rnnc.datasets import load_python_stdlib_text
from rnnc.tbptt import TBPTT, stream_batches
from rnnc.text import Vocab

text = load_python_stdlib_text(max_chars=60_000 if SMALL else 1_000_000)
split = int(0.95 * len(text))
vocab = Vocab.from_texts([text[:split]], level="char", max_size=200)
train_ids, val_ids = vocab.encode(text[:split]), vocab.encode(text[split:])
print(f"{len(text):,} characters, vocabulary {len(vocab)}")

B, K = (16, 50) if SMALL else (32, 100)
x0, y0 = next(stream_batches(train_ids, batch_size=B, k=K))
print("one chunk: x", x0.shape, "y", y0.shape, "- y is x shifted by one character")
print(repr(vocab.decode(x0[0, :40])), "->", repr(vocab.decode(y0[0, :40])))

# %%
E, H = (16, 64) if SMALL else (64, 256)
lm = rnnc.Sequential(
    rnnc.Embedding(len(vocab), E, seed=0),
    rnnc.LSTM(E, H, batch_first=True, seed=1),
    rnnc.Linear(H, len(vocab), seed=2),           # logits at every step: (B, k, V)
)
trainer = TBPTT(lm, rnnc.CrossEntropyLoss(), rnnc.optim.Adam(lm.parameters(), lr=1e-2 if SMALL else 2e-3),
                clip_grad_norm=5.0)
t0 = time.perf_counter()
history = trainer.fit(train_ids, batch_size=B, k=K, epochs=2, val_data=val_ids, progress=True)
print(f"trained in {time.perf_counter() - t0:.1f} s;",
      f"validation {history['val_loss'][-1]:.3f} nats/char = {history['val_loss'][-1] / np.log(2):.2f} bits/char",
      f"(uniform: {np.log(len(vocab)) / np.log(2):.2f} bits)")

# %% [markdown]
# ## Sampling: temperature and top-k
#
# The softmax of `logits / T`: a low temperature sharpens the distribution (safe,
# repetitive text), a high one flattens it (varied, error-prone). Top-k keeps only the k
# most likely characters.

# %%
from rnnc.apps.charlm import generate

lm.eval()
logits, _ = lm(vocab.encode("    def __init__(self")[None], return_state=True)
last = logits[0, -1].astype(np.float64)
top = np.argsort(-last)[:8]
fig, ax = plt.subplots(figsize=(8, 2.5))
for i, T in enumerate([0.5, 1.0, 2.0]):
    p = rnnc.losses.softmax(last / T)
    ax.bar(np.arange(8) + 0.27 * (i - 1), p[top], width=0.27, label=f"T = {T}")
ax.set_xticks(range(8), [repr(vocab.itos[j]) for j in top])
ax.set_title('next character after "    def __init__(self"'); ax.legend()
plt.show()

for T, k in [(0.3, None), (0.8, None), (1.2, 10)]:
    print(f"--- temperature {T}, top-k {k} ---")
    print(generate(lm, vocab, prime="def ", length=150 if SMALL else 400, temperature=T, top_k=k, seed=0))

# %% [markdown]
# ## Generation with a cell, step by step
#
# `rnnc.LSTMCell` is one time step of the LSTM layer. Given the layer's weights it produces
# exactly the layer's states, one call per character: this is how a decoder runs when its
# next input is its own previous output. A **bidirectional** layer cannot be used here:
# its reverse direction would have to read characters that have not been generated yet.

# %%
lstm = lm[1]
cell = rnnc.LSTMCell(E, H)
for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
    getattr(cell, name).data[...] = getattr(lstm, name + "_l0").data
cell.eval()

prime = vocab.encode("import os\n")
emb = lm[0].weight.data[prime]                       # (T, E): the embedded characters
h = c = np.zeros((1, H), np.float32)
for t in range(len(prime)):                          # one step at a time
    h, c = cell(emb[t][None], (h, c))
out, (h_n, c_n) = lstm(emb[None])                    # the whole sequence at once
print("cell == layer:", np.allclose(h, h_n[0], atol=1e-5), np.allclose(c, c_n[0], atol=1e-5))

rng = np.random.default_rng(0)
generated = []
for _ in range(80):                                  # sample, embed, feed back
    p = rnnc.losses.softmax((lm[2](h)[0] / 0.7).astype(np.float64))
    p[:vocab.num_specials] = 0; p /= p.sum()
    nxt = rng.choice(len(vocab), p=p)
    generated.append(nxt)
    h, c = cell(lm[0].weight.data[[nxt]], (h, c))
print("import os\n" + vocab.decode(np.array(generated)))

# %% [markdown]
# ## C code
#
# The same model learns the look of C: here CPython's own header files (they come with
# every Python installation). With `python -m rnnc.apps.charlm --text FILE` any text file
# works, e.g. Shakespeare.

# %%
import glob, sysconfig

headers = sorted(glob.glob(os.path.join(sysconfig.get_paths()["include"], "**", "*.h"), recursive=True))
c_text = ""
for path in headers:
    with open(path, encoding="utf-8", errors="replace") as f:
        c_text += f.read()
    if len(c_text) > (40_000 if SMALL else 600_000):
        break
if len(c_text) < 5_000:
    print("no C headers found on this machine; skipping")
else:
    c_vocab = Vocab.from_texts([c_text], level="char", max_size=200)
    c_ids = c_vocab.encode(c_text)
    c_lm = rnnc.Sequential(rnnc.Embedding(len(c_vocab), E, seed=0), rnnc.LSTM(E, H, batch_first=True, seed=1),
                           rnnc.Linear(H, len(c_vocab), seed=2))
    c_trainer = TBPTT(c_lm, rnnc.CrossEntropyLoss(),
                      rnnc.optim.Adam(c_lm.parameters(), lr=1e-2 if SMALL else 2e-3), clip_grad_norm=5.0)
    h_c = c_trainer.fit(c_ids, batch_size=B, k=K, epochs=1 if SMALL else 3, progress=True)
    print(f"{len(c_text):,} characters of C, final loss {h_c['loss'][-1]:.3f} nats/char")
    print(generate(c_lm, c_vocab, prime="static int\n", length=300, temperature=0.6, seed=1))
