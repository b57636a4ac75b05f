#!/usr/bin/env python3
"""Chat with an RWKV-7 model through Anser's Python package, in the RWKV World chat format.

    python examples/python/chat.py -m rwkv7-g1-0.1b.pth
    printf 'Hello!\\nTell me more.\\n' | python examples/python/chat.py -m MODEL --seed 1

Each line read from stdin is a user turn; the reply streams to stdout and ends where the model
starts the next "User:" turn. The conversation is carried in the recurrent state, so each turn
runs only its own tokens (the message, then the reply read back).
"""

import argparse
import sys

import anser


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--model", required=True, help="an RWKV-7 .pth or .gguf file, or a Hugging Face folder")
    parser.add_argument("-n", "--max-tokens", type=int, default=200, help="tokens per reply at most")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one)")
    args = parser.parse_args()

    model = anser.Model(args.model)
    tokenizer = model.tokenizer
    state = model.new_state()
    interactive = sys.stdin.isatty()
    turn = 0
    while True:
        if interactive:
            print("User: ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        message = line.strip()
        if not message:
            continue
        if not interactive:
            print(f"User: {message}")
        print("Assistant:", end="", flush=True)
        seed = None if args.seed is None else args.seed + turn
        turn_text = f"User: {message}\n\nAssistant:"
        # A blank line ends a reply (the World format separates turns with one). The reply is
        # sampled from a copy; the conversation's state then takes the turn as it reads.
        reply = ""
        for piece in model.generate(turn_text, max_tokens=args.max_tokens, stop=["\n\n"], state=state.copy(),
                                    temperature=args.temperature, top_p=args.top_p, seed=seed):
            print(piece, end="", flush=True)
            reply += piece
        print("\n")
        model.forward(tokenizer.encode(turn_text + reply + "\n\n"), state)
        turn += 1


if __name__ == "__main__":
    sys.exit(main())
