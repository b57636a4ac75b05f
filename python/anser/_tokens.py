"""Token ids as the C API takes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

Tokens = Union[int, Sequence[int], np.ndarray]


def token_array(tokens: Tokens) -> np.ndarray:
    """Token ids as a contiguous int32 array (from an int, a sequence, numpy or torch)."""
    ids = np.asarray(tokens)
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if ids.ndim != 1 or (ids.size > 0 and ids.dtype.kind not in "iu"):
        raise ValueError(f"tokens must be an int or a 1-D sequence of ints, got {ids.dtype} of shape {ids.shape}")
    if ids.size > 0 and (ids.min() < -(2**31) or ids.max() >= 2**31):
        raise ValueError("a token id does not fit in 32 bits")
    return np.ascontiguousarray(ids, dtype=np.int32)
