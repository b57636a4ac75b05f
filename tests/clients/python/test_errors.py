"""The server's errors as the official Python client raises them; after each one the server still
answers a normal request."""

import json
import subprocess
import time
import urllib.request

import openai
import pytest

from anser_server import BINARY, BYTE_MODEL
from conftest import API_KEY, LONG_REPLY, client_for

MODEL = "model.fp32"
WAIT_S = 30


def still_serves(client):
    response = client.completions.create(model=MODEL, prompt="To be", max_tokens=3, temperature=0)
    assert response.choices[0].finish_reason in ("stop", "length")


@pytest.mark.parametrize("field, value", [("temperature", 5), ("n", 0), ("max_tokens", -1), ("top_p", "high")])
def test_out_of_range_field_is_bad_request(byte_client, field, value):
    with pytest.raises(openai.BadRequestError) as error:
        byte_client.completions.create(model=MODEL, prompt="To be", extra_body={field: value})
    assert error.value.status_code == 400
    assert error.value.type == "invalid_request_error"
    assert error.value.param == field
    assert field in error.value.message
    still_serves(byte_client)


def test_unknown_route_and_state_are_not_found(byte_client):
    with pytest.raises(openai.NotFoundError) as error:
        byte_client.models.retrieve("no-such-model")
    assert error.value.type == "not_found_error"
    with pytest.raises(openai.NotFoundError) as error:
        byte_client.completions.create(model=MODEL, prompt="To be", extra_body={"state": "no-such-state"})
    assert error.value.param == "state"
    still_serves(byte_client)


def test_a_taken_port_is_refused(byte_server, byte_client):
    port = byte_server.url.rsplit(":", 1)[1]
    second = subprocess.run([BINARY, "serve", *BYTE_MODEL, "--port", port], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    still_serves(byte_client)


def test_api_key_is_required(key_server):
    with pytest.raises(openai.AuthenticationError) as error:
        client_for(key_server, api_key="wrong").completions.create(model=MODEL, prompt="To be", max_tokens=3)
    assert error.value.status_code == 401
    assert error.value.type == "authentication_error"
    assert error.value.code == "invalid_api_key"
    # Refused before the body was read, the connection cannot carry another request.
    assert error.value.response.headers["Connection"] == "close"
    # /health needs no key.
    with urllib.request.urlopen(key_server.url + "/health") as health:
        assert json.load(health) == {"status": "ok"}
    still_serves(client_for(key_server, api_key=API_KEY))


def gauges(server):
    """The server's active and queued request counts, from /metrics."""
    with urllib.request.urlopen(server.url + "/metrics") as response:
        lines = response.read().decode().splitlines()
    values = dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))
    return float(values["anser_requests_active"]), float(values["anser_requests_queued"])


def wait_until_idle(server):
    # The server frees a disconnected stream's slot at its next step; nothing announces it.
    deadline = time.monotonic() + WAIT_S
    while gauges(server) != (0, 0):
        assert time.monotonic() < deadline, f"requests still active or queued after {WAIT_S} s: {gauges(server)}"
        time.sleep(0.02)


def test_full_queue_is_rate_limited(busy_server):
    client = client_for(busy_server)
    long_reply = dict(model=MODEL, prompt="Once upon a time", max_tokens=LONG_REPLY, stream=True,
                      logit_bias={"0": -100})  # byte 0 would end the text
    running = client.completions.create(**long_reply)
    next(iter(running))  # a token came: this request holds the only slot
    queued = client.completions.create(**long_reply)  # its headers came: it waits in the queue
    try:
        with pytest.raises(openai.RateLimitError) as error:
            client.completions.create(model=MODEL, prompt="To be", max_tokens=3)
        assert error.value.status_code == 429
        assert error.value.type == "rate_limit_error"
        assert error.value.response.headers["Retry-After"] == "1"
    finally:
        running.close()
        queued.close()
    wait_until_idle(busy_server)
    still_serves(client)
