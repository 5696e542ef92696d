/* lstm_from_c.c -- a one-layer LSTM forward and backward through the C core.
 *
 * Build next to the core's sources (every csrc/ file but the Python binding):
 *   cc -std=c11 -O2 -pthread -Icsrc docs/examples/lstm_from_c.c <core .c files> -lm
 */
#include <stdio.h>
#include <stdlib.h>

#include "rnnc.h"

#define CHECK(call)                                                        \
    do {                                                                   \
        rnnc_status s_ = (call);                                           \
        if (s_ != RNNC_OK) {                                               \
            fprintf(stderr, "%s: %s\n", #call, rnnc_status_string(s_));    \
            return 1;                                                      \
        }                                                                  \
    } while (0)

int main(void) {
    enum { T = 5, B = 2, I = 3, H = 4, G = 4 };
    rnnc_rnn_config cfg = {0};
    cfg.cell = RNNC_LSTM;
    cfg.dtype = RNNC_F32;
    cfg.T = T; cfg.B = B; cfg.H = H; cfg.input_size = I;
    cfg.L = 1; cfg.D = 1;          /* one layer, forward direction only */
    cfg.training = 1;              /* fill the saved buffer for backward */

    /* weights in PyTorch's layout: w_ih [G*H, I], w_hh [G*H, H], biases [G*H] */
    static float w_ih[G * H * I], w_hh[G * H * H], b_ih[G * H], b_hh[G * H];
    for (int k = 0; k < G * H * I; k++) w_ih[k] = 0.01f * (float)(k % 17) - 0.08f;
    for (int k = 0; k < G * H * H; k++) w_hh[k] = 0.01f * (float)(k % 13) - 0.06f;
    for (int k = 0; k < G * H; k++) b_ih[k] = b_hh[k] = 0.05f;
    rnnc_layer_weights w = {0};
    w.w_ih = w_ih; w.w_hh = w_hh; w.b_ih = b_ih; w.b_hh = b_hh;

    static float x[T * B * I], out[T * B * H], h_n[B * H], c_n[B * H];
    for (int k = 0; k < T * B * I; k++) x[k] = (float)(k % 7) / 7.0f;
    int64_t lengths[B] = {5, 3};   /* sample 1 has 3 valid steps */

    size_t bytes = 0;
    CHECK(rnnc_rnn_saved_bytes(&cfg, &bytes));
    void *saved = malloc(bytes ? bytes : 1);
    if (!saved) return 1;
    CHECK(rnnc_rnn_forward(&cfg, out, h_n, c_n, saved, x, NULL, NULL, lengths, &w));

    /* backward ADDS into the gradients: start them at zero */
    static float d_out[T * B * H], dx[T * B * I];
    static float g_ih[G * H * I], g_hh[G * H * H], g_bih[G * H], g_bhh[G * H];
    for (int k = 0; k < T * B * H; k++) d_out[k] = 1.0f;
    rnnc_layer_grads g = {0};
    g.w_ih = g_ih; g.w_hh = g_hh; g.b_ih = g_bih; g.b_hh = g_bhh;
    CHECK(rnnc_rnn_backward(&cfg, dx, NULL, NULL, &g, d_out, NULL, NULL,
                            saved, x, lengths, &w));

    /* out[t, b, :] of sample 1 is zero past its length; h_n is taken at its step 2 */
    printf("saved bytes > 0: %d\n", bytes > 0);
    printf("out[4, 1, 0] = %g\n", (double)out[(4 * B + 1) * H]);
    printf("h_n[1, 0] == out[2, 1, 0]: %d\n", h_n[H] == out[(2 * B + 1) * H]);
    printf("status of a bad call: %s\n",
           rnnc_status_string(rnnc_rnn_forward(&cfg, out, h_n, c_n, saved, x, NULL, NULL,
                                               (int64_t[]){6, 3}, &w)));
    free(saved);
    return 0;
}
