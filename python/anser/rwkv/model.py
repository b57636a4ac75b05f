"""RWKV: the official package's model class (`rwkv.model.RWKV`) on Anser's engine."""

from __future__ import annotations

import os
import re
import threading
import types
from collections.abc import Sequence

import numpy as np

import anser
from anser._tokens import token_array

StateList = list  # of numpy arrays: per layer att_shift, wkv, ffn_shift

# "cpu fp32", "cpu bf16", "cpu fp16": Anser computes in float32 from the weights as stored, so
# the three give the same (float32) results; anything else is not a CPU strategy Anser runs.
_STRATEGY = re.compile(r"^\s*cpu\s+(fp32|bf16|fp16)\s*$")


def _as_array(value: object) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


class RWKV:
    """`RWKV(model=PATH, strategy='cpu fp32')` as in the official package.

    PATH gets ".pth" appended when it lacks it (as the official package does); GGUF files and
    Hugging Face folders are taken as they are. forward() returns numpy float32 logits and the
    official state list: per layer i, state[3i] = att_shift (n_embd,), state[3i+1] = wkv
    (n_head, head_size, head_size) and state[3i+2] = ffn_shift (n_embd,)."""

    def __init__(self, model: str, strategy: str = "cpu fp32", verbose: bool = True,
                 convert_and_save_and_exit: str | None = None) -> None:
        if convert_and_save_and_exit is not None:
            raise ValueError("convert_and_save_and_exit is not supported: Anser runs .pth files as they are "
                             "(use `anser quantize` for smaller, faster files)")
        if not _STRATEGY.match(strategy):
            raise ValueError(f"strategy {strategy!r} is not supported: Anser runs on the CPU only, as "
                             "'cpu fp32', 'cpu bf16' or 'cpu fp16' (all computed in float32 from the weights "
                             "as stored; for 8-bit or 4-bit weights convert the model with `anser quantize`)")
        path = model.strip()
        if not (path.endswith(".pth") or path.endswith(".gguf") or os.path.isdir(path)):
            path += ".pth"
        self._model = anser.Model(path)
        c = self._model.config
        self.args = types.SimpleNamespace(MODEL_NAME=path, strategy_string=strategy.strip(), n_layer=c.n_layer,
                                          n_embd=c.n_embd, vocab_size=c.n_vocab, head_size=c.head_size,
                                          n_head=c.n_head, n_att=c.n_embd, n_ffn=c.n_ffn)
        self.n_layer = c.n_layer
        self.n_embd = c.n_embd
        self.n_head = c.n_head
        self.head_size = c.head_size
        self.version = 7
        self._local = threading.local()

    @property
    def anser_model(self) -> anser.Model:
        """The underlying anser.Model."""
        return self._model

    def generate_zero_state(self) -> StateList:
        c = self._model.config
        state: StateList = []
        for _ in range(c.n_layer):
            state.append(np.zeros(c.n_embd, dtype=np.float32))
            state.append(np.zeros((c.n_head, c.head_size, c.head_size), dtype=np.float32))
            state.append(np.zeros(c.n_embd, dtype=np.float32))
        return state

    def forward(self, tokens: int | Sequence[int], state: StateList | None,
                full_output: bool = False) -> tuple:
        """Runs `tokens` from `state` (None: the zero state). Returns (logits, state): logits
        (n_vocab,), or (len(tokens), n_vocab) when full_output and several tokens are given;
        `state` is the list passed in, its arrays replaced by new ones."""
        if state is None:
            state = self.generate_zero_state()
        engine_state = self._scratch_state()
        self._load(state, engine_state)
        ids = token_array(tokens)
        logits = self._model.forward(ids, engine_state, all_positions=full_output and ids.size > 1)
        self._store(engine_state, state)
        return logits, state

    def _scratch_state(self) -> anser.State:
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = self._model.new_state()
        return state

    def _load(self, state: StateList, engine_state: anser.State) -> None:
        c = self._model.config
        if len(state) != 3 * c.n_layer:
            raise ValueError(f"state has {len(state)} entries; this model's has 3 per layer: {3 * c.n_layer}")
        parts = (engine_state.att_shift, engine_state.wkv, engine_state.ffn_shift)
        for i in range(c.n_layer):
            for k, part in enumerate(parts):
                value = _as_array(state[3 * i + k])
                if value.shape != part[i].shape:
                    raise ValueError(f"state[{3 * i + k}] has shape {value.shape}, this model needs {part[i].shape}")
                part[i] = value

    def _store(self, engine_state: anser.State, state: StateList) -> None:
        parts = (engine_state.att_shift, engine_state.wkv, engine_state.ffn_shift)
        for i in range(self._model.config.n_layer):
            for k, part in enumerate(parts):
                state[3 * i + k] = part[i].copy()
