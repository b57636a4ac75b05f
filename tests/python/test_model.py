"""anser.Model, anser.State: logits against the fixtures, states, batches."""

import anser
import numpy as np
import pytest
from conftest import FIXTURE_FOLDERS, RAND_FP32, TINY, WORLD, assert_rows_match, fixture_cases, row_mismatch


@pytest.mark.parametrize("folder", FIXTURE_FOLDERS)
def test_forward_all_positions_matches_the_reference(folder):
    for case in fixture_cases(folder):
        model = anser.Model(case.model)
        logits = model.forward(case.tokens, model.new_state(), all_positions=True)
        assert logits.dtype == np.float32
        assert logits.shape == (len(case.tokens), model.config.n_vocab)
        assert_rows_match(case, logits)


@pytest.mark.parametrize("folder", FIXTURE_FOLDERS)
def test_one_token_at_a_time_matches_the_reference(folder):
    case = fixture_cases(folder)[0]
    model = anser.Model(case.model)
    state = model.new_state()
    rows = np.stack([model.forward(token, state) for token in case.tokens])
    assert_rows_match(case, rows)
    last = model.forward(np.array(case.tokens), model.new_state())
    assert last.shape == (model.config.n_vocab,)
    assert row_mismatch(last, case.logits[-1]) == ""


def test_configuration():
    config = anser.Model(WORLD).config
    assert (config.n_layer, config.n_embd, config.n_head, config.head_size, config.n_vocab) == (3, 128, 2, 64, 65536)
    assert (config.lora_rank_w, config.lora_rank_a, config.lora_rank_v, config.lora_rank_g) == (16, 16, 8, 32)
    assert config.n_params > 2 * 65536 * 128


def test_state_file_round_trip_and_copies(tmp_path):
    model = anser.Model(TINY)
    state = model.new_state()
    model.forward([72, 101, 108, 108, 111], state)
    path = tmp_path / "state.pth"
    state.save(path)
    loaded = anser.State.load(path, model)
    for name in ("att_shift", "wkv", "ffn_shift"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(state, name))
    copy = state.copy()
    a = model.forward(32, state)
    b = model.forward(32, loaded)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(copy.wkv, state.wkv)  # the copy did not advance
    state.reset()
    assert not state.wkv.any() and not state.att_shift.any() and not state.ffn_shift.any()


def test_state_buffers_are_views_of_the_engine_state():
    model = anser.Model(RAND_FP32)
    state = model.new_state()
    c = model.config
    assert state.wkv.shape == (c.n_layer, c.n_head, c.head_size, c.head_size)
    assert state.att_shift.shape == state.ffn_shift.shape == (c.n_layer, c.n_embd)
    source = model.new_state()
    model.forward([1, 2, 3], source)
    state.wkv[...] = source.wkv
    state.att_shift[...] = source.att_shift
    state.ffn_shift[...] = source.ffn_shift
    np.testing.assert_array_equal(model.forward(7, state), model.forward(7, source))
    view = model.new_state().wkv
    assert not view.any()  # the view keeps its state alive after the State object is gone


def test_batch_equals_single():
    cases = fixture_cases("tiny-rwkv7-834K")
    hello, story = cases[1], cases[2]
    model = anser.Model(hello.model)
    states = [model.new_state(), model.new_state()]
    singles = [model.new_state(), model.new_state()]
    batch_rows, single_rows = [], []
    for t in range(len(hello.tokens)):
        tokens = [hello.tokens[t], story.tokens[t]]
        batch_rows.append(model.forward_batch(tokens, states))
        single_rows.append(np.stack([model.forward(tokens[b], singles[b]) for b in range(2)]))
    batch_rows, single_rows = np.stack(batch_rows), np.stack(single_rows)
    assert batch_rows.shape == (len(hello.tokens), 2, 256)
    for b in range(2):
        for t in range(len(hello.tokens)):
            assert row_mismatch(batch_rows[t, b], single_rows[t, b]) == ""
    assert_rows_match(hello, batch_rows[:, 0])
    np.testing.assert_allclose(states[1].wkv, singles[1].wkv, rtol=1e-4, atol=1e-5)
