"""Models, states and the forward pass."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import numpy as np

from anser import _capi
from anser._capi import Handle, lib
from anser._tokens import Tokens, token_array
from anser.settings import ensure_kernels, ensure_threads

if TYPE_CHECKING:
    from anser.tokenizer import Tokenizer

PathLike = Union[str, "os.PathLike[str]"]

@dataclass(frozen=True)
class ModelConfig:
    """A model's shape: n_embd = n_head * head_size; LoRA ranks of decay (w), in-context
    learning rate (a), value (v) and gate (g)."""

    n_layer: int
    n_embd: int
    n_head: int
    head_size: int
    n_ffn: int
    n_vocab: int
    lora_rank_w: int
    lora_rank_a: int
    lora_rank_v: int
    lora_rank_g: int
    n_params: int


class _Session:
    """Scratch buffers for one thread's forward passes."""

    def __init__(self, model: Model) -> None:
        self.handle = Handle(lib.anser_session_free)
        lib.anser_session_new(model._handle.value, self.handle.out)


class Model:
    """An RWKV-7 model: an official .pth file, a Hugging Face folder or a GGUF file.

    Immutable and shared by every thread; each thread runs its forward passes in a session of
    its own (made on first use), so threads with separate states compute in parallel.
    `threads` and `kernels` set the process-wide settings, which only the first model loaded in
    a process may choose (a later model asking for other values raises AnserError)."""

    def __init__(self, path: PathLike, threads: int | None = None, kernels: str | None = None) -> None:
        if threads is not None:
            ensure_threads(threads)
        if kernels is not None:
            ensure_kernels(kernels)
        self.path = os.fspath(path)
        self._handle = Handle(lib.anser_model_free)
        lib.anser_model_load(os.fsencode(self.path), self._handle.out)
        raw = _capi.ModelConfig()
        raw.struct_size = ctypes.sizeof(raw)
        lib.anser_model_get_config(self._handle.value, ctypes.byref(raw))
        self.config = ModelConfig(**{name: getattr(raw, name) for name, _ in raw._fields_[1:]})
        self._local = threading.local()
        self._tokenizer: Tokenizer | None = None
        self._tokenizer_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"anser.Model({self.path!r})"

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer this model needs (as `anser generate` finds it): bytes for 256 tokens,
        the World vocabulary for 65536. AnserError for other vocabularies."""
        from anser.tokenizer import Tokenizer

        with self._tokenizer_lock:
            if self._tokenizer is None:
                self._tokenizer = Tokenizer.for_model(self)
            return self._tokenizer

    def new_state(self) -> State:
        """A zero state for this model."""
        return State(self)

    def _session(self) -> _Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _Session(self)
        return session

    def forward(self, tokens: Tokens, state: State, all_positions: bool = False) -> np.ndarray:
        """Runs `tokens` (an id or a sequence of ids) through the model, advancing `state`.
        Returns float32 logits: (n_vocab,) for the last token, or (len(tokens), n_vocab) for
        every position when `all_positions`."""
        n_vocab = self.config.n_vocab
        session = self._session().handle.value
        if isinstance(tokens, (int, np.integer)) and not all_positions:  # the decoding loop's case, kept short
            logits = np.empty(n_vocab, dtype=np.float32)
            lib.anser_session_step(session, _state_handle(state), int(tokens), logits.ctypes.data, n_vocab)
            return logits
        ids = token_array(tokens)
        if ids.size == 0:
            raise ValueError("forward needs at least one token")
        logits = np.empty((ids.size, n_vocab) if all_positions else n_vocab, dtype=np.float32)
        lib.anser_session_prefill(session, _state_handle(state), ids.ctypes.data, ids.size, int(all_positions),
                                  logits.ctypes.data, logits.size)
        return logits

    def forward_batch(self, tokens: Tokens, states: Sequence[State]) -> np.ndarray:
        """Advances each state by one token (states[b] takes tokens[b]) in one batched pass.
        Returns the logits (len(states), n_vocab); the same as forward on each state."""
        ids = token_array(tokens)
        if ids.size != len(states):
            raise ValueError(f"forward_batch takes one token per state: {ids.size} tokens, {len(states)} states")
        handles = (ctypes.c_void_p * len(states))(*[_state_handle(s) for s in states])
        logits = np.empty((ids.size, self.config.n_vocab), dtype=np.float32)
        lib.anser_session_step_batch(self._session().handle.value, handles, ids.ctypes.data, ids.size,
                                     logits.ctypes.data, logits.size)
        return logits

    def generate(self, prompt: str | bytes | Sequence[int], max_tokens: int = 200, *, stream: bool = True,
                 stop: Sequence[str] = (), state: State | None = None,
                 **sampling: float | int | None) -> Iterator[str] | str:
        """Continues `prompt` as `anser generate` does: prefill, then sample up to `max_tokens`
        tokens, ending early at the end-of-document token or at a stop string (not output).
        Yields the text as it becomes printable (never half a UTF-8 character) when `stream`,
        else returns it whole. `sampling` takes the options of anser.Sampler (seed=None: a
        random seed). A `state` given starts the generation and is advanced by it."""
        from anser.generate import generate_pieces

        pieces = generate_pieces(self, prompt, max_tokens, stop, state, sampling)
        return pieces if stream else "".join(pieces)


class State:
    """One sequence's recurrent state, float32 buffers owned by the engine:
    `att_shift` (n_layer, n_embd), `wkv` (n_layer, n_head, head_size, head_size; per head row =
    value index, column = key index) and `ffn_shift` (n_layer, n_embd), numpy views that read
    and write the state in place."""

    def __init__(self, model: Model) -> None:
        handle = Handle(lib.anser_state_free)
        lib.anser_state_new(model._handle.value, handle.out)
        self.config = model.config
        self._handle = handle

    @classmethod
    def _wrap(cls, config: ModelConfig, handle: Handle) -> State:
        state = cls.__new__(cls)
        state.config = config
        state._handle = handle
        return state

    @classmethod
    def load(cls, path: PathLike, model: Model) -> State:
        """Reads a state file (as written by save or `anser generate --save-state`)."""
        handle = Handle(lib.anser_state_free)
        lib.anser_state_load(model._handle.value, os.fsencode(os.fspath(path)), handle.out)
        return cls._wrap(model.config, handle)

    def save(self, path: PathLike) -> None:
        """Writes the state file: a torch.load-able dict {wkv, att_shift, ffn_shift}."""
        lib.anser_state_save(self._handle.value, os.fsencode(os.fspath(path)))

    def copy(self) -> State:
        """An independent copy."""
        handle = Handle(lib.anser_state_free)
        lib.anser_state_copy(self._handle.value, handle.out)
        return State._wrap(self.config, handle)

    def reset(self) -> None:
        """Back to the zero state."""
        lib.anser_state_reset(self._handle.value)

    @property
    def att_shift(self) -> np.ndarray:
        return self._view(0, (self.config.n_layer, self.config.n_embd))

    @property
    def wkv(self) -> np.ndarray:
        c = self.config
        return self._view(1, (c.n_layer, c.n_head, c.head_size, c.head_size))

    @property
    def ffn_shift(self) -> np.ndarray:
        return self._view(2, (self.config.n_layer, self.config.n_embd))

    def _view(self, part: int, shape: tuple[int, ...]) -> np.ndarray:
        data = ctypes.c_void_p()
        count = ctypes.c_size_t()
        lib.anser_state_data(self._handle.value, part, ctypes.byref(data), ctypes.byref(count))
        return np.asarray(_Buffer(self, data.value, shape))


class _Buffer:
    """Exposes engine memory to numpy, keeping its owner alive as long as a view exists."""

    def __init__(self, owner: object, address: int, shape: tuple[int, ...]) -> None:
        self.owner = owner
        self.__array_interface__ = {"data": (address, False), "shape": shape, "typestr": "<f4", "version": 3}


def _state_handle(state: State) -> int:
    if not isinstance(state, State):
        raise TypeError(f"expected an anser.State, got {type(state).__name__}")
    return state._handle.value
