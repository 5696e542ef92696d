"""Finite-difference and semantic checks of reference.rnn_forward / rnn_backward.

The option grid (cell kind x layers 1-3 x uni/bidirectional x lengths x projection x
bias x layer_norm x dropout) has 384 points; FD over all of them would take minutes,
so we test a deterministic 3-wise covering subset: every combination of values of any
three options appears in at least one tested case (per cell kind).
"""
import itertools
import zlib

import numpy as np
import pytest

from rnnc import reference as ref

FD_EPS = 1e-6
FD_TOL = 1e-6
T, B, I = 4, 3, 3
LENGTHS = np.array([T, 0, 2])        # a full length, a zero length and one in between


def fd_relative_errors(loss, arrays, grads, rng, max_entries=6, eps=FD_EPS):
    """Central differences on up to max_entries random entries of every array.

    Perturbs arrays in place (and restores them).  Returns {name: relative error},
    the error being max|fd - analytic| / max(|fd|, |analytic|) over the entries."""
    errors = {}
    for name, a in arrays.items():
        flat = a.reshape(-1)                      # a view: arrays are C-contiguous
        if flat.size <= max_entries:
            entries = np.arange(flat.size)
        else:
            entries = rng.choice(flat.size, max_entries, replace=False)
        fd = np.empty(len(entries))
        for n, i in enumerate(entries):
            old = flat[i]
            flat[i] = old + eps
            loss_plus = loss()
            flat[i] = old - eps
            loss_minus = loss()
            flat[i] = old
            fd[n] = (loss_plus - loss_minus) / (2 * eps)
        analytic = grads[name].reshape(-1)[entries]
        scale = max(np.abs(fd).max(initial=0.0), np.abs(analytic).max(initial=0.0))
        errors[name] = float(np.abs(fd - analytic).max(initial=0.0) / scale) if scale else 0.0
    return errors


def covering_cases(options, strength=3):
    """Greedy t-wise covering subset of the product of `options` (a dict of lists)."""
    names = list(options)
    product = [dict(zip(names, values)) for values in itertools.product(*options.values())]
    strength = min(strength, len(names))

    def tuples(case):
        return {tuple((n, case[n]) for n in subset)
                for subset in itertools.combinations(names, strength)}

    uncovered = set().union(*(tuples(c) for c in product))
    chosen = []
    while uncovered:
        best = max(product, key=lambda c: len(tuples(c) & uncovered))
        chosen.append(best)
        uncovered -= tuples(best)
    return chosen


def grid_for(cell):
    options = {"num_layers": [1, 2, 3], "bidirectional": [False, True],
               "with_lengths": [False, True], "bias": [True, False], "dropout": [0.0, 0.4]}
    if cell == "lstm":
        options["proj_size"] = [0, 2]
    if cell in ("lstm", "gru"):
        options["layer_norm"] = [False, True]
    return [pytest.param(cell, case, id=f"{cell}-" + "-".join(f"{k}={v}" for k, v in case.items()))
            for case in covering_cases(options)]


GRID = [p for cell in ("rnn_tanh", "rnn_relu", "gru", "lstm") for p in grid_for(cell)]


def random_problem(cell, rng, *, num_layers=1, bidirectional=False, proj_size=0, bias=True,
                   layer_norm=False, hidden_size=3, T=T, B=B):
    """Weights with generic values (LN gains/biases perturbed away from 1/0), x, h0, c0."""
    weights = ref.init_weights(cell, I, hidden_size, num_layers, bidirectional, proj_size=proj_size,
                               bias=bias, layer_norm=layer_norm, rng=rng)
    for name, w in weights.items():
        if name.startswith("ln_"):
            w += 0.3 * rng.standard_normal(w.shape)
        else:
            w *= 2.0                                   # stronger weights: gates leave the linear zone
    D, R = (2 if bidirectional else 1), proj_size or hidden_size
    x = rng.standard_normal((T, B, I))
    h0 = 0.5 * rng.standard_normal((num_layers * D, B, R))
    c0 = 0.5 * rng.standard_normal((num_layers * D, B, hidden_size)) if cell == "lstm" else None
    return weights, x, h0, c0


@pytest.mark.parametrize("cell, case", GRID)
def test_rnn_backward_matches_finite_differences(cell, case):
    rng = np.random.default_rng(zlib.crc32(repr((cell, sorted(case.items()))).encode()))
    kwargs = dict(num_layers=case["num_layers"], bidirectional=case["bidirectional"],
                  lengths=LENGTHS if case["with_lengths"] else None, dropout=case["dropout"],
                  seed=1234, training=True, layer_norm=case.get("layer_norm", False))
    weights, x, h0, c0 = random_problem(cell, rng, num_layers=case["num_layers"],
                                        bidirectional=case["bidirectional"],
                                        proj_size=case.get("proj_size", 0), bias=case["bias"],
                                        layer_norm=case.get("layer_norm", False))
    out, h_n, c_n, cache = ref.rnn_forward(cell, x, weights, h0, c0, **kwargs)
    # loss = <out, w_out> + <h_n, w_h> (+ <c_n, w_c>): its gradients are the weights
    w_out, w_h = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)
    w_c = rng.standard_normal(c_n.shape) if c_n is not None else None
    grads = ref.rnn_backward(cache, w_out, w_h, w_c)

    def loss():
        o, hn, cn, _ = ref.rnn_forward(cell, x, weights, h0, c0, **kwargs)
        return np.sum(o * w_out) + np.sum(hn * w_h) + (np.sum(cn * w_c) if cn is not None else 0.0)

    arrays = {"x": x, "h0": h0, **weights}
    if c0 is not None:
        arrays["c0"] = c0
    assert set(grads) == set(arrays)
    errors = fd_relative_errors(loss, arrays, grads, rng)
    worst = max(errors, key=errors.get)
    print(f"max relative FD error {errors[worst]:.2e} ({worst})")
    assert errors[worst] < FD_TOL, errors


# ------------------------------------------------------------------- semantics

@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_each_sample_behaves_as_if_alone_and_truncated(cell, bidirectional):
    """Variable lengths = running each sample alone on its own valid prefix.  This is
    what makes the reverse direction start at the sample's own last valid step."""
    rng = np.random.default_rng(7)
    L = 2
    weights, x, h0, c0 = random_problem(cell, rng, num_layers=L, bidirectional=bidirectional,
                                        T=5, B=4)
    lengths = np.array([5, 3, 0, 1])
    out, h_n, c_n, _ = ref.rnn_forward(cell, x, weights, h0, c0, num_layers=L,
                                       bidirectional=bidirectional, lengths=lengths)
    for b, n in enumerate(lengths):
        alone = ref.rnn_forward(cell, x[:n, b:b + 1], weights, h0[:, b:b + 1],
                                None if c0 is None else c0[:, b:b + 1],
                                num_layers=L, bidirectional=bidirectional)
        np.testing.assert_allclose(out[:n, b], alone[0][:, 0], rtol=1e-13, atol=1e-14)
        np.testing.assert_array_equal(out[n:, b], 0.0)          # padded outputs are zero
        np.testing.assert_allclose(h_n[:, b], alone[1][:, 0], rtol=1e-13, atol=1e-14)
        if c_n is not None:
            np.testing.assert_allclose(c_n[:, b], alone[2][:, 0], rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(h_n[:, 2], h0[:, 2])          # length 0: h_n = h0
    if c_n is not None:
        np.testing.assert_array_equal(c_n[:, 2], c0[:, 2])


@pytest.mark.parametrize("cell", ["rnn_relu", "lstm", "gru"])
def test_gradients_only_flow_through_valid_steps(cell):
    rng = np.random.default_rng(3)
    weights, x, h0, c0 = random_problem(cell, rng, num_layers=2, bidirectional=True)
    out, h_n, c_n, cache = ref.rnn_forward(cell, x, weights, h0, c0, num_layers=2,
                                           bidirectional=True, lengths=LENGTHS)
    d_out = rng.standard_normal(out.shape)
    grads = ref.rnn_backward(cache, d_out, np.ones_like(h_n))
    invalid = np.arange(T)[:, None] >= LENGTHS[None, :]          # (T, B)
    assert np.all(grads["x"][invalid] == 0.0)
    # d_out entries at invalid steps are ignored, even huge or NaN ones
    d_out_noisy = d_out.copy()
    d_out_noisy[invalid] = np.nan
    grads_noisy = ref.rnn_backward(cache, d_out_noisy, np.ones_like(h_n))
    for name in grads:
        np.testing.assert_array_equal(grads_noisy[name], grads[name], err_msg=name)


def test_zero_length_sequence_and_defaults():
    rng = np.random.default_rng(0)
    weights, _, h0, c0 = random_problem("lstm", rng, num_layers=2, bidirectional=True)
    x = np.zeros((0, B, I))
    out, h_n, c_n, cache = ref.rnn_forward("lstm", x, weights, h0, c0, num_layers=2,
                                           bidirectional=True)
    assert out.shape == (0, B, 2 * 3)
    np.testing.assert_array_equal(h_n, h0)
    np.testing.assert_array_equal(c_n, c0)
    assert cache.gates(1, 1).shape == (0, B, 4, 3)
    grads = ref.rnn_backward(cache, d_h_n=np.ones_like(h_n), d_c_n=2 * np.ones_like(c_n))
    np.testing.assert_array_equal(grads["h0"], 1.0)
    np.testing.assert_array_equal(grads["c0"], 2.0)
    assert all(np.all(grads[n] == 0) for n in weights)
    # h0 = None means zeros, and gradients with no upstream are zero
    out2, h_n2, c_n2, cache2 = ref.rnn_forward("gru", rng.standard_normal((T, B, I)),
                                               ref.init_weights("gru", I, 3, rng=1))
    assert c_n2 is None and h_n2.shape == (1, B, 3)
    assert all(np.all(g == 0) for g in ref.rnn_backward(cache2).values())


def test_cache_layout_matches_rnnc_h():
    """hidden(l, d) is in the time order of rnnc.h; gates and hn_pre have the right shapes."""
    rng = np.random.default_rng(5)
    weights, x, h0, c0 = random_problem("gru", rng, num_layers=2, bidirectional=True)
    out, h_n, _, cache = ref.rnn_forward("gru", x, weights, h0, num_layers=2, bidirectional=True,
                                         lengths=LENGTHS)
    for l in range(2):
        fwd, rev = cache.hidden(l, 0), cache.hidden(l, 1)
        np.testing.assert_array_equal(fwd[0], h0[2 * l])             # forward: hs[0] = h0
        np.testing.assert_array_equal(rev[T], h0[2 * l + 1])         # reverse: hs[T] = h0
        np.testing.assert_array_equal(fwd[T], h_n[2 * l])
        np.testing.assert_array_equal(rev[0], h_n[2 * l + 1])
        valid = np.arange(T)[:, None] < LENGTHS[None, :]
        # at valid steps the gates' n, z and hs reproduce h' = (1-z)*n + z*h
        r, z, n = np.moveaxis(cache.gates(l, 0), 2, 0)
        h_new = (1 - z) * n + z * fwd[:-1]
        np.testing.assert_allclose(fwd[1:][valid], h_new[valid], rtol=1e-14)
        assert cache.hn_pre(l, 0).shape == (T, B, 3)
    np.testing.assert_array_equal(cache.layer_in(1)[..., :3], cache.hidden(0, 0)[1:] * valid[..., None])


def test_lstm_cache_with_projection_and_layer_norm():
    rng = np.random.default_rng(6)
    weights, x, h0, c0 = random_problem("lstm", rng, proj_size=2, layer_norm=True)
    out, h_n, c_n, cache = ref.rnn_forward("lstm", x, weights, h0, c0, layer_norm=True)
    assert cache.hidden().shape == (T + 1, B, 2) and cache.cell().shape == (T + 1, B, 3)
    np.testing.assert_allclose(cache.proj_in() @ weights["weight_hr_l0"].T, out, rtol=1e-13)
    assert cache.ln_xhat(0, 0, "ih").shape == (T, B, 12)
    assert cache.ln_rstd(0, 0, "c").shape == (T, B)
    # c' itself (not its normalised value) is the carried cell state
    i, f, g, o = np.moveaxis(cache.gates(), 2, 0)
    np.testing.assert_allclose(cache.cell()[1:], f * cache.cell()[:-1] + i * g, rtol=1e-13)


def test_dropout_mask_follows_the_counter_rule():
    rng = np.random.default_rng(8)
    L, p, seed = 3, 0.3, 99
    weights, x, h0, c0 = random_problem("lstm", rng, num_layers=L, bidirectional=True, proj_size=2,
                                        T=6, B=5)
    out, h_n, _, cache = ref.rnn_forward("lstm", x, weights, h0, c0, num_layers=L,
                                         bidirectional=True, dropout=p, seed=seed)
    DR = 2 * 2
    for l in range(L - 1):
        mask = cache.masks[l]
        assert mask.shape == (6, 5, DR)
        for (t, b, j) in [(0, 0, 0), (5, 4, 3), (2, 3, 1)]:
            u = ref.dropout_uniform(seed, l, (t * 5 + b) * DR + j)
            assert mask[t, b, j] == (1 / (1 - p) if u >= p else 0.0)
        undropped = np.concatenate([cache.hidden(l, 0)[1:], cache.hidden(l, 1)[:-1]], axis=2)
        np.testing.assert_array_equal(cache.layer_in(l + 1), undropped * mask)
    # a different layer index gives a different mask; eval mode or p = 0 means no dropout
    assert not np.array_equal(cache.masks[0], cache.masks[1])
    eval_out = ref.rnn_forward("lstm", x, weights, h0, c0, num_layers=L, bidirectional=True,
                               dropout=p, seed=seed, training=False)[0]
    plain_out = ref.rnn_forward("lstm", x, weights, h0, c0, num_layers=L, bidirectional=True)[0]
    np.testing.assert_array_equal(eval_out, plain_out)
    assert not np.allclose(out, plain_out)
    # the kept fraction is close to 1 - p over many draws
    keep = ref.dropout_mask(seed, 0, (100, 10, 100), p) > 0
    assert abs(keep.mean() - (1 - p)) < 0.01


def test_input_validation():
    w = ref.init_weights("lstm", I, 3, 2, proj_size=2)
    x = np.zeros((T, B, I))
    with pytest.raises(ValueError, match="lengths"):
        ref.rnn_forward("lstm", x, w, num_layers=2, lengths=np.array([1, 2, 5]))
    with pytest.raises(ValueError, match="weight_ih_l1"):
        ref.rnn_forward("lstm", x, {k: v for k, v in w.items() if k != "weight_ih_l1"}, num_layers=2)
    with pytest.raises(ValueError, match="h0"):
        ref.rnn_forward("lstm", x, w, np.zeros((2, B, 3)), num_layers=2)
    with pytest.raises(ValueError, match="cell"):
        ref.rnn_forward("lstn", x, w, num_layers=2)
    with pytest.raises(ValueError, match="unexpected"):
        ref.rnn_forward("lstm", x, w, num_layers=1)
    with pytest.raises(ValueError, match="layer_norm"):
        ref.init_weights("rnn_tanh", I, 3, layer_norm=True)
    with pytest.raises(ValueError, match="dropout"):
        ref.rnn_forward("lstm", x, w, num_layers=2, dropout=1.0)
