"""The sentiment model of rnnc.apps.sentiment, trained the same way in PyTorch.

Identical in everything but the library: the same data split, vocabulary and encoded
ids (rnnc.apps.sentiment.prepare_data), the same architecture (Embedding -> Dropout ->
LSTM -> masked pooling -> Dropout -> Linear), the same initial weights (copied from the
rnnc model built with the same seed), the same mini-batches in the same order (the
seeded permutation of rnnc.training.fit, padded per batch), Adam with the same learning
rate, the same gradient clipping, and the same early stopping on validation accuracy
(best weights restored).  Only dropout masks differ (each library draws its own).

    python bench/train_sentiment_torch.py                 # the app's default hyper-parameters
    python bench/train_sentiment_torch.py --quick --epochs 2
    python bench/compare_sentiment.py                     # both libraries, side by side

Threads: torch.set_num_threads(--threads, default 2).  Needs torch==2.13.0 (CPU):
`pip install torch==2.13.0`.
"""
from __future__ import annotations

import copy
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from rnnc.apps import sentiment  # noqa: E402
from rnnc.padding import pad_sequences  # noqa: E402


def _torch():
    try:
        import torch
    except ImportError:
        sys.exit("this benchmark needs PyTorch: pip install torch==2.13.0")
    return torch


def build_torch_model(vocab_size: int, num_classes: int, cfg: dict):
    """The PyTorch twin of sentiment.build_model (parameter names differ, shapes match)."""
    torch = _torch()
    nn = torch.nn
    bi = bool(cfg["bidirectional"])

    class TorchSentiment(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, cfg["embed"], padding_idx=0)
            self.drop_in = nn.Dropout(cfg["dropout"])
            self.lstm = nn.LSTM(cfg["embed"], cfg["hidden"], batch_first=True, bidirectional=bi)
            self.drop_out = nn.Dropout(cfg["dropout"])
            self.linear = nn.Linear(cfg["hidden"] * (2 if bi else 1), num_classes)

        def forward(self, ids, lengths):
            # ids (B, T) int64, lengths (B,) int64 >= 1
            x = self.drop_in(self.embedding(ids))                          # (B, T, E)
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            out, (h_n, _) = self.lstm(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                      total_length=ids.shape[1])  # (B, T, D*H)
            valid = (torch.arange(ids.shape[1])[None, :] < lengths[:, None])[..., None]
            if cfg["pool"] == "max":
                z = out.masked_fill(~valid, float("-inf")).max(dim=1).values
            elif cfg["pool"] == "mean":
                z = out.sum(dim=1) / lengths[:, None].to(out.dtype)
            else:  # last: forward at the last valid step, reverse at step 0 (= h_n)
                z = torch.cat([h_n[-2], h_n[-1]], dim=1) if bi else h_n[-1]
            return self.linear(self.drop_out(z))

    return TorchSentiment()


def copy_rnnc_weights(torch_model, rnnc_model) -> None:
    """Load the rnnc model's parameters (Sequential names "0.weight", "2.weight_ih_l0", ...)
    into the torch twin."""
    torch = _torch()
    mapping = {"0.weight": "embedding.weight", "5.weight": "linear.weight", "5.bias": "linear.bias"}
    state = {}
    for name, value in rnnc_model.state_dict().items():
        key = mapping.get(name) or ("lstm." + name[2:] if name.startswith("2.") else None)
        if key is None:
            raise KeyError(f"copy_rnnc_weights: unexpected rnnc parameter {name!r}")
        state[key] = torch.from_numpy(np.array(value))
    torch_model.load_state_dict(state, strict=True)


def _batch(torch, X, y, idx):
    ids, lengths = pad_sequences([X[i] for i in idx], batch_first=True)
    return (torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(lengths.astype(np.int64)),
            torch.from_numpy(np.asarray(y)[idx].astype(np.int64)))


def _evaluate(torch, model, X, y, batch_size=256):
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(X), batch_size):
            ids, lengths, target = _batch(torch, X, y, np.arange(s, min(s + batch_size, len(X))))
            logits = model(ids, lengths)
            loss_sum += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(1) == target).sum().item()
    model.train()
    return correct / len(X), loss_sum / len(X)


def train_torch(cfg: dict, data: "sentiment.SentimentData", threads: int = 2, progress: bool = True,
                log=print) -> dict:
    """Train the torch twin on `data` with `cfg`; returns accuracies, history and times."""
    torch = _torch()
    torch.set_num_threads(threads)
    torch.manual_seed(cfg["seed"])
    (Xtr, ytr, _), (Xva, yva, _), (Xte, yte, _) = data.train, data.val, data.test
    model = build_torch_model(len(data.vocab), len(data.label_names), cfg)
    copy_rnnc_weights(model, sentiment.build_model(len(data.vocab), len(data.label_names), cfg))
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    rng = np.random.default_rng(cfg["seed"])  # the same batch order as rnnc.training.fit
    history = {"loss": [], "val_loss": [], "val_accuracy": []}
    best, best_state, wait = None, None, 0
    bar_cls = None
    if progress:
        try:
            from tqdm.auto import tqdm as bar_cls
        except ImportError:
            bar_cls = None
    t0 = time.perf_counter()
    model.train()
    for epoch in range(cfg["epochs"]):
        order = rng.permutation(len(Xtr))
        batches = [order[s:s + cfg["batch_size"]] for s in range(0, len(order), cfg["batch_size"])]
        bar = bar_cls(total=len(batches), desc=f"torch epoch {epoch + 1}/{cfg['epochs']}",
                      unit="batch") if bar_cls else None
        loss_sum, seen = 0.0, 0
        for idx in batches:
            ids, lengths, target = _batch(torch, Xtr, ytr, idx)
            loss = torch.nn.functional.cross_entropy(model(ids, lengths), target)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
            optimizer.step()
            loss_sum, seen = loss_sum + loss.item() * len(idx), seen + len(idx)
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}")
        if bar:
            bar.close()
        val_acc, val_loss = _evaluate(torch, model, Xva, yva)
        history["loss"].append(loss_sum / len(Xtr))
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_acc)
        log(f"  torch epoch {epoch + 1:2d}: loss {loss_sum / len(Xtr):.4f} | val loss {val_loss:.4f} "
            f"val acc {val_acc:.3f}")
        if best is None or val_acc > best:  # EarlyStopping(monitor="val_accuracy")
            best, best_state, wait = val_acc, copy.deepcopy(model.state_dict()), 0
        else:
            wait += 1
            if wait > cfg["patience"]:
                break
    model.load_state_dict(best_state)
    train_seconds = time.perf_counter() - t0
    test_acc, test_loss = _evaluate(torch, model, Xte, yte)
    return {"test_accuracy": test_acc, "test_loss": test_loss, "val_accuracy": best,
            "best_epoch": int(np.argmax(history["val_accuracy"])) + 1,
            "epochs_run": len(history["loss"]), "train_seconds": train_seconds, "history": history}


def main(argv=None) -> dict:
    args = sentiment.parse_args(argv)
    cfg = sentiment.config_from_args(args)
    data = sentiment.prepare_data(cfg)
    res = train_torch(cfg, data, threads=args.threads or 2, progress=not args.no_progress)
    print(f"torch: test accuracy {res['test_accuracy']:.4f} (val {res['val_accuracy']:.4f}, "
          f"epoch {res['best_epoch']}), trained in {res['train_seconds']:.1f} s")
    return res


if __name__ == "__main__":
    main()
