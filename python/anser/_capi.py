"""The C API of libanser.so (include/anser/anser.h) through ctypes.

ctypes rather than a compiled extension module: the package then builds no Python-specific
code (one wheel serves every Python 3 version, no Python headers needed), the C API stays the
one interface the bindings use, and ctypes releases the GIL for the duration of every foreign
call, so Python threads running their own sessions compute in parallel. A call costs about a
microsecond, small beside a forward pass.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from anser.errors import raise_for_status

_PACKAGE_DIR = Path(__file__).resolve().parent


def library_path() -> str:
    """The libanser.so this package uses: $ANSER_LIBRARY, else the one it carries. The wheel
    lays out its native files as an installation does (lib/ beside share/anser/), so the
    library finds the World vocabulary beside itself as an installed libanser.so does."""
    return os.environ.get("ANSER_LIBRARY") or str(_PACKAGE_DIR / "lib" / "libanser.so")


lib = ctypes.CDLL(library_path())

_p = ctypes.c_void_p  # handles and buffers, passed as addresses
_size = ctypes.c_size_t
_i32 = ctypes.c_int32


class ModelConfig(ctypes.Structure):
    _fields_ = [
        ("struct_size", _size),
        ("n_layer", _i32),
        ("n_embd", _i32),
        ("n_head", _i32),
        ("head_size", _i32),
        ("n_ffn", _i32),
        ("n_vocab", _i32),
        ("lora_rank_w", _i32),
        ("lora_rank_a", _i32),
        ("lora_rank_v", _i32),
        ("lora_rank_g", _i32),
        ("n_params", ctypes.c_int64),
    ]


class SamplerParams(ctypes.Structure):
    _fields_ = [
        ("struct_size", _size),
        ("temperature", ctypes.c_float),
        ("top_p", ctypes.c_float),
        ("top_k", _i32),
        ("min_p", ctypes.c_float),
        ("presence_penalty", ctypes.c_float),
        ("frequency_penalty", ctypes.c_float),
        ("penalty_decay", ctypes.c_float),
        ("seed", ctypes.c_uint64),
    ]


def _check(status: int, function: object, arguments: tuple) -> int:
    if status != 0:
        raise_for_status(status, lib.anser_last_error().decode("utf-8", "replace"))
    return status


def _declare(name: str, restype: object, *argtypes: object) -> None:
    function = getattr(lib, name)
    function.argtypes = argtypes
    if restype is _status:  # failures raise
        function.restype = ctypes.c_int
        function.errcheck = _check
    else:
        function.restype = restype


_status = object()  # marks the functions that return an anser_status
_declare("anser_api_version", _i32)
_declare("anser_version", ctypes.c_char_p)
_declare("anser_last_error", ctypes.c_char_p)
_declare("anser_set_threads", _status, _i32)
_declare("anser_threads", _i32)
_declare("anser_set_kernels", _status, ctypes.c_char_p)
_declare("anser_kernels", ctypes.c_char_p)

_declare("anser_model_load", _status, ctypes.c_char_p, _p)
_declare("anser_model_free", None, _p)
_declare("anser_model_get_config", _status, _p, ctypes.POINTER(ModelConfig))

_declare("anser_state_new", _status, _p, _p)
_declare("anser_state_copy", _status, _p, _p)
_declare("anser_state_free", None, _p)
_declare("anser_state_reset", _status, _p)
_declare("anser_state_save", _status, _p, ctypes.c_char_p)
_declare("anser_state_load", _status, _p, ctypes.c_char_p, _p)
_declare("anser_state_data", _status, _p, ctypes.c_int, _p, _p)

_declare("anser_session_new", _status, _p, _p)
_declare("anser_session_free", None, _p)
_declare("anser_session_prefill", _status, _p, _p, _p, _size, _i32, _p, _size)
_declare("anser_session_step", _status, _p, _p, _i32, _p, _size)
_declare("anser_session_step_batch", _status, _p, _p, _p, _size, _p, _size)

_declare("anser_tokenizer_load_world", _status, ctypes.c_char_p, _p)
_declare("anser_tokenizer_new_bytes", _status, _p)
_declare("anser_tokenizer_for_model", _status, _p, ctypes.c_char_p, _p)
_declare("anser_tokenizer_free", None, _p)
_declare("anser_tokenizer_vocab_size", _i32, _p)
_declare("anser_tokenizer_encode", _status, _p, ctypes.c_char_p, _size, _p, _size, _p)
_declare("anser_tokenizer_decode", _status, _p, _p, _size, _p, _size, _p)
_declare("anser_tokenizer_token_bytes", _status, _p, _i32, _p, _p)

_declare("anser_text_stream_new", _status, _p, _size, _p)
_declare("anser_text_stream_free", None, _p)
_declare("anser_text_stream_push", _status, _p, ctypes.c_char_p, _size, _p, _p)
_declare("anser_text_stream_flush", _status, _p, _p, _p)
_declare("anser_text_stream_stopped", _i32, _p)

_declare("anser_sampler_params_default", _status, ctypes.POINTER(SamplerParams))
_declare("anser_sampler_new", _status, _i32, ctypes.POINTER(SamplerParams), _p)
_declare("anser_sampler_free", None, _p)
_declare("anser_sampler_sample", _status, _p, _p, _size, _p)
_declare("anser_sampler_accept", _status, _p, _i32)
_declare("anser_sampler_reset", _status, _p)
_declare("anser_sample_logits", _status, _p, _size, ctypes.POINTER(SamplerParams), _p)


class Handle:
    """An object of the C API, released with its anser_X_free when the Python object goes."""

    __slots__ = ("value", "_free")

    def __init__(self, free: object) -> None:
        self.value = ctypes.c_void_p()
        self._free = free

    @property
    def out(self) -> object:
        """The address to pass where the C API returns a new object."""
        return ctypes.byref(self.value)

    def __del__(self) -> None:
        if self.value:
            self._free(self.value)
            self.value = ctypes.c_void_p()
