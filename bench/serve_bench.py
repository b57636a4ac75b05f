#!/usr/bin/env python3
"""Latency and throughput of an OpenAI-compatible server, for the numbers docs/SERVER.md reports.

Runs against any server that speaks /v1/completions and /v1/chat/completions with streaming
(`anser serve`, llama.cpp's llama-server, ...), so two servers on the same model can be measured
the same way in one run. Standard library only. Prints one JSON object per scenario:

  single     one streaming client: decode tokens/s (after the first token)
  parallel   N concurrent streaming clients: aggregate decode tokens/s
  chat       a multi-turn chat (~T tokens per message): time to first token of every turn
  admission  S streams decoding while a long prompt arrives: their inter-token latencies
"""
import argparse
import json
import random
import statistics
import threading
import time
import urllib.request

ERRORS = []  # errors that ended a stream after some tokens: printed with the results

WORDS = ("goose river morning stone quiet garden light window paper silver forest winter "
         "music table orange simple travel number letter friend summer yellow").split()


def text_of(n_words, rng):
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def stream(url, path, body, on_token=None):
    """POSTs a streaming request; returns (time to first token, token arrival times, usage, text).
    `on_token(now)` may return False to drop the connection (a client going away)."""
    body = dict(body, stream=True, stream_options={"include_usage": True})
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    arrivals, usage, text = [], None, ""
    with urllib.request.urlopen(request, timeout=600) as response:
        for raw in response:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                # Some servers (llama-server on random weights) end a finished stream with an
                # error about the text; the tokens that came before it still count.
                if not arrivals:
                    raise RuntimeError(chunk["error"])
                ERRORS.append(chunk["error"])
                break
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices", []):
                piece = choice.get("delta", {}).get("content") if "delta" in choice else choice.get("text")
                if piece:
                    text += piece
                    now = time.perf_counter()
                    arrivals.append(now)
                    if on_token and on_token(now) is False:
                        return arrivals[0] - start, arrivals, usage, text
    ttft = arrivals[0] - start if arrivals else float("nan")
    return ttft, arrivals, usage, text


def decode_rate(arrivals):
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0


def completion_body(args, rng, prompt_words=16):
    return {"prompt": text_of(prompt_words, rng), "max_tokens": args.tokens, "temperature": 0,
            "model": args.model, "ignore_eos": True}


def single(args):
    rng = random.Random(1)
    rates = []
    for _ in range(args.repeats):
        _, arrivals, _, _ = stream(args.url, "/v1/completions", completion_body(args, rng))
        rates.append(decode_rate(arrivals))
    return {"scenario": "single", "decode_tok_s": statistics.median(rates), "runs": rates}


def parallel(args):
    rng = random.Random(2)
    bodies = [completion_body(args, rng) for _ in range(args.clients)]
    results = [None] * args.clients

    def run(i):
        results[i] = stream(args.url, "/v1/completions", bodies[i])[1]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tokens = sum(len(a) for a in results)
    # Aggregate over the span where every client was decoding.
    first = max(a[0] for a in results)
    last = min(a[-1] for a in results)
    inside = sum(sum(1 for x in a if first <= x <= last) for a in results)
    return {"scenario": "parallel", "clients": args.clients, "tokens": tokens,
            "aggregate_tok_s": inside / (last - first) if last > first else 0.0,
            "wall_tok_s": tokens / (time.perf_counter() - start)}


def chat(args):
    rng = random.Random(3)
    messages, ttfts, cached = [], [], []
    for _ in range(args.turns):
        messages.append({"role": "user", "content": text_of(args.message_words, rng)})
        ttft, _, usage, reply = stream(args.url, "/v1/chat/completions",
                                {"messages": messages, "max_tokens": args.reply_tokens, "temperature": 0,
                                 "model": args.model, "ignore_eos": True})
        ttfts.append(ttft)
        cached.append((usage or {}).get("prompt_tokens_details", {}).get("cached_tokens"))
        # The reply goes back as clients send it: the text the server streamed.
        messages.append({"role": "assistant", "content": reply})
    return {"scenario": "chat", "turns": args.turns, "ttft_s": ttfts, "last_ttft_s": ttfts[-1],
            "cached_tokens": cached, "prompt_tokens_last": (usage or {}).get("prompt_tokens")}


def admission(args):
    rng = random.Random(4)
    gaps = [[] for _ in range(args.streams)]
    long_started, long_done = threading.Event(), threading.Event()

    def run(i):
        last = [None]

        def on_token(now):
            if last[0] is not None and long_started.is_set() and not long_done.is_set():
                gaps[i].append(now - last[0])
            last[0] = now
            return not long_done.is_set()  # the measurement is over: hang up

        stream(args.url, "/v1/completions", dict(completion_body(args, rng), max_tokens=args.admission_tokens), on_token)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.streams)]
    for t in threads:
        t.start()
    time.sleep(2.0)  # the streams reach steady decoding
    long_started.set()
    ttft, _, _, _ = stream(args.url, "/v1/completions",
                        {"prompt": text_of(args.long_prompt_words, rng), "max_tokens": 1, "model": args.model})
    long_done.set()
    for t in threads:
        t.join()
    all_gaps = sorted(g for per in gaps for g in per)
    p = lambda q: all_gaps[min(len(all_gaps) - 1, int(q * len(all_gaps)))] if all_gaps else float("nan")
    return {"scenario": "admission", "streams": args.streams, "long_prompt_ttft_s": ttft,
            "itl_median_s": p(0.5), "itl_p99_s": p(0.99), "p99_over_median": p(0.99) / p(0.5),
            "gaps": len(all_gaps)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--model", default="model")
    parser.add_argument("--scenarios", default="single,parallel,chat,admission")
    parser.add_argument("--tokens", type=int, default=128, help="tokens per completion")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--message-words", type=int, default=150, help="words per chat message (~200 tokens)")
    parser.add_argument("--reply-tokens", type=int, default=32)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--long-prompt-words", type=int, default=1500, help="~2000 tokens")
    parser.add_argument("--admission-tokens", type=int, default=4000, help="at most, per decoding stream")
    args = parser.parse_args()
    for name in args.scenarios.split(","):
        result = globals()[name](args)
        if ERRORS:
            result["stream_errors"] = len(ERRORS)
            ERRORS.clear()
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
