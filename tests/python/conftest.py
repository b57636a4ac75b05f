"""Shared helpers of the Python tests: where the fixtures and the `anser` binary are, reading a
fixture's reference logits, and the fixtures' float32 bar.

$ANSER_SHARED_DIR (default: ../shared beside the checkout) and $ANSER_BINARY (default:
build/release/bin/anser) point elsewhere when set."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ANSER_SHARED_DIR", REPOSITORY.parent / "shared"))
FIXTURES = SHARED / "fixtures"
ANSER_BINARY = Path(os.environ.get("ANSER_BINARY", REPOSITORY / "build" / "release" / "bin" / "anser"))
DEFAULT_MODEL = REPOSITORY / "models" / "default.pth"
TINY = FIXTURES / "tiny-rwkv7-834K" / "model.fp32.pth"
WORLD = FIXTURES / "rand-rwkv7-L3-D128-world" / "model.bf16.pth"
RAND_FP32 = FIXTURES / "rand-rwkv7-L2-D128-fp32" / "model.fp32.pth"
FIXTURE_FOLDERS = ["tiny-rwkv7-834K", "rand-rwkv7-L2-D128-fp32", "rand-rwkv7-L3-D128-world"]


@dataclass
class Case:
    name: str
    model: Path
    tokens: list
    positions: list
    logits: np.ndarray  # (len(positions), vocab)
    text: str | None


def fixture_cases(folder: str) -> list:
    directory = FIXTURES / folder
    spec = json.loads((directory / "cases.json").read_text())
    vocab = spec["config"]["vocab"]
    cases = []
    for c in spec["cases"]:
        logits = np.fromfile(directory / c["logits"], dtype="<f4").reshape(len(c["positions"]), vocab)
        cases.append(Case(c["name"], directory / c.get("model", spec["model"]), c["tokens"], c["positions"], logits,
                          c.get("text")))
    return cases


def row_mismatch(got: np.ndarray, ref: np.ndarray) -> str:
    """"" when `got` is within max |d| <= 1e-4 * std(ref) of the reference row with the same
    argmax (the fixtures' float32 bar), else a description."""
    ref64 = ref.astype(np.float64)
    tolerance = 1e-4 * ref64.std()
    worst = float(np.max(np.abs(got.astype(np.float64) - ref64)))
    if not worst <= tolerance:
        return f"max |dlogit| {worst:.3g} > tolerance {tolerance:.3g}"
    if int(np.argmax(got)) != int(np.argmax(ref)):
        return "argmax differs"
    return ""


def assert_rows_match(case: Case, all_positions: np.ndarray) -> None:
    for i, position in enumerate(case.positions):
        mismatch = row_mismatch(all_positions[position], case.logits[i])
        assert mismatch == "", f"{case.name} position {position}: {mismatch}"


@pytest.fixture(scope="session")
def world_cases() -> list:
    return json.loads((FIXTURES / "tokenizer" / "world_cases.json").read_text())["cases"]
