"""Sampling in the ChatRWKV order, with the options of `anser generate`."""

from __future__ import annotations

import ctypes
import secrets

import numpy as np

from anser import _capi
from anser._capi import Handle, lib


def sampler_params(temperature: float = 1.0, top_p: float = 0.85, top_k: int = 0, min_p: float = 0.0,
                   presence_penalty: float = 0.0, frequency_penalty: float = 0.0, penalty_decay: float = 0.996,
                   seed: int | None = 0) -> _capi.SamplerParams:
    """The C API's parameters struct (seed None: a random one)."""
    params = _capi.SamplerParams()
    params.struct_size = ctypes.sizeof(params)
    lib.anser_sampler_params_default(ctypes.byref(params))
    params.temperature = temperature
    params.top_p = top_p
    params.top_k = top_k
    params.min_p = min_p
    params.presence_penalty = presence_penalty
    params.frequency_penalty = frequency_penalty
    params.penalty_decay = penalty_decay
    params.seed = secrets.randbits(64) if seed is None else seed
    return params


def _logits_copy(logits: object) -> np.ndarray:
    """A float32 copy the engine may modify (numpy arrays, sequences or torch tensors)."""
    if hasattr(logits, "detach"):  # a torch tensor
        logits = logits.detach().float().cpu().numpy()
    array = np.array(logits, dtype=np.float32, copy=True).reshape(-1)
    return array


class Sampler:
    """A seeded sampler, as `anser generate` samples.

    Per draw: penalties (presence + frequency x count, for accepted tokens), softmax, top-k,
    top-p, min-p, then probabilities raised to 1/temperature; temperature 0 = greedy. The same
    seed and calls give the same tokens. Options and defaults are the command line's; seed None
    picks a random one (see `seed`)."""

    def __init__(self, temperature: float = 1.0, top_p: float = 0.85, top_k: int = 0, min_p: float = 0.0,
                 presence_penalty: float = 0.0, frequency_penalty: float = 0.0, penalty_decay: float = 0.996,
                 seed: int | None = 0) -> None:
        self._params = sampler_params(temperature, top_p, top_k, min_p, presence_penalty, frequency_penalty,
                                      penalty_decay, seed)
        self._handle: Handle | None = None
        self._n_vocab = 0
        self._token = ctypes.c_int32()

    @property
    def seed(self) -> int:
        return self._params.seed

    def sample(self, logits: object) -> int:
        """Draws a token from `logits` (not modified)."""
        return self.sample_in_place(_logits_copy(logits))

    def sample_in_place(self, logits: np.ndarray) -> int:
        """Draws a token from a contiguous float32 array, which it changes (penalties, NaN)."""
        if not (isinstance(logits, np.ndarray) and logits.dtype == np.float32 and logits.flags.c_contiguous
                and logits.flags.writeable):
            raise TypeError("sample_in_place() needs a writable, contiguous float32 numpy array; "
                            "sample() takes any array")
        if self._handle is None:
            self._handle = Handle(lib.anser_sampler_free)
            lib.anser_sampler_new(logits.size, ctypes.byref(self._params), self._handle.out)
            self._n_vocab = logits.size
        lib.anser_sampler_sample(self._handle.value, logits.ctypes.data, logits.size, ctypes.byref(self._token))
        return self._token.value

    def accept(self, token: int) -> None:
        """Records a token that entered the context, for the penalties."""
        if self._handle is None:
            raise ValueError("accept() before the first sample(): the sampler does not know the vocabulary yet")
        lib.anser_sampler_accept(self._handle.value, token)

    def reset(self) -> None:
        """Forgets the accepted tokens."""
        if self._handle is not None:
            lib.anser_sampler_reset(self._handle.value)


def sample_logits(logits: object, temperature: float = 1.0, top_p: float = 0.85, top_k: int = 0,
                  seed: int | None = None) -> int:
    """One draw from `logits` (not modified) with a fresh sampler."""
    array = _logits_copy(logits)
    params = sampler_params(temperature=temperature, top_p=top_p, top_k=top_k, seed=seed)
    token = ctypes.c_int32()
    lib.anser_sample_logits(array.ctypes.data, array.size, ctypes.byref(params), ctypes.byref(token))
    return token.value
