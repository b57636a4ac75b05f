"""Chat completions through the official Python client, on the random World model."""

import math

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from reference import reference_row, world_vocab_bytes

MODEL = "model.bf16"  # the served name: the file's stem
QUESTION = [{"role": "user", "content": "Write a short poem about geese."}]


def greedy(client, messages, max_tokens=16, **extra):
    return client.chat.completions.create(model=MODEL, messages=messages, temperature=0, max_tokens=max_tokens,
                                          **extra)


def collect_stream(chunks):
    """Per choice index: (role deltas, content, finish reasons); plus the usage chunk (or None)."""
    choices, usage, ids = {}, None, set()
    for chunk in chunks:
        assert isinstance(chunk, ChatCompletionChunk)
        assert chunk.object == "chat.completion.chunk"
        ids.add(chunk.id)
        if not chunk.choices:
            assert usage is None, "one usage chunk"
            usage = chunk.usage
            continue
        assert usage is None, "the usage chunk comes last"
        for c in chunk.choices:
            roles, content, finishes = choices.setdefault(c.index, ([], [], []))
            if c.delta.role is not None:
                assert not content and not finishes, "the role comes first"
                roles.append(c.delta.role)
            if c.delta.content:
                content.append(c.delta.content)
            if c.finish_reason is not None:
                finishes.append(c.finish_reason)
    assert len(ids) == 1, "every chunk carries the same id"
    return {i: (roles, "".join(content), finishes) for i, (roles, content, finishes) in choices.items()}, usage


def test_models_lists_the_served_model(text_client):
    models = text_client.models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert models.data[0].object == "model"


def test_first_token_and_logprobs_match_the_reference(text_client):
    # The fixture's "chat" text is a user turn and an assistant reply in the World chat format, so
    # continuing that reply feeds exactly the fixture's tokens; the reference row after all of them
    # gives the greedy token and every log-probability (token 0 is banned in chat).
    row, case = reference_row("rand-rwkv7-L3-D128-world", "chat", 4)
    assert case["positions"][4] == len(case["tokens"]) - 1
    user, reply = case["text"].split("\n\nAssistant: ")
    messages = [{"role": "user", "content": user.removeprefix("User: ")}, {"role": "assistant", "content": reply}]
    response = greedy(text_client, messages, max_tokens=1, logprobs=True, top_logprobs=5)

    assert response.usage.prompt_tokens == len(case["tokens"])
    assert response.usage.completion_tokens == 1
    choice = response.choices[0]
    assert choice.finish_reason == "length"
    vocab = world_vocab_bytes()
    ids_by_bytes = {data: token for token, data in vocab.items()}
    expected = row.log_softmax(banned=(0,))
    tolerance = row.logprob_tolerance()
    ranked = row.ranked(banned=(0,))

    [entry] = choice.logprobs.content
    assert bytes(entry.bytes) == vocab[ranked[0]]
    assert math.isclose(entry.logprob, expected[ranked[0]], abs_tol=tolerance)
    assert len(entry.top_logprobs) == 5
    assert bytes(entry.top_logprobs[0].bytes) == vocab[ranked[0]]
    for top in entry.top_logprobs:
        assert math.isclose(top.logprob, expected[ids_by_bytes[bytes(top.bytes)]], abs_tol=tolerance)
    assert [t.logprob for t in entry.top_logprobs] == sorted((t.logprob for t in entry.top_logprobs), reverse=True)
    # Nothing more likely was left out.
    assert entry.top_logprobs[-1].logprob >= expected[ranked[5]] - tolerance


def test_greedy_reply_is_typed_and_repeatable(text_client):
    first = greedy(text_client, QUESTION)
    second = greedy(text_client, QUESTION)
    assert isinstance(first, ChatCompletion)
    assert first.object == "chat.completion"
    assert first.id.startswith("chatcmpl-") and first.id != second.id
    assert first.model == MODEL
    [choice] = first.choices
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    usage = first.usage
    assert usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= 16
    if choice.finish_reason == "length":
        assert usage.completion_tokens == 16
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert second.choices[0].message.content == choice.message.content
    assert second.choices[0].finish_reason == choice.finish_reason
    # The second request found the first one's prompt in the cache.
    assert second.usage.prompt_tokens_details.cached_tokens == usage.prompt_tokens


def test_stream_equals_the_whole_response(text_client):
    whole = greedy(text_client, QUESTION)
    stream = greedy(text_client, QUESTION, stream=True, stream_options={"include_usage": True})
    choices, usage = collect_stream(stream)
    assert list(choices) == [0]
    roles, content, finishes = choices[0]
    assert roles == ["assistant"]
    assert content == whole.choices[0].message.content
    assert finishes == [whole.choices[0].finish_reason]
    assert usage.prompt_tokens == whole.usage.prompt_tokens
    assert usage.completion_tokens == whole.usage.completion_tokens
    assert usage.total_tokens == whole.usage.total_tokens


def stop_inside(text):
    """A stop string from inside `text` (wherever its tokens begin and end), and the text before it."""
    start = next(i for i in range(1, len(text) - 2) if "\ufffd" not in text[i:i + 3])
    stop = text[start:start + 3]
    return stop, text[:text.index(stop)]


def test_stream_helper_accumulates_the_reply(text_client):
    # The helper's final completion refuses a reply cut by max_tokens: this one ends at a stop string.
    stop, expected = stop_inside(greedy(text_client, QUESTION, max_tokens=24).choices[0].message.content)
    deltas = []
    with text_client.chat.completions.stream(model=MODEL, messages=QUESTION, temperature=0, max_tokens=24,
                                             stop=stop) as stream:
        for event in stream:
            if event.type == "content.delta":
                deltas.append(event.delta)
        final = stream.get_final_completion()
    assert "".join(deltas) == expected
    assert final.choices[0].message.content == expected
    assert final.choices[0].finish_reason == "stop"


def test_seeded_choices_are_repeatable_and_distinct(text_client):
    def sample():
        return text_client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=1, top_p=1, seed=1234,
                                                   n=3, max_tokens=12)

    first, second = sample(), sample()
    assert [c.index for c in first.choices] == [0, 1, 2]
    texts = [c.message.content for c in first.choices]
    assert texts == [c.message.content for c in second.choices]
    assert len(set(texts)) > 1, "each choice draws its own tokens"
    assert first.usage.completion_tokens <= 3 * 12
    if all(c.finish_reason == "length" for c in first.choices):
        assert first.usage.completion_tokens == 3 * 12


def test_streamed_choices_equal_the_whole_ones(text_client):
    request = dict(model=MODEL, messages=QUESTION, temperature=1, top_p=1, seed=99, n=2, max_tokens=12)
    whole = text_client.chat.completions.create(**request)
    choices, usage = collect_stream(text_client.chat.completions.create(**request, stream=True))
    assert usage is None  # not asked for
    assert sorted(choices) == [0, 1]
    for c in whole.choices:
        roles, content, finishes = choices[c.index]
        assert roles == ["assistant"]
        assert content == c.message.content
        assert finishes == [c.finish_reason]


def test_stop_string_cuts_the_reply(text_client):
    stop, expected = stop_inside(greedy(text_client, QUESTION, max_tokens=24).choices[0].message.content)
    cut = greedy(text_client, QUESTION, max_tokens=24, stop=[stop, "never appears \u2603"])
    assert cut.choices[0].message.content == expected
    assert cut.choices[0].finish_reason == "stop"
    choices, _ = collect_stream(greedy(text_client, QUESTION, max_tokens=24, stop=stop, stream=True))
    assert choices[0][1:] == (expected, ["stop"])


def test_next_turn_starts_from_the_cache_and_matches_no_cache(text_client, uncached_text_client):
    uncached = uncached_text_client
    turn1 = greedy(text_client, QUESTION)
    reply = turn1.choices[0].message.content
    assert greedy(uncached, QUESTION).choices[0].message.content == reply
    messages = QUESTION + [{"role": "assistant", "content": reply},
                           {"role": "user", "content": "Now one about swans."}]

    turn2 = greedy(text_client, messages)
    cached = turn2.usage.prompt_tokens_details.cached_tokens
    assert turn1.usage.prompt_tokens <= cached < turn2.usage.prompt_tokens
    without_cache = greedy(uncached, messages)
    assert without_cache.usage.prompt_tokens_details.cached_tokens == 0
    assert without_cache.usage.prompt_tokens == turn2.usage.prompt_tokens
    assert without_cache.choices[0].message.content == turn2.choices[0].message.content
    again = greedy(text_client, messages)
    assert again.usage.prompt_tokens_details.cached_tokens == turn2.usage.prompt_tokens
    assert again.choices[0].message.content == turn2.choices[0].message.content


def test_logprobs_cover_every_generated_token(text_client):
    response = greedy(text_client, QUESTION, logprobs=True, top_logprobs=2)
    choice = response.choices[0]
    entries = choice.logprobs.content
    if choice.finish_reason == "length":
        assert len(entries) == response.usage.completion_tokens
    else:  # a turn's end stopped the reply: its tokens are not part of the content
        assert len(entries) < response.usage.completion_tokens
    text = b"".join(bytes(e.bytes) for e in entries)
    assert text.decode("utf-8", errors="replace") == choice.message.content
    for e in entries:
        assert e.logprob <= 0
        # Greedy: each token is the most likely one.
        assert bytes(e.top_logprobs[0].bytes) == bytes(e.bytes)
        assert e.top_logprobs[0].logprob == e.logprob
        assert e.top_logprobs[1].logprob <= e.logprob


def test_an_image_part_is_refused(text_client):
    with pytest.raises(openai.BadRequestError) as refused:
        text_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    assert refused.value.param == "messages[0].content[1]"
    assert "only text" in refused.value.message
