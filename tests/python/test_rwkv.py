"""anser.rwkv: the official `rwkv` package's interface (RWKV, PIPELINE, PIPELINE_ARGS)."""

import copy

import anser
import numpy as np
import pytest
from anser.rwkv.model import RWKV
from anser.rwkv.utils import PIPELINE, PIPELINE_ARGS
from conftest import FIXTURE_FOLDERS, TINY, WORLD, assert_rows_match, fixture_cases


def chatrwkv_style(rwkv_model, pipeline, prompt: str, n: int) -> list:
    """What ChatRWKV scripts do: encode, forward with a carried state, sample, decode."""
    out, state = rwkv_model.forward(pipeline.encode(prompt), None)
    tokens = []
    for _ in range(n):
        token = pipeline.sample_logits(out, temperature=0)
        tokens.append(token)
        out, state = rwkv_model.forward([token], state)
    pipeline.decode(tokens)
    return tokens


@pytest.mark.parametrize("folder", FIXTURE_FOLDERS)
def test_forward_matches_the_reference(folder):
    for case in fixture_cases(folder):
        model = RWKV(model=str(case.model)[: -len(".pth")], strategy="cpu fp32")  # ".pth" is appended
        full, state = model.forward(case.tokens, None, full_output=True)
        assert full.dtype == np.float32 and full.shape == (len(case.tokens), model.args.vocab_size)
        assert_rows_match(case, full)
        # The state carried through the official list gives the same rows as one pass.
        split = len(case.tokens) // 2
        _, carried = model.forward(case.tokens[:split], None)
        rest, carried = model.forward(case.tokens[split:], copy.deepcopy(carried), full_output=True)
        assert_rows_match(case, np.concatenate([full[:split], rest]))
        last, _ = model.forward(case.tokens[-1], carried[:3 * model.n_layer])
        assert last.shape == (model.args.vocab_size,)


def test_state_list_has_the_official_layout():
    model = RWKV(model=str(WORLD), strategy="cpu bf16")
    c = model.anser_model.config
    logits, state = model.forward([1, 2, 3], None)
    assert logits.shape == (c.n_vocab,)
    assert len(state) == 3 * c.n_layer
    for i in range(c.n_layer):
        assert state[3 * i].shape == (c.n_embd,) and state[3 * i].dtype == np.float32
        assert state[3 * i + 1].shape == (c.n_head, c.head_size, c.head_size)
        assert state[3 * i + 2].shape == (c.n_embd,)
    engine = model.anser_model.new_state()
    model.anser_model.forward([1, 2, 3], engine)
    for i in range(c.n_layer):
        np.testing.assert_array_equal(state[3 * i], engine.att_shift[i])
        np.testing.assert_array_equal(state[3 * i + 1], engine.wkv[i])
        np.testing.assert_array_equal(state[3 * i + 2], engine.ffn_shift[i])
    kept = list(state)
    _, same = model.forward([4], state)
    assert same is state and all(a is not b for a, b in zip(kept, state))  # the official semantics
    zero = model.generate_zero_state()
    assert len(zero) == len(state) and not any(z.any() for z in zero)


def test_strategies_and_paths():
    assert RWKV(model=str(TINY), strategy="cpu fp16").args.MODEL_NAME == str(TINY)
    for strategy in ("cuda fp16", "cpu fp32i8", "cpu fp16 -> cuda fp16 *2"):
        with pytest.raises(ValueError, match="Anser runs on the CPU only"):
            RWKV(model=str(TINY), strategy=strategy)
    with pytest.raises(anser.AnserFileError, match="model.fp32.pth.pth' not found"):
        RWKV(model=str(TINY) + ".pth", strategy="cpu fp32")
    model = RWKV(model=str(TINY), strategy="cpu fp32")
    with pytest.raises(ValueError, match="state has 3 entries"):
        model.forward([1], [np.zeros(64, np.float32)] * 3)


def test_pipeline_tokenizer_and_sampling(world_cases):
    pipeline = PIPELINE(RWKV(model=str(WORLD), strategy="cpu fp32"), "rwkv_vocab_v20230424")
    for case in world_cases:
        assert pipeline.encode(case["text"]) == case["ids"]
        assert pipeline.decode(case["ids"]) == case["text"]
    for case in fixture_cases("rand-rwkv7-L3-D128-world"):
        assert pipeline.encode(case.text) == case.tokens
    assert pipeline.decode([1, 2]) == "\x00\x01"  # single bytes are tokens 1..256
    assert pipeline.decode([0xE2 + 1]) == "\ufffd"  # a lone lead byte: not UTF-8, as officially
    logits = np.sin(np.arange(65536, dtype=np.float32))
    assert pipeline.sample_logits(logits, temperature=0) == int(np.argmax(logits))
    np.random.seed(4)
    first = [pipeline.sample_logits(logits, temperature=1.0, top_p=0.5) for _ in range(5)]
    np.random.seed(4)
    assert [pipeline.sample_logits(logits, temperature=1.0, top_p=0.5) for _ in range(5)] == first
    with pytest.raises(ValueError, match="not supported"):
        PIPELINE(None, "cl100k_base")


def test_pipeline_args_defaults_are_the_official_ones():
    args = PIPELINE_ARGS()
    assert (args.temperature, args.top_p, args.top_k) == (1.0, 0.85, 0)
    assert (args.alpha_frequency, args.alpha_presence, args.alpha_decay) == (0.2, 0.2, 0.996)
    assert (args.token_ban, args.token_stop, args.chunk_len) == ([], [], 256)


def test_chatrwkv_style_script_and_generate_are_greedy_decoding():
    model = RWKV(model=str(WORLD), strategy="cpu fp32")
    pipeline = PIPELINE(model, "rwkv_vocab_v20230424")
    tokens = chatrwkv_style(model, pipeline, "User: hi\n\nAssistant:", 12)
    engine = anser.Model(WORLD)
    state = engine.new_state()
    logits = engine.forward(pipeline.encode("User: hi\n\nAssistant:"), state)
    expected = []
    for _ in range(12):
        expected.append(int(np.argmax(logits)))
        logits = engine.forward(expected[-1], state)
    assert tokens == expected

    pieces = []
    args = PIPELINE_ARGS(temperature=0, alpha_frequency=0, alpha_presence=0, chunk_len=4)
    text = pipeline.generate("User: hi\n\nAssistant:", token_count=12, args=args, callback=pieces.append)
    assert "\ufffd" not in pipeline.decode(expected)
    assert text == "".join(pieces) == pipeline.decode(expected)
    args.token_stop = [expected[2]]
    assert pipeline.generate("User: hi\n\nAssistant:", token_count=12, args=args) == pipeline.decode(expected[:2])
