"""Completions through the official Python client, on the tiny byte-level model (token id = byte)."""

import math

import pytest
from openai.types import Completion

from reference import reference_row

MODEL = "model.fp32"
PROMPT = "Once upon a time"


def greedy(client, prompt=PROMPT, max_tokens=20, **extra):
    return client.completions.create(model=MODEL, prompt=prompt, temperature=0, max_tokens=max_tokens, **extra)


@pytest.mark.parametrize("position", [5, 20, 41])
def test_next_byte_and_logprobs_match_the_reference(byte_client, position):
    row, _ = reference_row("tiny-rwkv7-834K", "hello", position)
    response = greedy(byte_client, prompt=row.tokens, max_tokens=1, logprobs=5)
    expected = row.log_softmax()
    ranked = row.ranked()
    tolerance = row.logprob_tolerance()
    assert ranked[0] != 0, "the fixture row ends the text; pick another"

    assert response.usage.prompt_tokens == len(row.tokens)
    assert response.usage.completion_tokens == 1
    choice = response.choices[0]
    assert choice.finish_reason == "length"
    assert choice.text == chr(ranked[0])
    assert choice.logprobs.tokens == [chr(ranked[0])]
    assert choice.logprobs.text_offset == [0]
    assert math.isclose(choice.logprobs.token_logprobs[0], expected[ranked[0]], abs_tol=tolerance)
    [top] = choice.logprobs.top_logprobs
    ascii_top = [t for t in ranked[:5] if t < 128]
    assert set(ascii_top) <= {ord(k) for k in top if len(k) == 1 and ord(k) < 128}
    for t in ascii_top:
        assert math.isclose(top[chr(t)], expected[t], abs_tol=tolerance)


def test_text_prompt_is_its_bytes(byte_client):
    as_text = greedy(byte_client)
    as_ids = greedy(byte_client, prompt=list(PROMPT.encode("utf-8")))
    assert isinstance(as_text, Completion)
    assert as_text.object == "text_completion"
    assert as_text.id.startswith("cmpl-")
    assert as_text.usage.prompt_tokens == len(PROMPT.encode("utf-8"))
    assert as_ids.usage.prompt_tokens == as_text.usage.prompt_tokens
    assert as_ids.choices[0].text == as_text.choices[0].text
    if as_text.choices[0].finish_reason == "length":
        assert as_text.usage.completion_tokens == 20


def test_stream_equals_the_whole_response(byte_client):
    whole = greedy(byte_client, logprobs=1)
    texts, finishes, offsets, usage = [], [], [], None
    for chunk in greedy(byte_client, logprobs=1, stream=True, stream_options={"include_usage": True}):
        assert isinstance(chunk, Completion)
        assert chunk.object == "text_completion"
        if not chunk.choices:
            usage = chunk.usage
            continue
        [c] = chunk.choices
        texts.append(c.text)
        if c.logprobs is not None:
            offsets += c.logprobs.text_offset
        if c.finish_reason is not None:
            finishes.append(c.finish_reason)
    assert "".join(texts) == whole.choices[0].text
    assert finishes == [whole.choices[0].finish_reason]
    assert offsets == whole.choices[0].logprobs.text_offset
    assert usage.completion_tokens == whole.usage.completion_tokens
    assert usage.prompt_tokens == whole.usage.prompt_tokens


def test_stop_string_and_n(byte_client):
    whole = greedy(byte_client, max_tokens=40).choices[0].text
    stop = whole[10:12]
    cut = greedy(byte_client, max_tokens=40, stop=stop, n=2)
    assert [c.index for c in cut.choices] == [0, 1]
    for c in cut.choices:  # greedy: both choices are the same
        assert c.text == whole[:whole.index(stop)]
        assert c.finish_reason == "stop"


def test_seeded_sampling_is_repeatable(byte_client):
    def sample():
        return byte_client.completions.create(model=MODEL, prompt=PROMPT, temperature=1, seed=7, max_tokens=30, n=2)

    first, second = sample(), sample()
    assert [c.text for c in first.choices] == [c.text for c in second.choices]
    assert first.choices[0].text != first.choices[1].text
