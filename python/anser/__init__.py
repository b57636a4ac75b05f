"""Anser: RWKV-7 "Goose" language models on the CPU, from Python.

    import anser
    model = anser.Model("rwkv7-g1-0.1b.pth")
    for piece in model.generate("The capital of France is", max_tokens=50, seed=1):
        print(piece, end="", flush=True)

The engine is Anser's C library (libanser.so, carried by this package; $ANSER_LIBRARY loads
another). Arrays are numpy float32. `anser.rwkv` is a drop-in for the official `rwkv` package.
See docs/PYTHON.md.
"""

from anser._capi import lib as _lib
from anser.errors import AnserError, AnserFileError, InvalidArgumentError
from anser.model import Model, ModelConfig, State
from anser.sampler import Sampler, sample_logits
from anser.settings import kernels, set_kernels, set_threads, threads
from anser.tokenizer import TextStream, Tokenizer

__version__: str = _lib.anser_version().decode()
API_VERSION: int = _lib.anser_api_version()

__all__ = [
    "AnserError",
    "AnserFileError",
    "InvalidArgumentError",
    "Model",
    "ModelConfig",
    "Sampler",
    "State",
    "TextStream",
    "Tokenizer",
    "kernels",
    "sample_logits",
    "set_kernels",
    "set_threads",
    "threads",
]
