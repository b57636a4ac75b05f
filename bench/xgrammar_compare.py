"""XGrammar's mask time per token on the same vocabulary, schema and documents (bench/grammar_inputs)
as grammar_bench
(thread CPU time; Python's call overhead, about 0.7 us here, is included in XGrammar's numbers).

Not part of the build or the tests. Set up a virtual environment outside the repository:
  python3 -m venv /tmp/xgr && /tmp/xgr/bin/pip install --no-deps xgrammar==0.2.8 &&
  /tmp/xgr/bin/pip install apache-tvm-ffi pydantic numpy
then run: /tmp/xgr/bin/python bench/xgrammar_compare.py ../shared/vocab/rwkv_vocab_v20230424.txt \
      build/release/bin/anser
xgrammar imports torch and transformers, which it needs only for GPU tensors and Hugging Face
tokenizers: stand-ins are put on the path instead (the bitmask is a numpy array, via DLPack).
"""
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

STAND_INS = {
    "torch": """
class Tensor: pass
class dtype: pass
class cuda:
    @staticmethod
    def is_available(): return False
def __getattr__(name): return name
def tensor(*a, **k): return None
def full(*a, **k): raise NotImplementedError
class _F: pad = None
class nn: functional = _F
""",
    "transformers": """
class PreTrainedTokenizerBase: pass
class PreTrainedTokenizerFast(PreTrainedTokenizerBase): pass
def __getattr__(name): return type(name, (), {})
""",
}
_stand_in_dir = tempfile.mkdtemp()
for _name, _code in STAND_INS.items():
    os.makedirs(os.path.join(_stand_in_dir, _name))
    with open(os.path.join(_stand_in_dir, _name, "__init__.py"), "w") as _f:
        _f.write(_code)
sys.path.insert(0, _stand_in_dir)

import numpy as np  # noqa: E402
import xgrammar as xgr  # noqa: E402

INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar_inputs")


def grammar_input(name):
    with open(os.path.join(INPUTS, name), encoding="utf-8") as f:
        return f.read().rstrip("\n")


TOOL_SCHEMA = grammar_input("tool.schema.json")
TOOL_DOC = grammar_input("tool_call.json")
JSON_DOC = grammar_input("any.json")

def load_vocab(path):
    tokens = [b""] * 65536
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        first = line.index(" ")
        last = line.rindex(" ")
        value = ast.literal_eval(line[first + 1:last])
        tokens[int(line[:first])] = value.encode("utf-8") if isinstance(value, str) else value
    return tokens


def measure(compiled, ids, passes=20):
    cold, warm = [], []
    bitmask = np.zeros((1, (65536 + 31) // 32), dtype=np.int32)
    for p in range(passes):
        matcher = xgr.GrammarMatcher(compiled)
        for t in ids:
            start = time.thread_time_ns()
            matcher.fill_next_token_bitmask(bitmask)
            us = (time.thread_time_ns() - start) / 1000
            (cold if p == 0 else warm).append(us)
            assert matcher.accept_token(t), t
    warm.sort()
    return statistics.median(warm), warm[int(0.99 * len(warm))], statistics.median(cold), sum(cold) / 1000


def main():
    vocab_path, anser = sys.argv[1], sys.argv[2]
    tokens = load_vocab(vocab_path)
    info = xgr.TokenizerInfo(tokens, vocab_type=xgr.VocabType.RAW, vocab_size=65536, stop_token_ids=[0])
    compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
    start = time.thread_time_ns()
    for _ in range(20):
        schema_grammar = compiler.compile_json_schema(TOOL_SCHEMA, any_whitespace=True)
    print(f"compile tool schema: {(time.thread_time_ns() - start) / 20e6:.2f} ms")
    json_grammar = compiler.compile_builtin_json_grammar()

    def ids_of(text):
        out = subprocess.run([anser, "tokenize", "--vocab", vocab_path, "--text", text],
                             capture_output=True, check=True, text=True).stdout
        return json.loads(out)

    for name, grammar, doc in (("tool schema", schema_grammar, TOOL_DOC), ("any JSON", json_grammar, JSON_DOC)):
        median, p99, cold_median, cold_total = measure(grammar, ids_of(doc))
        print(f"{name}: warm median {median:.2f} us, p99 {p99:.2f} us; cold median {cold_median:.2f} us, total {cold_total:.2f} ms")


if __name__ == "__main__":
    main()
