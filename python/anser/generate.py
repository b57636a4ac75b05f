"""Model.generate: the loop of `anser generate`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from anser._capi import lib
from anser.sampler import Sampler
from anser.tokenizer import TextStream

if TYPE_CHECKING:
    from anser.model import Model, State


def generate_pieces(model: Model, prompt: str | bytes | Sequence[int], max_tokens: int, stop: Sequence[str],
                    state: State | None, sampling: dict) -> Iterator[str]:
    """Yields the printable text of a completion, token by token (see Model.generate)."""
    tokenizer = model.tokenizer
    ids = tokenizer.encode(prompt) if isinstance(prompt, (str, bytes)) else list(prompt)
    if not ids:
        ids = [0]  # nothing to condition on: start after the end-of-document token
    sampling.setdefault("seed", None)
    sampler = Sampler(**sampling)
    if state is None:
        state = model.new_state()
    logits = model.forward(ids, state)
    stream = TextStream(stop)
    session = model._session().handle.value
    state_handle = state._handle.value
    n_vocab = logits.size
    for _ in range(max_tokens):
        token = sampler.sample_in_place(logits)
        if token == 0:  # end of document
            break
        sampler.accept(token)
        text = stream.push(tokenizer.token_bytes(token))
        if text:
            yield text
        # The state always takes the sampled token, so it continues after the output.
        lib.anser_session_step(session, state_handle, token, logits.ctypes.data, n_vocab)
        if stream.stopped:
            break
    rest = stream.flush()
    if rest:
        yield rest
