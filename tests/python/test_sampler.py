"""anser.Sampler and anser.sample_logits."""

import anser
import numpy as np
import pytest


def test_greedy_and_penalties():
    logits = np.array([0.0, 3.0, 2.5, -1.0], dtype=np.float32)
    sampler = anser.Sampler(temperature=0, presence_penalty=1.0)
    assert sampler.sample(logits) == 1
    sampler.accept(1)
    assert sampler.sample(logits) == 2  # 3 - 1 < 2.5
    np.testing.assert_array_equal(logits, [0.0, 3.0, 2.5, -1.0])  # the caller's logits are kept
    sampler.reset()
    assert sampler.sample(logits.tolist()) == 1


def test_seeds_repeat_and_one_call_equals_a_fresh_sampler():
    logits = np.sin(np.arange(1000, dtype=np.float32))
    first = [anser.Sampler(top_p=1.0, seed=9).sample(logits) for _ in range(3)]
    assert first == [first[0]] * 3
    sampler = anser.Sampler(top_p=1.0, seed=9)
    draws = [sampler.sample(logits) for _ in range(50)]
    again = anser.Sampler(top_p=1.0, seed=9)
    assert [again.sample(logits) for _ in range(50)] == draws
    assert len(set(draws)) > 10
    assert anser.sample_logits(logits, top_p=1.0, seed=9) == draws[0]
    # top-k 3 keeps the three largest logits only
    top3 = set(np.argsort(logits)[-3:].tolist())
    topk = anser.Sampler(top_k=3, top_p=1.0, seed=1)
    assert {topk.sample(logits) for _ in range(100)} <= top3
    assert anser.Sampler(seed=None).seed != anser.Sampler(seed=None).seed


def test_sample_in_place_takes_only_what_the_engine_can_write():
    sampler = anser.Sampler(temperature=0)
    logits = np.array([0.0, 3.0, 2.5, -1.0], dtype=np.float32)
    read_only = logits.copy()
    read_only.flags.writeable = False
    for bad in (logits.astype(np.float16), logits.astype(np.float64), np.repeat(logits, 2)[::2], read_only,
                logits.tolist()):
        with pytest.raises(TypeError, match="float32"):
            sampler.sample_in_place(bad)
    assert sampler.sample_in_place(logits) == 1
