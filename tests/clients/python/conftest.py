"""Servers (one per configuration, shared by the tests of a session) and clients for them."""

import openai
import pytest

from anser_server import BYTE_MODEL, TEXT_MODEL, AnserServer

API_KEY = "test-key-7f3a"
# Long enough that a stream outlives the requests sent while it runs.
LONG_REPLY = 1_000_000


def _serve(*args):
    server = AnserServer(*args)
    yield server
    status = server.stop()
    assert status == 0, f"anser serve did not stop cleanly on SIGTERM (status {status}):\n{server.log_text()}"


@pytest.fixture(scope="session")
def text_server():
    yield from _serve(*TEXT_MODEL, "--parallel", "4")


@pytest.fixture(scope="session")
def uncached_text_server():
    yield from _serve(*TEXT_MODEL, "--parallel", "4", "--state-cache-mb", "0")


@pytest.fixture(scope="session")
def byte_server():
    yield from _serve(*BYTE_MODEL, "--parallel", "4")


@pytest.fixture(scope="session")
def key_server():
    yield from _serve(*BYTE_MODEL, "--api-key", API_KEY)


@pytest.fixture(scope="session")
def busy_server():
    """One slot and one place in the queue: a third request at once gets 429."""
    yield from _serve(*BYTE_MODEL, "--parallel", "1", "--queue", "1", "--max-tokens-limit", str(LONG_REPLY))


def client_for(server, api_key="unused"):
    # The SDKs need some key; retries are off so that every error reaches the test.
    return openai.OpenAI(base_url=server.url + "/v1", api_key=api_key, max_retries=0, timeout=120)


@pytest.fixture(scope="session")
def text_client(text_server):
    return client_for(text_server)


@pytest.fixture(scope="session")
def uncached_text_client(uncached_text_server):
    return client_for(uncached_text_server)


@pytest.fixture(scope="session")
def byte_client(byte_server):
    return client_for(byte_server)
