/*
 * rnnc.h -- the public C API of the rnnc core.  This header is the documentation.
 *
 * The core is pure C11: it never includes Python.h or NumPy headers, never prints,
 * never exits.  Every function returns an rnnc_status.  Enums are only ever appended
 * to, never reordered.
 *
 * Contract for every function below (in the spirit of haste.h / llm.c):
 *   - Pointers may not be NULL unless the comment says "or NULL".
 *   - Arrays are dense and C-ordered: the rightmost dimension is fastest.
 *     Shapes are written in brackets, e.g. [T, B, I].
 *   - "void *" buffers hold elements of the dtype named by the call (float or double).
 *   - Backward functions ADD into their gradient outputs (callers zero them first),
 *     so gradients of shared weights accumulate, as in llm.c.
 *   - Sizes may be 0: the call then does no arithmetic and returns RNNC_OK, still
 *     writing the outputs that are defined (for example h_n = h0 when T == 0).
 *   - All functions are re-entrant: several threads may call them at once.
 *
 * Shape legend (recurrent layers)
 *   T  time steps                  B  batch size
 *   I  input features of layer 0   H  hidden units per direction
 *   P  LSTM projection size, 0 = no projection
 *   R  width of h: P if P > 0 else H
 *   G  gates per hidden unit: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)
 *   L  layers                      D  directions (1, or 2 when bidirectional)
 *   In_l  input width of layer l: I for l == 0, else D*R
 */
#ifndef RNNC_H
#define RNNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

typedef enum {
    RNNC_OK = 0,
    RNNC_ERR_SIZE = 1,      /* a size is negative, inconsistent, or overflows */
    RNNC_ERR_NOMEM = 2,     /* an allocation failed */
    RNNC_ERR_ARG = 3,       /* a NULL pointer or an out-of-range option */
    RNNC_ERR_LENGTHS = 4,   /* lengths[b] outside [0, T] */
    RNNC_ERR_NONFINITE = 5, /* a NaN or inf where the call forbids it */
    RNNC_ERR_ISA = 6        /* the requested instruction set is not available */
} rnnc_status;

/* A short English message for a status; never NULL. */
const char *rnnc_status_string(rnnc_status s);

typedef enum { RNNC_F32 = 0, RNNC_F64 = 1 } rnnc_dtype;

/* ------------------------------------------------- threads and CPU dispatch */

/* Number of threads the core's kernels use (>= 1).  The default is taken from the
 * environment variable RNNC_NUM_THREADS, else the number of online CPUs. */
rnnc_status rnnc_set_num_threads(int n);
int rnnc_get_num_threads(void);

typedef enum {
    RNNC_ISA_PORTABLE = 0,  /* plain C, vectorised by the compiler */
    RNNC_ISA_AVX2 = 1,      /* AVX2 + FMA */
    RNNC_ISA_AVX512 = 2     /* AVX-512F */
} rnnc_isa;

/* Best ISA this CPU supports (detected at run time, once). */
rnnc_isa rnnc_best_isa(void);
/* Force a path (tests use this).  RNNC_ERR_ISA if the CPU lacks it. */
rnnc_status rnnc_set_isa(rnnc_isa isa);
rnnc_isa rnnc_get_isa(void);

/* -------------------------------------------------------------------- GEMM */

/* C[M, N] = alpha * op(A) @ op(B) + beta * C, all row-major.
 *   op(A) is [M, K]: A is [M, lda>=K] when transA == 0, or [K, lda>=M] when transA == 1.
 *   op(B) is [K, N]: B is [K, ldb>=N] when transB == 0, or [N, ldb>=K] when transB == 1.
 *   C is [M, ldc>=N].  When beta == 0, C is not read (NaN in C does not leak).
 * The one small interface every matrix product in the core goes through. */
rnnc_status rnnc_gemm(rnnc_dtype dt, int transA, int transB,
                      int64_t M, int64_t N, int64_t K,
                      double alpha, const void *A, int64_t lda,
                      const void *B, int64_t ldb,
                      double beta, void *C, int64_t ldc);

/* ------------------------------------------------------- recurrent layers */

typedef enum {
    RNNC_RNN_TANH = 0,  /* h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
    RNNC_RNN_RELU = 1,  /* h' = relu(W_ih x + b_ih + W_hh h + b_hh) */
    RNNC_LSTM = 2,      /* gates i, f, g, o; c' = f*c + i*g; h' = W_hr (o * tanh(c')) */
    RNNC_GRU = 3        /* gates r, z, n; n = tanh(W_in x + b_in + r*(W_hn h + b_hn));
                           h' = (1 - z)*n + z*h */
} rnnc_cell;

/* Number of gates G for a cell kind. */
int rnnc_cell_gates(rnnc_cell cell);

/* More layers than anyone stacks; keeps the layout walk (O(L) per lookup) cheap. */
#define RNNC_MAX_LAYERS 4096

typedef struct {
    rnnc_cell cell;
    rnnc_dtype dtype;
    int64_t T, B, H;
    int64_t input_size; /* I (named in full: complex.h defines a macro I) */
    int64_t P;          /* LSTM projection size; 0 = none (must be 0 for other cells) */
    int64_t L;          /* layers, 1 .. RNNC_MAX_LAYERS */
    int64_t D;          /* 1 or 2 */
    int training;       /* 1: fill `saved` for backward; 0: inference, saves nothing */
    double dropout;     /* inverted dropout on the output of layers 0..L-2, in [0, 1);
                           applied only when training */
    uint64_t seed;      /* dropout seed, see rnnc_dropout_uniform */
    int layer_norm;     /* 1: layer-normalised LSTM/GRU (see below); 0: plain */
    int check_products; /* 1 (inference without layer norm or projection only): the
                           caller has not checked weight_ih and weight_hh for NaN and
                           inf; the forward checks the products they enter instead (the
                           input projection and every step's W_hh h), and returns
                           RNNC_ERR_NONFINITE when one is not finite: a weight holds a
                           NaN or inf, or a product overflowed.  Every weight takes part
                           in every such product, so none goes unseen; the caller then
                           scans the weights itself.  0: no such check */
} rnnc_rnn_config;

/* Weights of one layer and direction.  Index l*D + d in the arrays passed below
 * (d = 0 forward, 1 reverse), which is PyTorch's registration order. */
typedef struct {
    const void *w_ih;   /* [G*H, In_l] */
    const void *w_hh;   /* [G*H, R]    */
    const void *b_ih;   /* [G*H] or NULL (no bias) */
    const void *b_hh;   /* [G*H] or NULL (no bias) */
    const void *w_hr;   /* [P, H] when P > 0, else NULL */
    /* layer_norm == 1 only (else NULL): gains and biases of the three norms */
    const void *ln_ih_w, *ln_ih_b;  /* [G*H] normalises W_ih x over all G*H */
    const void *ln_hh_w, *ln_hh_b;  /* [G*H] normalises W_hh h over all G*H */
    const void *ln_c_w, *ln_c_b;    /* [H]   LSTM only: normalises c' before tanh */
} rnnc_layer_weights;

/* Gradients of one layer and direction, same shapes as rnnc_layer_weights.
 * A NULL member means "this gradient is not wanted" (it must be NULL exactly when
 * the matching weight is NULL). */
typedef struct {
    void *w_ih, *w_hh, *b_ih, *b_hh, *w_hr;
    void *ln_ih_w, *ln_ih_b, *ln_hh_w, *ln_hh_b, *ln_c_w, *ln_c_b;
} rnnc_layer_grads;

/* Variable lengths.  lengths[b] in [0, T] is the number of valid steps of sample b
 * (NULL = all T).  Step t of sample b is valid when t < lengths[b].  At an invalid
 * step the state is carried unchanged and the output is 0.  So h_n is taken at each
 * sample's own last valid step, and the reverse direction, which walks t = T-1..0,
 * starts at each sample's own last valid step.  lengths[b] == 0 gives h_n = h0 and
 * an all-zero output.  Gradients flow only through valid steps. */

/* Inter-layer dropout.  The output of layer l (l < L-1), element
 * idx = (t*B + b)*(D*R) + j, is kept when rnnc_dropout_uniform(seed, l, idx) >= p
 * and then scaled by 1/(1-p), else zeroed.  Counter-based: the mask does not depend
 * on the thread count and is regenerated, not stored, for backward.
 *   key = seed + 0x9E3779B97F4A7C15 * (((uint64)l << 48) + idx + 1)   (mod 2^64)
 *   z = key; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;  z ^= z >> 31;
 *   u = (z >> 11) * 2^-53                                  (a double in [0, 1)) */
double rnnc_dropout_uniform(uint64_t seed, int64_t layer, uint64_t idx);

/* Layer norm inside the cell (layer_norm == 1; LSTM and GRU only), after Ba et al.
 * 2016 as in haste.  LN(v; w, b) = (v - mean(v)) / sqrt(var(v) + 1e-5) * w + b over
 * the last dimension, biased variance.
 *   LSTM: a = LN(W_ih x; ln_ih) + LN(W_hh h; ln_hh) + b_ih + b_hh      [G*H]
 *         i, f, g, o = sig(a_i), sig(a_f), tanh(a_g), sig(a_o)
 *         c' = f*c + i*g;   h' = W_hr (o * tanh(LN(c'; ln_c)))
 *   GRU:  ax = LN(W_ih x; ln_ih) + b_ih;  ah = LN(W_hh h; ln_hh) + b_hh  [G*H]
 *         r = sig(ax_r + ah_r); z = sig(ax_z + ah_z); n = tanh(ax_n + r*ah_n)
 *         h' = (1-z)*n + z*h                                              */

/* Bytes of the buffer that training-mode forward fills and backward reads. */
rnnc_status rnnc_rnn_saved_bytes(const rnnc_rnn_config *cfg, size_t *bytes);

/* Where each saved array of layer l, direction d lives: byte offsets into the saved
 * buffer (each aligned to 64 bytes), or -1 when absent.  Element dtype = cfg->dtype. */
typedef struct {
    int64_t gates;      /* [T, B, G*H] gate activations after their nonlinearity:
                           LSTM i,f,g,o; GRU r,z,n; RNN h' (= the new state) */
    int64_t hs;         /* [T+1, B, R] states in time order.  Forward: hs[0] = h0,
                           hs[t+1] = state after step t.  Reverse: hs[T] = h0,
                           hs[t] = state after step t.  Carried through invalid steps. */
    int64_t cs;         /* [T+1, B, H] LSTM cell states, same order as hs; else -1 */
    int64_t hn_pre;     /* [T, B, H] GRU: W_hn h + b_hn (LN: ah_n); else -1 */
    int64_t proj_in;    /* [T, B, H] LSTM with P > 0: o * tanh(c') before W_hr; else -1 */
    int64_t layer_in;   /* [T, B, In_l] the input layer l read, after dropout; l >= 1
                           only, shared by both directions (d == 0 and 1 give the same
                           offset); -1 for layer 0 (its input is x) */
    /* layer_norm == 1 only, else -1 */
    int64_t ln_ih_xhat; /* [T, B, G*H] normalised W_ih x (before gain/bias) */
    int64_t ln_ih_rstd; /* [T, B]      1/sqrt(var + eps) */
    int64_t ln_hh_xhat; /* [T, B, G*H] */
    int64_t ln_hh_rstd; /* [T, B]      */
    int64_t ln_c_xhat;  /* [T, B, H]   LSTM */
    int64_t ln_c_rstd;  /* [T, B]      LSTM */
} rnnc_saved_layout;

rnnc_status rnnc_rnn_saved_offsets(const rnnc_rnn_config *cfg, int64_t l, int64_t d,
                                   rnnc_saved_layout *out);

/* Forward over a whole sequence, all layers and directions.
 *   out     [T, B, D*R]   output of the last layer; forward ‖ reverse halves
 *   h_n     [L*D, B, R]   final states, layer-major then direction
 *   c_n     [L*D, B, H]   LSTM final cell states; NULL for other cells
 *   saved   rnnc_rnn_saved_bytes bytes when cfg->training, else NULL
 *   x       [T, B, I]
 *   h0      [L*D, B, R] or NULL (zeros)
 *   c0      [L*D, B, H] or NULL (zeros); LSTM only
 *   lengths [B] or NULL (all T)
 *   w       [L*D] weights */
rnnc_status rnnc_rnn_forward(const rnnc_rnn_config *cfg,
                             void *out, void *h_n, void *c_n, void *saved,
                             const void *x, const void *h0, const void *c0,
                             const int64_t *lengths, const rnnc_layer_weights *w);

/* Backward through time (BPTT) over everything rnnc_rnn_forward did in training mode,
 * with the same cfg, x, lengths and w.  All outputs are ADDED into.
 *   dx      [T, B, I]     or NULL (not wanted)
 *   dh0     [L*D, B, R]   or NULL
 *   dc0     [L*D, B, H]   or NULL; LSTM only
 *   g       [L*D] gradients (members NULL where not wanted)
 *   d_out   [T, B, D*R]   or NULL (zero); entries at invalid steps are ignored
 *   d_hn    [L*D, B, R]   or NULL (zero)
 *   d_cn    [L*D, B, H]   or NULL (zero); LSTM only
 *   saved   the buffer forward filled */
rnnc_status rnnc_rnn_backward(const rnnc_rnn_config *cfg,
                              void *dx, void *dh0, void *dc0, rnnc_layer_grads *g,
                              const void *d_out, const void *d_hn, const void *d_cn,
                              const void *saved, const void *x,
                              const int64_t *lengths, const rnnc_layer_weights *w);

/* ------------------------------------------------------------ layer norm */

/* Normalise each of N rows of C values:  out = (inp - mean) * rstd * weight + bias,
 * rstd = 1/sqrt(biased var + eps).
 *   out [N, C]; mean [N], rstd [N] (saved for backward; may be NULL in inference)
 *   inp [N, C]; weight [C] or NULL (= 1); bias [C] or NULL (= 0) */
rnnc_status rnnc_layernorm_forward(rnnc_dtype dt, void *out, void *mean, void *rstd,
                                   const void *inp, const void *weight, const void *bias,
                                   int64_t N, int64_t C, double eps);

/* Adds into dinp [N, C], dweight [C] (or NULL), dbias [C] (or NULL). */
rnnc_status rnnc_layernorm_backward(rnnc_dtype dt, void *dinp, void *dweight, void *dbias,
                                    const void *dout, const void *inp, const void *weight,
                                    const void *mean, const void *rstd,
                                    int64_t N, int64_t C);

/* ------------------------------------------------------- gradient clipping */

/* Norms of n arrays (arrays[k] has sizes[k] elements).
 *   per_array [n] or NULL: each array's own norm
 *   *total: the norm of all of them together.
 * norm_type p > 0, or INFINITY for the max-abs norm.  Sums of |g|^p accumulate in
 * double.  A NaN or inf element makes the result NaN or inf (never RNNC_ERR). */
rnnc_status rnnc_grad_norms(rnnc_dtype dt, const void *const *arrays,
                            const int64_t *sizes, int64_t n, double norm_type,
                            double *per_array, double *total);

/* arrays[k] *= coef for all k. */
rnnc_status rnnc_scale_arrays(rnnc_dtype dt, void *const *arrays, const int64_t *sizes,
                              int64_t n, double coef);

/* arrays[k] = clamp(arrays[k], -clip, clip) for all k; NaN stays NaN. */
rnnc_status rnnc_clamp_arrays(rnnc_dtype dt, void *const *arrays, const int64_t *sizes,
                              int64_t n, double clip);

/* *first = the index of the first of n arrays holding a NaN or inf element (arrays[k]
 * has sizes[k] elements, contiguous), or -1 when every element is finite (ops/finite.c). */
rnnc_status rnnc_first_nonfinite(rnnc_dtype dt, const void *const *arrays,
                                 const int64_t *sizes, int64_t n, int64_t *first);

/* -------------------------------------------------------------- optimizers */

/* One fused SGD step over n elements, as torch.optim.SGD:
 *   g = grad + weight_decay * param
 *   if momentum != 0: buf = g when first (buf is written), else
 *                     buf = momentum*buf + (1-dampening)*g;
 *                     g = nesterov ? g + momentum*buf : buf
 *   param -= lr * g
 * buf [n] or NULL when momentum == 0. */
rnnc_status rnnc_sgd_step(rnnc_dtype dt, void *param, const void *grad, void *buf,
                          int64_t n, double lr, double momentum, double dampening,
                          double weight_decay, int nesterov, int first);

/* One fused Adam / AdamW step over n elements, as torch.optim.Adam(W); step >= 1 is
 * the step number after increment.  decoupled = 1 gives AdamW's weight decay
 * (param *= 1 - lr*wd), 0 gives Adam's (grad += wd*param).  max_sq [n] when amsgrad,
 * else NULL. */
rnnc_status rnnc_adam_step(rnnc_dtype dt, void *param, const void *grad,
                           void *exp_avg, void *exp_avg_sq, void *max_sq,
                           int64_t n, int64_t step, double lr, double beta1,
                           double beta2, double eps, double weight_decay,
                           int decoupled, int amsgrad);

/* One fused RMSprop step over n elements, as torch.optim.RMSprop:
 *   g = grad + weight_decay * param;  square_avg = alpha*square_avg + (1-alpha)*g*g
 *   centered: grad_avg = lerp(grad_avg, g, 1-alpha); avg = sqrt(square_avg - grad_avg^2) + eps
 *   else:     avg = sqrt(square_avg) + eps
 *   momentum > 0: buf = momentum*buf + g/avg; param -= lr*buf;  else param -= lr*g/avg
 * grad_avg [n] when centered, else NULL; momentum_buf [n] when momentum > 0, else NULL. */
rnnc_status rnnc_rmsprop_step(rnnc_dtype dt, void *param, const void *grad, void *square_avg,
                              void *grad_avg, void *momentum_buf, int64_t n, double lr,
                              double alpha, double eps, double weight_decay, double momentum,
                              int centered);

/* One fused Adagrad step over n elements, as torch.optim.Adagrad; step >= 1 is the step
 * number after increment:
 *   g = grad + weight_decay * param;  clr = lr / (1 + (step-1)*lr_decay)
 *   state_sum += g*g;  param -= clr * g / (sqrt(state_sum) + eps) */
rnnc_status rnnc_adagrad_step(rnnc_dtype dt, void *param, const void *grad, void *state_sum,
                              int64_t n, int64_t step, double lr, double lr_decay, double eps,
                              double weight_decay);

#ifdef __cplusplus
}
#endif

#endif /* RNNC_H */
