#!/usr/bin/env bash
# Valgrind memcheck over a short subset: every extension entry point a few times, on
# the normal in-place build (build it first).  Valgrind's virtual CPU has no AVX-512,
# so the runtime dispatch takes the AVX2 (or portable) path; the script runs that path
# and the portable one.  Prints valgrind's summaries, then how many error contexts and
# definite leaks have rnnc's own code (rnnc/_C*.so) on their stack; fails if any do.
# (The others are the interpreter's and numpy's: this CPython is not built for valgrind.)
#
#   tests/valgrind.sh            (about a minute)
set -euo pipefail
status=0
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log="$(mktemp "${TMPDIR:-/tmp}/rnnc-valgrind.XXXXXX.log")"
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
python="$(python -c 'import sys; print(sys.executable)')"  # the interpreter, not a shim

# PYTHONMALLOC=malloc: every Python allocation goes through malloc, so memcheck sees it
PYTHONMALLOC=malloc PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" RNNC_NUM_THREADS=2 \
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
         --errors-for-leak-kinds=none --num-callers=30 --log-file="$log" \
"$python" - <<'EOF' || status=$?
import numpy as np
import rnnc
from rnnc import _C, optim
from rnnc import functional as F
from rnnc import reference as ref
from rnnc.normalization import layer_norm, layer_norm_backward

rng = np.random.default_rng(0)
for isa in ("portable", _C.best_isa()):
    _C.set_isa(isa)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((5, 3, 4)).astype(dtype)
        lengths = np.array([5, 0, 3])
        for cell, ln, proj in (("rnn_tanh", False, 0), ("rnn_relu", False, 0), ("lstm", False, 3),
                               ("lstm", True, 0), ("gru", True, 0), ("gru", False, 0)):
            w = ref.init_weights(cell, 4, 6, 2, True, proj, True, ln, rng=0, dtype=dtype)
            kw = dict(num_layers=2, bidirectional=True, lengths=lengths, dropout=0.3, seed=1)
            if cell == "lstm":
                out, (hn, cn), s = F.lstm_forward(x, w, layer_norm=ln, **kw)
                F.lstm_backward(s, out, hn, cn)
                F.lstm_forward(x, w, layer_norm=ln, training=False, **kw)
            elif cell == "gru":
                out, hn, s = F.gru_forward(x, w, layer_norm=ln, **kw)
                F.gru_backward(s, out, hn)
            else:
                out, hn, s = F.rnn_forward(x, w, nonlinearity=cell[4:], **kw)
                F.rnn_backward(s, out, hn)
            s.gates(1, 1), s.hidden(0, 1)
            for T0, B0 in ((0, 3), (5, 0)):  # empty sequences
                F.gru_forward(np.zeros((T0, B0, 4), dtype), ref.init_weights("gru", 4, 6, dtype=dtype))
        out, sv = layer_norm(rng.standard_normal((7, 9)).astype(dtype), np.ones(9, dtype), np.zeros(9, dtype))
        layer_norm_backward(sv, np.ones_like(out))
        ps = [rnnc.Parameter(np.ones((4, 5), dtype)), rnnc.Parameter(np.ones(7, dtype))]
        for p in ps:
            p.grad[...] = 3.0
        rnnc.clip_grad_norm_(ps, 1.0)
        rnnc.clip_grad_value_(ps, 0.1)
        optim.SGD(ps, lr=0.1, momentum=0.9).step()
        optim.Adam(ps, amsgrad=True).step()
        a, b = rng.standard_normal((33, 70)).astype(dtype), rng.standard_normal((70, 45)).astype(dtype)
        _C.gemm(a, b), _C.gemm(a[:1], b), _C.gemm(b, a, trans_a=True, trans_b=True)
        for bad in (lambda: F.lstm_forward(x, {}), lambda: _C.gemm(a, a)):  # error paths
            try:
                bad()
            except (ValueError, TypeError):
                pass
m = rnnc.LSTM(4, 8, num_layers=2, batch_first=True)
out, _ = m(np.ones((2, 3, 4), np.float32))
m.backward(np.ones_like(out))
print("subset done")
EOF
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable" "$log"
"$python" - "$log" <<'EOF' || status=1
import re, sys
records = re.split(r"\n==\d+== \n", open(sys.argv[1]).read())
errors = [r for r in records if re.search(r"== (Invalid|Conditional jump|Use of uninitialised|"
                                          r"Mismatched|Syscall param|Source and destination)", r)]
leaks = [r for r in records if "definitely lost in loss record" in r]
ours = [r for r in errors + leaks if "_C.cpython" in r]
print(f"in rnnc._C: {sum(r in ours for r in errors)} of {len(errors)} error contexts, "
      f"{sum(r in ours for r in leaks)} of {len(leaks)} definite leak records")
print("\n\n".join(ours[:10]))
sys.exit(1 if ours else 0)
EOF
echo "full log: $log"
exit $status
