"""Model.generate: the same text as `anser generate`, streamed, stop strings, threads."""

import subprocess
import threading

import anser
import numpy as np
from conftest import ANSER_BINARY, DEFAULT_MODEL

SAMPLING = {"temperature": 0.8, "top_p": 0.9, "presence_penalty": 0.2, "frequency_penalty": 0.1}


def anser_generate(prompt: str, max_tokens: int, seed: int, stop=()) -> str:
    command = [str(ANSER_BINARY), "generate", "-m", str(DEFAULT_MODEL), "-p", prompt, "-n", str(max_tokens),
               "--seed", str(seed), "--temperature", "0.8", "--top-p", "0.9", "--presence-penalty", "0.2",
               "--frequency-penalty", "0.1"]
    for s in stop:
        command += ["--stop", s]
    return subprocess.run(command, check=True, capture_output=True).stdout.decode()


def test_generation_equals_the_command_line():
    model = anser.Model(DEFAULT_MODEL)
    for seed in (1, 7):
        expected = anser_generate("ROMEO:", 120, seed)
        pieces = list(model.generate("ROMEO:", max_tokens=120, seed=seed, **SAMPLING))
        assert len(pieces) > 10
        assert "".join(pieces) == expected
    whole = model.generate("JULIET:", max_tokens=80, stream=False, seed=3, stop=["\n\n"], **SAMPLING)
    assert whole == anser_generate("JULIET:", 80, 3, stop=["\n\n"])
    assert "\n\n" not in whole


def test_generation_advances_a_given_state_as_the_command_line_saves_it(tmp_path):
    model = anser.Model(DEFAULT_MODEL)
    state = model.new_state()
    text = model.generate("ROMEO:", max_tokens=30, stream=False, state=state, temperature=0)
    saved = tmp_path / "state.pth"
    command = [str(ANSER_BINARY), "generate", "-m", str(DEFAULT_MODEL), "-p", "ROMEO:", "-n", "30",
               "--temperature", "0", "--save-state", str(saved)]
    assert subprocess.run(command, check=True, capture_output=True).stdout.decode() == text
    expected = anser.State.load(saved, model)
    for name in ("att_shift", "wkv", "ffn_shift"):
        np.testing.assert_array_equal(getattr(state, name), getattr(expected, name))


def test_two_threads_generate_concurrently():
    model = anser.Model(DEFAULT_MODEL)
    prompts = {"ROMEO:": 11, "KING RICHARD III:": 12}
    expected = {p: "".join(model.generate(p, max_tokens=150, seed=s, **SAMPLING)) for p, s in prompts.items()}
    results = {}
    barrier = threading.Barrier(len(prompts))

    def run(prompt: str, seed: int) -> None:
        barrier.wait()
        results[prompt] = "".join(model.generate(prompt, max_tokens=150, seed=seed, **SAMPLING))

    threads = [threading.Thread(target=run, args=item) for item in prompts.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected
