#!/usr/bin/env python3
"""What Python adds to the engine, on one model file:

- decode: `model.forward(token, state)` from Python against `anser bench`'s decode loop
  (Session::Step in C++), the same token count, prompt and thread count;
- generation: `model.generate(...)` against `anser generate` (same prompt, seed and options:
  the same tokens), decode tokens/s of each;
- interleaved in this process, token by token (so that other work on the machine weighs on both
  alike): `model.forward` against a bare ctypes call of anser_session_step, the C API's step
  (Session::Step, its argument checks and a copy of the logits) without the Python wrapper.

The two sides alternate for --rounds rounds; on a shared machine compare the bests (the runs
least disturbed by other work) as well as the medians.

    python bench/python/python_overhead.py MODEL [--anser build/release/bin/anser] [--threads 2]
"""

import argparse
import json
import re
import statistics
import subprocess
import time

import anser
import numpy as np
from anser._capi import lib


def cpp_decode_tok_s(anser_binary: str, model: str, prompt: int, gen: int, reps: int, threads: int) -> tuple:
    """(median, best) decode tokens/s of `anser bench`."""
    out = subprocess.run([anser_binary, "bench", "-m", model, "--prompt", str(prompt), "--gen", str(gen), "--reps",
                          str(reps), "--threads", str(threads), "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    return result["decode_tok_s"], result["decode_tok_s_best"]


def python_decode_tok_s(model: anser.Model, prompt: int, gen: int, reps: int) -> tuple:
    """(median, best) decode tokens/s of model.forward, as `anser bench` measures Session::Step."""
    rng = np.random.default_rng(1)
    prompt_ids = rng.integers(1, model.config.n_vocab, prompt).tolist()
    gen_ids = rng.integers(1, model.config.n_vocab, gen).tolist()
    state = model.new_state()
    rates = []
    for _ in range(reps):
        state.reset()
        model.forward(prompt_ids, state)
        start = time.perf_counter()
        for token in gen_ids:
            model.forward(token, state)
        rates.append(gen / (time.perf_counter() - start))
    return statistics.median(rates), max(rates)


def interleaved_ms(model: anser.Model, gen: int, reps: int) -> tuple:
    """Total ms per token of model.forward and of the bare C call, alternating every token."""
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, model.config.n_vocab, gen).tolist()
    wrapped, bare = model.new_state(), model.new_state()
    session = model._session().handle.value
    logits = np.empty(model.config.n_vocab, dtype=np.float32)
    def run_wrapped(token: int) -> float:
        start = time.perf_counter()
        model.forward(token, wrapped)
        return time.perf_counter() - start

    def run_bare(token: int) -> float:
        start = time.perf_counter()
        lib.anser_session_step(session, bare._handle.value, token, logits.ctypes.data, logits.size)
        return time.perf_counter() - start

    wrapper_s = call_s = 0.0
    for rep in range(reps):
        for i, token in enumerate(tokens):
            if (rep + i) % 2 == 0:  # either goes first as often as the other
                wrapper_s += run_wrapped(token)
                call_s += run_bare(token)
            else:
                call_s += run_bare(token)
                wrapper_s += run_wrapped(token)
    n = gen * reps
    return 1e3 * wrapper_s / n, 1e3 * call_s / n


def cpp_generate(anser_binary: str, model: str, prompt: str, n: int, threads: int) -> tuple:
    run = subprocess.run([anser_binary, "generate", "-m", model, "-p", prompt, "-n", str(n), "--seed", "1",
                          "--threads", str(threads)], check=True, capture_output=True, text=True)
    decode = re.search(r"decode: (\d+) tokens in ([0-9.]+) s", run.stderr)
    return run.stdout, int(decode.group(1)) / float(decode.group(2))


def python_generate(model: anser.Model, prompt: str, n: int) -> tuple:
    # Decode time = the whole call minus its prefill, timed on its own just before.
    ids = model.tokenizer.encode(prompt)
    start = time.perf_counter()
    model.forward(ids, model.new_state())
    prefill_s = time.perf_counter() - start
    start = time.perf_counter()
    text = model.generate(prompt, max_tokens=n, stream=False, seed=1)
    return text, n / (time.perf_counter() - start - prefill_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--anser", default="build/release/bin/anser")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gen", type=int, default=64, help="tokens decoded per repetition")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = anser.Model(args.model, threads=args.threads)
    print(f"{args.model}: {model.config.n_layer} layers, {model.config.n_embd} wide, kernels {anser.kernels()}, "
          f"{anser.threads()} threads")
    best = {"cpp": 0.0, "py": 0.0, "cli": 0.0, "gen": 0.0}
    for round_ in range(1, args.rounds + 1):
        cpp, cpp_best = cpp_decode_tok_s(args.anser, args.model, 16, args.gen, args.reps, args.threads)
        py, py_best = python_decode_tok_s(model, 16, args.gen, args.reps)
        print(f"round {round_} decode ms/token, median (best): C++ Session::Step {1e3 / cpp:.3f} "
              f"({1e3 / cpp_best:.3f}), Python model.forward {1e3 / py:.3f} ({1e3 / py_best:.3f})")
        cli_text, cli_rate = cpp_generate(args.anser, args.model, "The", args.gen, args.threads)
        py_text, py_rate = python_generate(model, "The", args.gen)
        same = "same text" if py_text == cli_text else "TEXT DIFFERS"
        print(f"round {round_} generate tok/s: anser generate {cli_rate:.2f}, model.generate {py_rate:.2f} ({same})")
        wrapper_ms, call_ms = interleaved_ms(model, args.gen, args.reps)
        print(f"round {round_} interleaved ms/token: model.forward {wrapper_ms:.3f}, bare C call {call_ms:.3f} "
              f"({100 * (wrapper_ms / call_ms - 1):+.2f} %)")
        for key, value in (("cpp", cpp_best), ("py", py_best), ("cli", cli_rate), ("gen", py_rate)):
            best[key] = max(best[key], value)
    print(f"best of all rounds: model.forward takes {100 * (best['cpp'] / best['py'] - 1):+.2f} % of Session::Step's "
          f"time more ({1e3 / best['py']:.3f} vs {1e3 / best['cpp']:.3f} ms); model.generate "
          f"{100 * (best['gen'] / best['cli'] - 1):+.2f} % tok/s against anser generate "
          f"({best['gen']:.2f} vs {best['cli']:.2f})")

if __name__ == "__main__":
    main()
