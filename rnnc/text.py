"""Tokenizers and vocabularies for word- and character-level models.

    tokens = tokenize_words("It's great, isn't it?")   # ["it's", "great", ",", "isn't", "it", "?"]
    vocab = Vocab.from_texts(train_texts, level="word", max_size=20000, min_freq=2)
    ids = vocab.encode("a great movie")                 # int64 array (L,)
    padded, lengths = vocab.encode_batch(texts, max_len=60)   # (B, T) int64, (B,) int64
    vocab.decode(ids)                                   # "a great movie"
    vocab.save("vocab.json"); Vocab.load("vocab.json")

Every vocabulary starts with the specials <pad> = 0 and <unk> = 1 (then any extra
specials you ask for, e.g. "<bos>", "<eos>"); the other tokens follow by descending
frequency, ties broken by the token's own order, so a vocabulary built twice from
the same texts is identical.
"""
import collections
import json
import os
import re

import numpy as np

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1

# A word is a run of letters/digits, optionally with inner apostrophes ("isn't",
# "rock'n'roll"); every other non-space character is a token of its own.
_WORD_RE = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")

_LEVELS = ("word", "char")


def tokenize_words(text, lowercase=True):
    """Split `text` into words and single punctuation marks (lowercased by default)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize_words: text must be a str, got {type(text).__name__}")
    if lowercase:
        text = text.lower()
    return _WORD_RE.findall(text)


def tokenize_chars(text, lowercase=False):
    """Split `text` into its characters (every character is kept, spaces included)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize_chars: text must be a str, got {type(text).__name__}")
    if lowercase:
        text = text.lower()
    return list(text)


def _check_level(level):
    if level not in _LEVELS:
        raise ValueError(f"Vocab: level must be one of {_LEVELS}, got {level!r}")


class Vocab:
    """A token <-> id mapping with <pad> = 0 and <unk> = 1.

    level    "word" (tokenize_words, decode joins with spaces) or "char" ::

             (tokenize_chars, decode joins with nothing).

    tokens   the full id -> token list, specials first.
    """

    def __init__(self, tokens, level="word", lowercase=None, num_specials=2):
        _check_level(level)
        tokens = list(tokens)
        if len(tokens) < 2 or tokens[0] != PAD or tokens[1] != UNK:
            raise ValueError(f"Vocab: tokens must start with {PAD!r}, {UNK!r}, got {tokens[:2]!r}")
        for i, tok in enumerate(tokens):
            if not isinstance(tok, str):
                raise TypeError(f"Vocab: token {i} must be a str, got {type(tok).__name__}")
        if len(set(tokens)) != len(tokens):
            dup = [t for t, c in collections.Counter(tokens).items() if c > 1]
            raise ValueError(f"Vocab: duplicate tokens {dup[:5]!r}")
        if not isinstance(num_specials, (int, np.integer)) or not 2 <= num_specials <= len(tokens):
            raise ValueError(f"Vocab: num_specials must be an int in [2, {len(tokens)}], got {num_specials!r}")
        self.level = level
        self.num_specials = int(num_specials)  # ids below this are specials
        self.lowercase = (level == "word") if lowercase is None else bool(lowercase)
        self.itos = tokens
        self.stoi = {tok: i for i, tok in enumerate(tokens)}

    # ---------------------------------------------------------------- building
    @classmethod
    def build(cls, token_lists, level="word", max_size=None, min_freq=1, specials=(), lowercase=None):
        """Build from an iterable of token lists (already tokenized).

        max_size counts every entry, specials included; min_freq drops rarer tokens.
        """
        _check_level(level)
        if max_size is not None:
            if not isinstance(max_size, (int, np.integer)) or isinstance(max_size, bool):
                raise TypeError(f"Vocab.build: max_size must be an int or None, got {type(max_size).__name__}")
            if max_size < 2 + len(specials):
                raise ValueError(f"Vocab.build: max_size must be >= {2 + len(specials)} "
                                 f"(room for the specials), got {max_size}")
        if not isinstance(min_freq, (int, np.integer)) or isinstance(min_freq, bool):
            raise TypeError(f"Vocab.build: min_freq must be an int, got {type(min_freq).__name__}")
        if min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be >= 1, got {min_freq}")
        if isinstance(token_lists, str):
            raise TypeError("Vocab.build: token_lists must be an iterable of token lists, got a str "
                            "(use Vocab.from_texts for raw text)")
        counts = collections.Counter()
        for toks in token_lists:
            if isinstance(toks, str):
                raise TypeError("Vocab.build: each item of token_lists must be a list of tokens, got a str "
                                "(use Vocab.from_texts for raw text)")
            counts.update(toks)
        head = [PAD, UNK] + [s for s in specials if s not in (PAD, UNK)]
        reserved = set(head)
        # most frequent first; equal counts in the token's sort order (deterministic)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq and t not in reserved),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max_size - len(head)]
        vocab = cls(head + ranked, level=level, lowercase=lowercase, num_specials=len(head))
        vocab.counts = {t: counts[t] for t in ranked}
        return vocab

    @classmethod
    def from_texts(cls, texts, level="word", max_size=None, min_freq=1, specials=(), lowercase=None):
        """Tokenize raw texts at `level` and build the vocabulary."""
        _check_level(level)
        if isinstance(texts, str):
            texts = [texts]
        low = (level == "word") if lowercase is None else bool(lowercase)
        tokenize = tokenize_words if level == "word" else tokenize_chars
        return cls.build((tokenize(t, lowercase=low) for t in texts), level=level, max_size=max_size,
                         min_freq=min_freq, specials=specials, lowercase=low)

    # ---------------------------------------------------------------- mapping
    __hash__ = None  # mutable-looking container compared by value

    @property
    def specials(self):
        return tuple(self.itos[: self.num_specials])

    @property
    def pad_id(self):
        return PAD_ID

    @property
    def unk_id(self):
        return UNK_ID

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        """Id of `token` (<unk>'s id when unknown)."""
        return self.stoi.get(token, UNK_ID)

    def __eq__(self, other):
        return isinstance(other, Vocab) and (self.level, self.lowercase, self.num_specials, self.itos) == (
            other.level, other.lowercase, other.num_specials, other.itos)

    def __repr__(self):
        return f"Vocab(level={self.level!r}, size={len(self)}, lowercase={self.lowercase})"

    def tokenize(self, text):
        """Tokenize `text` the way this vocabulary was built."""
        if self.level == "word":
            return tokenize_words(text, lowercase=self.lowercase)
        return tokenize_chars(text, lowercase=self.lowercase)

    def encode(self, text_or_tokens):
        """A str (tokenized at this level) or a list of tokens -> int64 ids (L,)."""
        if isinstance(text_or_tokens, str):
            tokens = self.tokenize(text_or_tokens)
        else:
            tokens = list(text_or_tokens)
        get = self.stoi.get
        return np.fromiter((get(t, UNK_ID) for t in tokens), dtype=np.int64, count=len(tokens))

    def encode_batch(self, texts, max_len=None, truncating="post"):
        """Encode many texts and pad them: (B, T) int64 ids and (B,) int64 lengths.

        Longer texts are cut to max_len, keeping their start (truncating="post") or
        their end (truncating="pre"); padding (id 0) always goes after the valid steps.
        """
        from rnnc.padding import pad_sequences

        if isinstance(texts, str):
            raise TypeError("Vocab.encode_batch: texts must be a list of str, got a single str")
        seqs = [self.encode(t) for t in texts]
        return pad_sequences(seqs, batch_first=True, padding_value=PAD_ID, max_len=max_len,
                             dtype=np.int64, truncating=truncating)

    def lookup_tokens(self, ids, skip_specials=False):
        """Ids -> list of tokens."""
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"Vocab.lookup_tokens: ids must be 1-D, got shape {ids.shape}")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Vocab.lookup_tokens: ids must be integers, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"Vocab.lookup_tokens: ids must be in [0, {len(self)}), "
                             f"got min {ids.min()} max {ids.max()}")
        n_special = self.num_specials
        return [self.itos[i] for i in ids.tolist() if not (skip_specials and i < n_special)]

    def decode(self, ids, skip_specials=True):
        """Ids -> text (tokens joined by a space for words, by nothing for characters)."""
        sep = " " if self.level == "word" else ""
        return sep.join(self.lookup_tokens(ids, skip_specials=skip_specials))

    # ---------------------------------------------------------------- files
    def to_dict(self):
        return {"format": "rnnc.Vocab", "version": 1, "level": self.level,
                "lowercase": self.lowercase, "num_specials": self.num_specials, "tokens": self.itos}

    def save(self, path):
        """Write the vocabulary as JSON (UTF-8)."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by save()."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"Vocab.load: {path!r} is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != "rnnc.Vocab" or "tokens" not in data:
            raise ValueError(f"Vocab.load: {path!r} is not a vocabulary written by Vocab.save")
        return cls(data["tokens"], level=data.get("level", "word"), lowercase=data.get("lowercase"),
                   num_specials=data.get("num_specials", 2))
