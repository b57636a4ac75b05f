"""Exceptions raised for the status codes of the C API, carrying its message."""

from __future__ import annotations


class AnserError(Exception):
    """A failed call of the engine. `status` is the C API's code, `status_name` its name; the
    message is the C API's own (it names the function and the object, and what to do)."""

    status = 0
    status_name = ""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.status_name = _NAMES.get(status, "ANSER_STATUS_UNKNOWN")


class InvalidArgumentError(AnserError, ValueError):
    """A value out of range, a state of another model, a NULL where a value was needed."""


class AnserFileError(AnserError, OSError):
    """A file that is missing, unreadable, unwritable or not in the expected format."""


_NAMES = {
    1: "ANSER_ERROR_INVALID_ARGUMENT",
    2: "ANSER_ERROR_FILE",
    3: "ANSER_ERROR_BUFFER_TOO_SMALL",
    4: "ANSER_ERROR_TOO_LATE",
    5: "ANSER_ERROR_UNSUPPORTED",
    6: "ANSER_ERROR_OUT_OF_MEMORY",
    7: "ANSER_ERROR_INTERNAL",
}
_CLASSES = {1: InvalidArgumentError, 2: AnserFileError}


def raise_for_status(status: int, message: str) -> None:
    """Raises the exception for a nonzero anser_status."""
    if status == 6:
        raise MemoryError(message)
    raise _CLASSES.get(status, AnserError)(message, status)
