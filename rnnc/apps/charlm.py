"""A character-level LSTM language model: learn to predict the next character, then write.

    python -m rnnc.apps.charlm                              # Python stdlib sources, train, sample
    python -m rnnc.apps.charlm --text shakespeare.txt --epochs 3 --prime "ROMEO:"
    python -m rnnc.apps.charlm --sample --prime "def " --temperature 0.6 --top-k 10
    python -m rnnc.apps.charlm --hello                      # the "hello" example, step by step

Training (many-to-many).  The text becomes one long sequence of character ids; at every
step the model reads one character and outputs a softmax over the vocabulary for the
next one (per-step cross-entropy).  The sequence is far too long for full BPTT, so it
is cut into --batch-size parallel streams and each stream into chunks of --bptt steps
(truncated BPTT, rnnc.tbptt): a chunk starts from the state the previous chunk ended
with, but the gradient stops at the chunk boundary.

    ids (B, k) -> Embedding -> LSTM (num_layers) -> Linear -> logits (B, k, V)

Generation (one-to-many, autoregressive).  Feed the prime string, then repeatedly take
the softmax of the last output, sharpen or flatten it with the temperature (logits / T),
keep the top-k characters, draw one, and feed it back in as the next input, carrying
the hidden state.  A bidirectional layer is impossible here: its reverse direction would
need the characters that have not been generated yet.

--hello is the lecture example: the vocabulary h, e, l, o as one-hot vectors, the input
"hell" and the target "ello"; a small vanilla RNN (or --cell lstm/gru) learns it, prints
the softmax at every step, and generates "hello" from "h".

Outputs: training writes, in --out DIR (default ./rnnc_charlm/), model.ckpt (weights,
configuration, training history; rnnc.checkpoint format) and vocab.json (the character
vocabulary); --sample reads both.  The generated text is printed.  --hello writes nothing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from rnnc import checkpoint
from rnnc import distributed as dist
from rnnc.layers import Embedding, Linear, Sequential
from rnnc.losses import CrossEntropyLoss, softmax
from rnnc.optim import Adam
from rnnc.recurrent import GRU, LSTM, RNN
from rnnc.tbptt import TBPTT
from rnnc.text import Vocab

from rnnc.apps._cli import UsageError, nonnegative_float, positive_int
from rnnc.apps import _cli

DEFAULT_OUT = "rnnc_charlm"
MODEL_FILE = "model.ckpt"
VOCAB_FILE = "vocab.json"

DEFAULTS = dict(max_chars=1_000_000, embed=64, hidden=256, layers=2, dropout=0.1, epochs=2,
                batch_size=32, bptt=100, lr=2e-3, clip=5.0, val_fraction=0.05, max_vocab=200)
QUICK = dict(max_chars=40_000, embed=16, hidden=64, layers=1, dropout=0.0, epochs=2,
             batch_size=16, bptt=32, lr=1e-2, clip=5.0, val_fraction=0.1, max_vocab=120)


# ------------------------------------------------------------------------------ model
def build_model(vocab_size: int, cfg: dict) -> Sequential:
    """Embedding -> LSTM -> Linear, giving next-character logits at every step."""
    seed = cfg.get("seed", 0)
    return Sequential(
        Embedding(vocab_size, cfg["embed"], seed=seed),
        LSTM(cfg["embed"], cfg["hidden"], num_layers=cfg["layers"], batch_first=True,
             dropout=cfg["dropout"] if cfg["layers"] > 1 else 0.0, seed=seed + 1),
        Linear(cfg["hidden"], vocab_size, seed=seed + 2),   # applied at every step
    )


def sample_next(logits: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
                top_k: int | None = None, banned=()) -> int:
    """Draw one id from logits (V,): softmax(logits / temperature) restricted to the top_k
    largest entries; `banned` ids (e.g. <pad>, <unk>) are never drawn.  temperature 0
    means greedy (argmax); top_k None means every character."""
    if not temperature >= 0:
        raise ValueError(f"sample_next: temperature must be >= 0 (0 = greedy), got {temperature}")
    if top_k is not None and (isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1):
        raise ValueError(f"sample_next: top_k must be an integer >= 1 or None, got {top_k!r}")
    z = np.array(logits, dtype=np.float64)
    z[list(banned)] = -np.inf
    if temperature <= 0:
        return int(np.argmax(z))
    z = z / temperature
    if top_k is not None and top_k < z.size:
        kth = np.partition(z, -top_k)[-top_k]
        z[z < kth] = -np.inf  # keep only the k most likely characters
    p = softmax(z)
    return int(rng.choice(z.size, p=p))


def generate(model, vocab: Vocab, prime: str = "\n", length: int = 300, temperature: float = 0.8,
             top_k: int | None = None, seed: int = 0) -> str:
    """Autoregressive sampling: run the prime through the model, then feed each sampled
    character back in as the next input, carrying the recurrent state."""
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    try:
        ids = vocab.encode(prime or "\n")
        if ids.size == 0:
            ids = vocab.encode("\n")
        banned = range(vocab.num_specials)
        logits, state = model(ids[None, :], return_state=True)   # (1, P, V): read the prime
        out = []
        for _ in range(length):
            nxt = sample_next(logits[0, -1], rng, temperature, top_k, banned)
            out.append(nxt)
            logits, state = model(np.array([[nxt]]), state=state, return_state=True)  # (1, 1, V)
    finally:
        model.train(was_training)
    return (prime or "") + vocab.decode(np.array(out, np.int64))


def save_model(out_dir, model, vocab, cfg, results) -> str:
    os.makedirs(out_dir, exist_ok=True)
    vocab.save(os.path.join(out_dir, VOCAB_FILE))
    extra = {"app": "rnnc.apps.charlm", "config": json.loads(json.dumps(cfg)),
             "results": json.loads(json.dumps(results))}
    return checkpoint.save(os.path.join(out_dir, MODEL_FILE), model, extra=extra)


def load_model(out_dir):
    """(model, vocab, config) saved by a training run."""
    path = os.path.join(out_dir, MODEL_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no trained model in {out_dir!r} (expected {MODEL_FILE}); train one "
                                f"first: python -m rnnc.apps.charlm --out {out_dir}")
    ckpt = checkpoint.load(path)
    extra = ckpt["extra"]
    if not isinstance(extra, dict) or extra.get("app") != "rnnc.apps.charlm":
        raise ValueError(f"{path!r} is not a checkpoint written by rnnc.apps.charlm")
    vocab = Vocab.load(os.path.join(out_dir, VOCAB_FILE))
    cfg = dict(extra["config"])
    model = build_model(len(vocab), cfg)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, vocab, cfg


# --------------------------------------------------------------------------- training
def train(cfg: dict, progress: bool = True, log=print, distributed: bool = False) -> dict:
    """distributed: data-parallel over the MPI ranks (rnnc.distributed); rank 0 logs and saves."""
    root = not distributed or dist.rank() == 0
    log = log if root else (lambda *a, **k: None)

    text = _load_text(cfg)
    n_val = max(int(len(text) * cfg["val_fraction"]), cfg["batch_size"] * 2 + 2)
    if len(text) - n_val < cfg["batch_size"] * 2 + 2:
        need = 2 * (cfg["batch_size"] * 2 + 2)
        raise UsageError(f"--text {cfg.get('text')!r} has {len(text)} characters: too short for "
                         f"--batch-size {cfg['batch_size']} streams (at least {need} characters; "
                         f"give a longer text or a smaller --batch-size)")
    train_text, val_text = text[:-n_val], text[-n_val:]
    vocab = Vocab.from_texts([train_text], level="char", max_size=cfg["max_vocab"])
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    V = len(vocab)
    log(f"text: {len(text):,} characters from {cfg.get('text') or 'the Python standard library sources'} "
        f"({len(train_ids):,} train / {len(val_ids):,} validation); vocabulary {V} characters")
    model = build_model(V, cfg)
    log(f"model: {model!r}".replace("\n", "\n       ") + f"\n       {model.num_parameters():,} parameters")
    trainer = TBPTT(model, CrossEntropyLoss(), Adam(model.parameters(), lr=cfg["lr"]),
                    clip_grad_norm=cfg["clip"], distributed=distributed)
    val_before = trainer.evaluate(val_ids, batch_size=cfg["batch_size"], k=cfg["bptt"])
    log(f"validation loss before training {val_before:.3f} nats/char (uniform guess: ln {V} = {math.log(V):.3f})")
    t0 = time.perf_counter()
    history = trainer.fit(train_ids, batch_size=cfg["batch_size"], k=cfg["bptt"], epochs=cfg["epochs"],
                          val_data=val_ids, progress=progress)
    train_seconds = time.perf_counter() - t0
    for e, (l, vl) in enumerate(zip(history.history["loss"], history.history.get("val_loss", []))):
        log(f"  epoch {e + 1}: loss {l:.3f} | val loss {vl:.3f} nats/char = {vl / math.log(2):.3f} bits/char")
    results = {"val_loss_before": float(val_before),
               "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
               "val_loss": float(history.history["val_loss"][-1]), "train_seconds": train_seconds,
               "vocab_size": V, "characters": len(text)}
    results["val_bits_per_char"] = results["val_loss"] / math.log(2)
    log(f"trained in {train_seconds:.1f} s")
    if root:
        save_model(cfg["out"], model, vocab, cfg, results)
    log(f"saved {os.path.join(cfg['out'], MODEL_FILE)} and {VOCAB_FILE}")
    results.update(model=model, vocab=vocab)
    return results


def _load_text(cfg: dict) -> str:
    """The training text; a --text file that cannot be read as asked is a UsageError."""
    from rnnc.datasets import TextDecodeError, load_char_corpus

    encoding = cfg.get("encoding", "utf-8")
    try:
        return load_char_corpus(cfg.get("text"), max_chars=cfg["max_chars"], encoding=encoding)
    except TextDecodeError as exc:
        raise UsageError(f"--text {cfg.get('text')!r} is not {encoding} text ({exc.reason}); "
                         f"give its encoding with --encoding, e.g. --encoding latin-1") from None
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows") from None
    except (ValueError, OSError) as exc:  # an empty file, a directory, an unreadable file
        raise UsageError(f"--text: {exc}") from None


# ------------------------------------------------------------------------------ hello
def hello(cell: str = "rnn", hidden: int = 8, steps: int = 150, lr: float = 0.05, seed: int = 0,
          log=print) -> dict:
    """The lecture's "hello": one-hot h, e, l, o; input "hell", target "ello"."""
    chars = ["h", "e", "l", "o"]
    index = {c: i for i, c in enumerate(chars)}
    onehot = np.eye(4, dtype=np.float32)
    x = onehot[[index[c] for c in "hell"]][None]                 # (1, 4, 4): one sample, 4 steps
    y = np.array([[index[c] for c in "ello"]])                   # (1, 4): the next characters
    layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[cell]
    model = Sequential(layer(4, hidden, batch_first=True, seed=seed), Linear(hidden, 4, seed=seed + 1))
    loss_fn = CrossEntropyLoss()
    opt = Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        loss = loss_fn(model(x), y)                               # per-step softmax cross-entropy
        model.zero_grad()
        model.backward(loss_fn.backward())                        # BPTT through the 4 steps
        opt.step()
        losses.append(loss)
        if step % max(steps // 5, 1) == 0 or step == steps - 1:
            log(f"  step {step:4d}  loss {loss:.4f}")
    model.eval()
    probs = softmax(model(x)[0].astype(np.float64))               # (4, 4)
    log("softmax output per step (rows: input char; columns: P(next = h, e, l, o)):")
    for t, c in enumerate("hell"):
        log(f"  {c} -> " + "  ".join(f"{chars[j]}:{probs[t, j]:.2f}" for j in range(4))
            + f"   predicts {chars[int(probs[t].argmax())]!r}")
    # generation: start from "h", feed the argmax back in, one step at a time
    text, state = "h", None
    for _ in range(4):
        logits, state = model(onehot[[index[text[-1]]]][None], state=state, return_state=True)
        text += chars[int(np.argmax(logits[0, -1]))]
    log(f"generated from 'h': {text!r}")
    return {"losses": losses, "probs": probs, "generated": text, "model": model}


# ------------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = _cli.parser("python -m rnnc.apps.charlm", __doc__)
    p.add_argument("--hello", action="store_true", help="the tiny 'hello' demo (one-hot, 4 characters)")
    p.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn", help="cell of the --hello demo")
    p.add_argument("--sample", action="store_true", help="sample from the saved model (no training)")
    p.add_argument("--text", help="train on this text file (default: the Python stdlib sources)")
    p.add_argument("--encoding", default="utf-8", help="the --text file's encoding (utf-8)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default ./{DEFAULT_OUT}/)")
    p.add_argument("--quick", action="store_true", help="a 40k-character corpus and a small model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-chars", type=positive_int, help="use at most this many characters (1,000,000)")
    p.add_argument("--epochs", type=positive_int, help="passes over the text (2)")
    p.add_argument("--embed", type=positive_int, help="character embedding size (64)")
    p.add_argument("--hidden", type=positive_int, help="LSTM hidden size (256)")
    p.add_argument("--layers", type=positive_int, help="stacked LSTM layers (2)")
    p.add_argument("--dropout", type=_cli.dropout_rate, help="dropout between stacked layers (0.1)")
    p.add_argument("--batch-size", type=positive_int, help="parallel streams (32)")
    p.add_argument("--bptt", type=positive_int, help="truncated-BPTT chunk length in characters (100)")
    p.add_argument("--lr", type=_cli.positive_float, help="Adam learning rate (2e-3)")
    p.add_argument("--clip", type=_cli.positive_float, help="max global gradient norm per chunk (5.0)")
    p.add_argument("--prime", default="def ", help="text to start generating from ('def ')")
    p.add_argument("--length", type=positive_int, default=400, help="characters to generate (400)")
    p.add_argument("--temperature", type=nonnegative_float, default=0.7, help="softmax temperature (0.7; 0 = greedy)")
    p.add_argument("--top-k", type=positive_int, default=None, help="sample among the k most likely characters")
    p.add_argument("--threads", type=positive_int, help="rnnc compute threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI ranks: mpiexec -n 2 python -m "
                        "rnnc.apps.charlm --distributed (the --batch-size streams are split)")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def config_from_args(args) -> dict:
    cfg = dict(QUICK if args.quick else DEFAULTS)
    for key in ("max_chars", "epochs", "embed", "hidden", "layers", "dropout", "batch_size", "bptt",
                "lr", "clip"):
        v = getattr(args, key)
        if v is not None:
            cfg[key] = v
    cfg.update(text=args.text, encoding=args.encoding, out=args.out, seed=args.seed,
               quick=bool(args.quick))
    return cfg


def main(argv=None) -> dict:
    """Run the app; returns a dict of results ("history", "val_loss", "sample", ...).
    A flag that cannot work is an argparse error (SystemExit 2, the message on stderr)."""
    return _cli.run_app(build_parser, _run, argv)


def _run(args) -> dict:
    if args.hello:
        return hello(cell=args.cell, seed=args.seed)
    if args.sample:
        model, vocab, cfg = load_model(args.out)
        results = {}
    else:
        cfg = config_from_args(args)
        results = train(cfg, progress=not args.no_progress, distributed=args.distributed)
        if args.distributed and dist.rank() != 0:
            return results
        model, vocab = results["model"], results["vocab"]
    text = generate(model, vocab, prime=args.prime, length=args.length, temperature=args.temperature,
                    top_k=args.top_k, seed=args.seed)
    print(f"--- sample (temperature {args.temperature}, top-k {args.top_k}) ---\n{text}\n---")
    results["sample"] = text
    return results


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as exc:
        sys.exit(f"error: {exc}")
