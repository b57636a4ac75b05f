"""anser.Tokenizer (the carried World vocabulary, bytes) and anser.TextStream."""

import anser
from conftest import SHARED, TINY, WORLD


def test_carried_world_vocabulary_reproduces_the_reference(world_cases):
    carried = anser.Tokenizer()
    shared = anser.Tokenizer(SHARED / "vocab" / "rwkv_vocab_v20230424.txt")
    assert carried.vocab_size == shared.vocab_size == 65530
    for case in world_cases:
        assert carried.encode(case["text"]) == case["ids"], case["name"]
        assert carried.decode(case["ids"]) == case["text"], case["name"]
        assert shared.encode(case["text"]) == case["ids"], case["name"]


def test_bytes_and_the_tokenizer_a_model_needs():
    tokenizer = anser.Model(TINY).tokenizer
    assert tokenizer.vocab_size == 256
    assert tokenizer.encode(b"a\x00\xff") == [97, 0, 255]
    assert tokenizer.decode_bytes([0xE2, 0x82]) == b"\xe2\x82"
    assert tokenizer.decode([0xE2, 0x82]) == "\ufffd"
    assert tokenizer.token_bytes(65) == b"A"
    assert anser.Tokenizer.bytes().encode("é") == [0xC3, 0xA9]
    world = anser.Model(WORLD).tokenizer  # none beside the fixture: the carried copy
    assert world.encode("Hello") == anser.Tokenizer().encode("Hello")
    long_text = "Hello, World! " * 500
    assert world.decode(world.encode(long_text)) == long_text


def test_text_stream_holds_split_characters_and_stops():
    stream = anser.TextStream(stop=["\n\nUser:"])
    assert stream.push(b"caf\xc3") == "caf"
    assert stream.push(b"\xa9 ok\n") == "\u00e9 ok"
    assert not stream.stopped
    assert stream.push(b"\nUser: more") == ""
    assert stream.stopped
    assert stream.flush() == ""
    plain = anser.TextStream()
    assert plain.push(b"\xe2\x82") == ""
    assert plain.push(b"\xac!") == "\u20ac!"
