#!/usr/bin/env python3
"""The official `rwkv` package beside `anser.rwkv`, each running the same ChatRWKV-style script.

- On the fixtures' .pth models: the logits of both against the float64 reference (the fixtures'
  float32 bar: max |d| <= 1e-4 * std of the row, same argmax) and against each other, and greedy
  generation (same tokens) on the World-vocabulary fixture.
- With --speed MODEL.pth (e.g. `anser quantize --shape 0.1b OUT.pth --dtype bf16`): decode
  tokens/s of the script with each package and strategy; with --rwkv-cpp, also of rwkv.cpp's
  Python wrapper (built outside this repository) on the same weights converted by its
  convert_pytorch_to_ggml.py, greedy from the same prompt tokens.

Both packages must import: the official one needs torch (RWKV_V7_ON=1 is set here). Its RWKV-7
loader calls torch.load(..., mmap=True), which torch < 2.1 lacks; --torch-load-without-mmap makes
torch.load ignore that argument (the file is then read instead of mapped; nothing else changes).

    python bench/python/side_by_side.py --shared ../shared --speed /tmp/rwkv7-0.1b-bf16.pth
"""

import argparse
import functools
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ["RWKV_V7_ON"] = "1"  # the official package's switch for RWKV-7 models


def chatrwkv_script(RWKV, PIPELINE, model_name: str, strategy: str, prompt: str, n_tokens: int):  # noqa: N803
    """A ChatRWKV-style script: only the RWKV and PIPELINE it is given differ between runs."""
    model = RWKV(model=model_name, strategy=strategy)
    pipeline = PIPELINE(model, "rwkv_vocab_v20230424")
    out, state = model.forward(pipeline.encode(prompt), None)
    tokens = []
    start = time.perf_counter()
    for _ in range(n_tokens):
        token = pipeline.sample_logits(out, temperature=0)  # greedy
        tokens.append(token)
        out, state = model.forward([token], state)
    tok_s = n_tokens / (time.perf_counter() - start)
    return tokens, pipeline.decode(tokens), tok_s


def rwkv_cpp_decode(python_dir: str, library: str, model_file: str, prompt: list, n_tokens: int, threads: int):
    """Greedy decoding with rwkv.cpp's Python wrapper, preallocated numpy buffers."""
    import sys

    sys.path.insert(0, python_dir)
    from rwkv_cpp import rwkv_cpp_model, rwkv_cpp_shared_library

    model = rwkv_cpp_model.RWKVModel(rwkv_cpp_shared_library.RWKVSharedLibrary(library), model_file,
                                     thread_count=threads)
    logits, state = model.eval_sequence_in_chunks(prompt, None, use_numpy=True)
    tokens = []
    start = time.perf_counter()
    for _ in range(n_tokens):
        tokens.append(int(np.argmax(logits)))
        logits, state = model.eval(tokens[-1], state, state, logits, use_numpy=True)
    return tokens, n_tokens / (time.perf_counter() - start)


def as_numpy(x) -> np.ndarray:
    return x.detach().float().numpy() if hasattr(x, "detach") else np.asarray(x, dtype=np.float32)


def row_mismatch(got: np.ndarray, ref: np.ndarray) -> float:
    """max |d| / std(ref), inf when the argmax differs."""
    ref = ref.astype(np.float64)
    if int(np.argmax(got)) != int(np.argmax(ref)):
        return float("inf")
    return float(np.max(np.abs(got.astype(np.float64) - ref)) / ref.std())


def fixture_agreement(implementations: dict, shared: Path, strategy: str) -> None:
    for folder in ("tiny-rwkv7-834K", "rand-rwkv7-L2-D128-fp32", "rand-rwkv7-L3-D128-world"):
        spec = json.loads((shared / "fixtures" / folder / "cases.json").read_text())
        vocab = spec["config"]["vocab"]
        for case in spec["cases"]:
            path = str(shared / "fixtures" / folder / case.get("model", spec["model"]))[: -len(".pth")]
            ref = np.fromfile(shared / "fixtures" / folder / case["logits"], dtype="<f4").reshape(-1, vocab)
            rows = {}
            for name, (RWKV, _) in implementations.items():  # noqa: N806
                logits, _ = RWKV(model=path, strategy=strategy).forward(case["tokens"], None, full_output=True)
                rows[name] = as_numpy(logits)[case["positions"]]
            worst = {name: max(row_mismatch(r, f) for r, f in zip(got, ref)) for name, got in rows.items()}
            official, anser_rows = rows.get("official"), rows["anser"]
            between = "" if official is None else (
                f", |official - anser| max {float(np.max(np.abs(official - anser_rows))):.2e}")
            verdict = "ok" if all(w <= 1e-4 for w in worst.values()) else "OUTSIDE THE BAR"
            print(f"  {folder}/{case['name']} ({len(case['tokens'])} tokens, {strategy}): worst max|d|/std "
                  + ", ".join(f"{n} {w:.2e}" for n, w in worst.items()) + between + f" -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2].parent / "shared")
    parser.add_argument("--speed", help="a .pth model for the speed comparison")
    parser.add_argument("--tokens", type=int, default=32, help="tokens to generate (speed)")
    parser.add_argument("--strategies", nargs="+", default=["cpu fp32", "cpu bf16"])
    parser.add_argument("--anser-only", action="store_true", help="run anser.rwkv alone")
    parser.add_argument("--torch-load-without-mmap", action="store_true")
    parser.add_argument("--threads", type=int, default=2, help="compute threads of each package")
    parser.add_argument("--rwkv-cpp", nargs="+", metavar="PATH",
                        help="rwkv.cpp's python/ folder, librwkv.so, then the converted model files")
    args = parser.parse_args()

    import anser
    import anser.rwkv.model
    import anser.rwkv.utils

    anser.set_threads(args.threads)

    implementations = {"anser": (anser.rwkv.model.RWKV, anser.rwkv.utils.PIPELINE)}
    if not args.anser_only:
        import torch

        torch.set_num_threads(args.threads)
        if args.torch_load_without_mmap:
            load = torch.load
            torch.load = functools.wraps(load)(lambda *a, mmap=None, **k: load(*a, **k))
        import rwkv.model
        import rwkv.utils

        print(f"official rwkv package, torch {torch.__version__}, {torch.get_num_threads()} threads; "
              f"anser {anser.__version__}, {anser.threads()} threads, kernels {anser.kernels()}")
        implementations["official"] = (rwkv.model.RWKV, rwkv.utils.PIPELINE)

    print("logits against the fixtures' float64 reference:")
    fixture_agreement(implementations, args.shared, "cpu fp32")

    world = str(args.shared / "fixtures" / "rand-rwkv7-L3-D128-world" / "model.bf16")
    prompt = "User: What is the capital of France?\n\nAssistant:"
    greedy = {n: chatrwkv_script(R, P, world, "cpu fp32", prompt, 24)[0] for n, (R, P) in implementations.items()}
    same = len({tuple(t) for t in greedy.values()}) == 1
    print(f"greedy generation, 24 tokens on the World fixture: {'the same tokens' if same else greedy}")

    if args.speed:
        name = args.speed[: -len(".pth")] if args.speed.endswith(".pth") else args.speed
        print(f"decode speed, {args.tokens} tokens after the prompt, {name}.pth:")
        for impl, (RWKV, PIPELINE) in implementations.items():  # noqa: N806
            for strategy in args.strategies:
                tokens, _, tok_s = chatrwkv_script(RWKV, PIPELINE, name, strategy, prompt, args.tokens)
                print(f"  {impl:8s} {strategy:9s}: {tok_s:7.2f} tok/s  (first tokens {tokens[:6]})")
        for model_file in (args.rwkv_cpp or [])[2:]:
            prompt_tokens = anser.Tokenizer().encode(prompt)
            tokens, tok_s = rwkv_cpp_decode(*args.rwkv_cpp[:2], model_file, prompt_tokens, args.tokens, args.threads)
            print(f"  rwkv.cpp {Path(model_file).name}: {tok_s:7.2f} tok/s  (first tokens {tokens[:6]})")


if __name__ == "__main__":
    main()
