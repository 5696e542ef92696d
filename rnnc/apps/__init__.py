"""Runnable applications built on rnnc (each is ``python -m rnnc.apps.<name> --help``).

sentiment  many-to-one: an LSTM (optionally bidirectional) classifies Rotten Tomatoes
           critic snippets as fresh/rotten; saves the model; --predict "a fine film".
charlm     many-to-many + one-to-many: a character-level LSTM language model trained
           with truncated BPTT, sampled autoregressively (temperature, top-k, prime);
           --hello is the tiny "hello" example of the lecture notes.
forecast   time-series forecasting (sunspots, or multivariate US macro data) in
           many-to-one, many-to-many and encoder-decoder modes, against a naive
           last-value baseline; saves the model and a plot.

Each module has ``main(argv=None)`` returning a dict of results, so the apps can be
driven from Python and tests as well as from the shell; a flag that cannot work is an
argparse error (exit status 2), and --help lists the files each app writes.
"""
