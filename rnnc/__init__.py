"""rnnc: recurrent neural networks (RNN, LSTM, GRU) with a fast C core and a NumPy API."""
from rnnc import _C

__version__ = "0.1.0"

set_num_threads = _C.set_num_threads
get_num_threads = _C.get_num_threads
