"""PIPELINE and PIPELINE_ARGS: the official package's `rwkv.utils`, on Anser's engine."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

import anser
from anser.rwkv.model import RWKV, StateList

_WORLD = "rwkv_vocab_v20230424"


class PIPELINE_ARGS:  # noqa: N801 (the official name)
    """Generation options, with the official fields and defaults."""

    def __init__(self, temperature: float = 1.0, top_p: float = 0.85, top_k: int = 0, alpha_frequency: float = 0.2,
                 alpha_presence: float = 0.2, alpha_decay: float = 0.996, token_ban: list[int] | None = None,
                 token_stop: list[int] | None = None, chunk_len: int = 256) -> None:
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.alpha_frequency = alpha_frequency  # frequency penalty (as in GPT-3)
        self.alpha_presence = alpha_presence  # presence penalty (as in GPT-3)
        self.alpha_decay = alpha_decay  # gradually decays the penalties
        self.token_ban = [] if token_ban is None else token_ban  # never generated
        self.token_stop = [] if token_stop is None else token_stop  # generation stops at any of these
        self.chunk_len = chunk_len  # the prompt is fed in chunks of this many tokens


class PIPELINE:  # noqa: N801 (the official name)
    """`PIPELINE(model, "rwkv_vocab_v20230424")`: the World tokenizer (the vocabulary this package
    carries), sampling and generation as in the official package. WORD_NAME may also be the path
    of a World vocabulary file; other tokenizers are not supported."""

    def __init__(self, model: RWKV, WORD_NAME: str) -> None:  # noqa: N803 (the official name)
        self.model = model
        if WORD_NAME == _WORLD:
            self.tokenizer = anser.Tokenizer()
        elif os.path.isfile(WORD_NAME):
            self.tokenizer = anser.Tokenizer(WORD_NAME)
        else:
            raise ValueError(f"tokenizer {WORD_NAME!r} is not supported: Anser's PIPELINE takes "
                             f"{_WORLD!r} (the RWKV World vocabulary) or the path of a World vocabulary file")

    def refine_context(self, context: str) -> str:
        lines = [c.strip().strip("\u3000").strip("\r") for c in context.strip().split("\n")]
        context = "\n" + "\n".join(c for c in lines if c != "").strip()
        return "\n" if context == "" else context

    def encode(self, x: str) -> list[int]:
        return self.tokenizer.encode(x)

    def decode(self, x: Sequence[int]) -> str:
        """The text of the tokens, or "\ufffd" when their bytes are not valid UTF-8 (as the
        official tokenizer does)."""
        try:
            return self.tokenizer.decode_bytes(list(x)).decode("utf-8")
        except UnicodeDecodeError:
            return "\ufffd"

    def sample_logits(self, logits: object, temperature: float = 1.0, top_p: float = 0.85, top_k: int = 0) -> int:
        """A token drawn as the official package draws it (softmax, top-p, top-k, then
        probabilities raised to 1/temperature; temperature 0 = the most probable token), with a
        seed taken from numpy's global generator, so np.random.seed makes runs repeatable."""
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
        return anser.sample_logits(logits, temperature=temperature, top_p=top_p, top_k=int(top_k), seed=seed)

    def generate(self, ctx: str, token_count: int = 100, args: PIPELINE_ARGS | None = None,
                 callback: Callable[[str], None] | None = None, state: StateList | None = None) -> str:
        """The official generation loop: presence and frequency penalties with decay (spaces,
        tabs and digits are not penalised), banned and stop tokens, text passed to `callback` as
        soon as it is valid UTF-8."""
        args = PIPELINE_ARGS() if args is None else args
        all_tokens: list[int] = []
        out_last = 0
        out_str = ""
        occurrence: dict = {}
        token = 0
        for i in range(token_count):
            tokens = self.encode(ctx) if i == 0 else [token]
            while len(tokens) > 0:
                out, state = self.model.forward(tokens[: args.chunk_len], state)
                tokens = tokens[args.chunk_len:]
            for n in args.token_ban:
                out[n] = -float("inf")
            for n in occurrence:
                out[n] -= args.alpha_presence + occurrence[n] * args.alpha_frequency
            token = self.sample_logits(out, temperature=args.temperature, top_p=args.top_p, top_k=args.top_k)
            if token in args.token_stop:
                break
            all_tokens += [token]
            for xxx in occurrence:
                occurrence[xxx] *= args.alpha_decay
            ttt = self.decode([token])
            www = 0 if ttt in " \t0123456789" else 1
            occurrence[token] = occurrence.get(token, 0) + www
            tmp = self.decode(all_tokens[out_last:])
            if "\ufffd" not in tmp:  # valid UTF-8
                if callback:
                    callback(tmp)
                out_str += tmp
                out_last = i + 1
        return out_str
