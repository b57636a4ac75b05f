"""Structured output and tool calls through the official Python client, on the random World
model (noise unless constrained): the SDK's own parser gets a typed object, and a tool call goes
round (call -> tool message -> final answer)."""

import json

import pydantic

MODEL = "model.bf16"


class Goose(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=12)
    age: int = pydantic.Field(ge=0, le=40)
    migrates: bool


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 12}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def test_the_sdk_parses_a_json_schema_reply_into_its_model(text_client):
    for seed in range(3):
        completion = text_client.chat.completions.parse(
            model=MODEL, seed=seed, temperature=1, top_p=1, max_tokens=300,
            messages=[{"role": "user", "content": "Describe a goose as JSON."}],
            response_format=Goose)
        choice = completion.choices[0]
        assert choice.finish_reason == "stop", choice.message.content
        goose = choice.message.parsed
        assert isinstance(goose, Goose)
        assert Goose.model_validate_json(choice.message.content) == goose
        assert len(goose.name) <= 12 and 0 <= goose.age <= 40


def test_json_object_mode_gives_json(text_client):
    completion = text_client.chat.completions.create(
        model=MODEL, seed=5, temperature=1, top_p=1, max_tokens=300,
        messages=[{"role": "user", "content": "Any JSON, please."}],
        response_format={"type": "json_object"})
    choice = completion.choices[0]
    if choice.finish_reason == "stop":
        json.loads(choice.message.content)
    else:
        assert choice.finish_reason == "length"


def test_a_tool_call_goes_round(text_client):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = text_client.chat.completions.create(
        model=MODEL, seed=1, temperature=1, max_tokens=200, messages=messages,
        tools=[WEATHER_TOOL], tool_choice="required")
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls and all(c.type == "function" and c.function.name == "get_weather" for c in calls)
    arguments = json.loads(calls[0].function.arguments)
    assert isinstance(arguments["city"], str) and len(arguments["city"]) <= 12
    assert set(arguments) == {"city"}

    # The follow-up carries the call and its result; the model answers in text.
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": calls[0].id, "content": '{"sky": "clear"}'})
    second = text_client.chat.completions.create(
        model=MODEL, seed=1, temperature=1, max_tokens=20, messages=messages,
        tools=[WEATHER_TOOL], tool_choice="none")
    answer = second.choices[0]
    assert answer.finish_reason in ("stop", "length")
    assert not answer.message.tool_calls
    assert isinstance(answer.message.content, str)
    assert second.usage.prompt_tokens > first.usage.prompt_tokens


def test_a_named_tool_choice_streams_tool_call_deltas(text_client):
    stream = text_client.chat.completions.create(
        model=MODEL, seed=2, temperature=1, max_tokens=200, stream=True,
        messages=[{"role": "user", "content": "Weather in Oslo?"}], tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}}, parallel_tool_calls=False)
    names, arguments, finishes = [], "", []
    for chunk in stream:
        for c in chunk.choices:
            for call in c.delta.tool_calls or []:
                if call.function and call.function.name:
                    names.append(call.function.name)
                if call.function and call.function.arguments:
                    arguments += call.function.arguments
            if c.finish_reason:
                finishes.append(c.finish_reason)
    assert names == ["get_weather"]
    assert finishes == ["tool_calls"]
    assert set(json.loads(arguments)) == {"city"}
