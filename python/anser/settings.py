"""The process-wide settings: kernel threads and the kernel table, fixed by the first model load."""

from __future__ import annotations

import os

from anser._capi import lib
from anser.errors import AnserError

_TOO_LATE = 4  # ANSER_ERROR_TOO_LATE


def set_threads(threads: int) -> None:
    """Threads each product runs on, the caller's included (0 = one per core). Process-wide;
    only before the first model is loaded, later an AnserError (ANSER_ERROR_TOO_LATE)."""
    lib.anser_set_threads(threads)


def threads() -> int:
    """The thread count in effect."""
    return lib.anser_threads()


def set_kernels(name: str) -> None:
    """The kernel table: "ref", "avx2" or "avxvnni" (those this CPU runs). Process-wide; only
    before the first model is loaded."""
    lib.anser_set_kernels(name.encode())


def kernels() -> str:
    """The kernel table models use."""
    return lib.anser_kernels().decode()


def ensure_threads(threads: int) -> None:
    """set_threads, except that once a model is loaded the count in effect is accepted."""
    try:
        set_threads(threads)
    except AnserError as error:
        in_effect = (threads if threads > 0 else os.cpu_count()) == lib.anser_threads()
        _raise_unless_in_effect(error, in_effect)


def ensure_kernels(name: str) -> None:
    """set_kernels, except that once a model is loaded the table in effect is accepted."""
    try:
        set_kernels(name)
    except AnserError as error:
        _raise_unless_in_effect(error, name == kernels())


def _raise_unless_in_effect(error: AnserError, in_effect: bool) -> None:
    if error.status != _TOO_LATE or not in_effect:
        raise error
