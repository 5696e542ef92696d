"""Tokenizers and Vocab: tokenization rules, deterministic building, encode/decode, JSON round trip."""
import json

import numpy as np
import pytest

from rnnc.text import PAD_ID, UNK_ID, Vocab, tokenize_chars, tokenize_words


def test_tokenize_words_lowercases_and_splits_punctuation():
    assert tokenize_words("It's GREAT, isn't it?!") == ["it's", "great", ",", "isn't", "it", "?", "!"]
    assert tokenize_words("A -- B...") == ["a", "-", "-", "b", ".", ".", "."]
    assert tokenize_words("Café déjà-vu", lowercase=False) == ["Café", "déjà", "-", "vu"]
    assert tokenize_words("   ") == []


def test_tokenize_chars_keeps_everything():
    assert tokenize_chars("Hi !\n") == ["H", "i", " ", "!", "\n"]
    assert tokenize_chars("Hi", lowercase=True) == ["h", "i"]


@pytest.mark.parametrize("func", [tokenize_words, tokenize_chars])
def test_tokenizers_reject_non_str(func):
    with pytest.raises(TypeError, match="text must be a str"):
        func(b"bytes")


def test_build_order_specials_max_size_min_freq():
    texts = ["b a a c", "a b d", "e"]
    vocab = Vocab.from_texts(texts)
    # specials, then by descending count, ties in sorted order
    assert vocab.itos == ["<pad>", "<unk>", "a", "b", "c", "d", "e"]
    assert vocab.pad_id == PAD_ID == 0 and vocab.unk_id == UNK_ID == 1
    assert Vocab.from_texts(texts, max_size=4).itos == ["<pad>", "<unk>", "a", "b"]
    assert Vocab.from_texts(texts, min_freq=2).itos == ["<pad>", "<unk>", "a", "b"]
    extra = Vocab.from_texts(texts, specials=("<bos>", "<eos>"), max_size=5)
    assert extra.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a"] and extra.num_specials == 4
    assert Vocab.from_texts(list(reversed(texts))) == vocab  # order of texts does not matter


def test_encode_decode_words():
    vocab = Vocab.from_texts(["a great movie .", "a bad movie ."])
    ids = vocab.encode("A great, great film.")
    assert ids.dtype == np.int64
    assert vocab.lookup_tokens(ids) == ["a", "great", "<unk>", "great", "<unk>", "."]
    assert vocab.decode(ids) == "a great great ."
    assert vocab.decode(ids, skip_specials=False) == "a great <unk> great <unk> ."
    np.testing.assert_array_equal(vocab.encode(["bad", "zzz"]), [vocab["bad"], UNK_ID])
    assert "movie" in vocab and "film" not in vocab
    assert vocab.encode("").shape == (0,)


def test_char_vocab_round_trip():
    text = "hello world\n"
    vocab = Vocab.from_texts([text], level="char")
    assert vocab.level == "char" and not vocab.lowercase
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.encode("hex")[-1] == UNK_ID


def test_encode_batch_pads_and_truncates():
    vocab = Vocab.from_texts(["one two three four", "five"])
    padded, lengths = vocab.encode_batch(["one two three four", "five", ""], max_len=3)
    assert padded.shape == (3, 3) and padded.dtype == np.int64
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    assert vocab.decode(padded[0]) == "one two three"
    padded, _ = vocab.encode_batch(["one two three four"], max_len=2, truncating="pre")
    assert vocab.decode(padded[0]) == "three four"
    with pytest.raises(TypeError, match="single str"):
        vocab.encode_batch("one two")


def test_save_load_round_trip(tmp_path):
    vocab = Vocab.from_texts(["Ünïcode wörds, ok?", "ok"], specials=("<eos>",))
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab and loaded.num_specials == 2 + 1
    np.testing.assert_array_equal(loaded.encode("ok wörds"), vocab.encode("ok wörds"))
    char_vocab = Vocab.from_texts(["abc"], level="char")
    char_vocab.save(tmp_path / "c.json")
    assert Vocab.load(tmp_path / "c.json") == char_vocab


def test_load_rejects_corrupt_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Vocab.load(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"tokens": ["a"]}))
    with pytest.raises(ValueError, match="not a vocabulary"):
        Vocab.load(other)
    with pytest.raises(FileNotFoundError):
        Vocab.load(tmp_path / "missing.json")


def test_constructor_and_build_validation():
    with pytest.raises(ValueError, match="must start with"):
        Vocab(["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        Vocab(["<pad>", "<unk>", "a", "a"])
    with pytest.raises(ValueError, match="level"):
        Vocab(["<pad>", "<unk>"], level="byte")
    with pytest.raises(ValueError, match="max_size must be >= 2"):
        Vocab.from_texts(["a"], max_size=1)
    with pytest.raises(ValueError, match="min_freq must be >= 1"):
        Vocab.from_texts(["a"], min_freq=0)
    with pytest.raises(TypeError, match="from_texts"):
        Vocab.build("abc")
    with pytest.raises(TypeError, match="from_texts"):
        Vocab.build(["abc", "def"])
    vocab = Vocab.from_texts(["a b"])
    with pytest.raises(ValueError, match=r"ids must be in \[0, 4\)"):
        vocab.decode([0, 4])
    with pytest.raises(TypeError, match="integers"):
        vocab.decode(np.array([0.5]))
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode([[2, 3]])
