"""The external truth in ../shared: float64 reference logits of the fixture models and the World
vocabulary, read without Anser."""

import ast
import json
import math
import os
import struct

from anser_server import SHARED

FIXTURES = os.path.join(SHARED, "fixtures")


class ReferenceRow:
    """The reference logits after one prefix of a case's tokens."""

    def __init__(self, tokens, logits):
        self.tokens = tokens  # the prefix fed from the zero state
        self.logits = logits

    def std(self):
        mean = sum(self.logits) / len(self.logits)
        return math.sqrt(sum((x - mean) ** 2 for x in self.logits) / len(self.logits))

    def log_softmax(self, banned=()):
        """Log-probabilities over the tokens not in `banned` (a banned token's logit is -inf)."""
        allowed = [x for i, x in enumerate(self.logits) if i not in banned]
        top = max(allowed)
        lse = top + math.log(sum(math.exp(x - top) for x in allowed))
        return [-math.inf if i in banned else x - lse for i, x in enumerate(self.logits)]

    def ranked(self, banned=()):
        """Token ids by falling logit."""
        ids = [i for i in range(len(self.logits)) if i not in banned]
        return sorted(ids, key=lambda i: (-self.logits[i], i))

    def logprob_tolerance(self):
        # The fixtures' bar: every logit within 1e-4 x the row's standard deviation. A log-probability
        # is a logit minus the log-sum-exp of all of them, so it may differ by twice that, plus
        # float32 rounding.
        return 2e-4 * self.std() + 1e-5


def reference_row(model_folder, case_name, position):
    """Row `position` (an index into the case's stored positions) of a fixture case."""
    folder = os.path.join(FIXTURES, model_folder)
    with open(os.path.join(folder, "cases.json"), encoding="utf-8") as f:
        case = next(c for c in json.load(f)["cases"] if c["name"] == case_name)
    n_vocab = case["shape"][1]
    with open(os.path.join(folder, case["logits"]), "rb") as f:
        f.seek(position * n_vocab * 4)
        logits = list(struct.unpack(f"<{n_vocab}f", f.read(n_vocab * 4)))
    end = case["positions"][position] + 1
    return ReferenceRow(case["tokens"][:end], logits), case


def world_vocab_bytes():
    """Token id -> its bytes, from the World vocabulary file (lines `ID REPR LEN`)."""
    vocab = {}
    with open(os.path.join(SHARED, "vocab", "rwkv_vocab_v20230424.txt"), encoding="utf-8") as f:
        for line in f:
            first = line.index(" ")
            last = line.rindex(" ")
            token = ast.literal_eval(line[first + 1:last])
            data = token.encode("utf-8") if isinstance(token, str) else token
            assert len(data) == int(line[last + 1:]), line
            vocab[int(line[:first])] = data
    return vocab
