"""Errors raise Python exceptions that carry the C API's message."""

import anser
import pytest
from conftest import RAND_FP32, TINY


def test_missing_model(tmp_path):
    path = tmp_path / "missing.pth"
    with pytest.raises(anser.AnserFileError) as error:
        anser.Model(path)
    assert str(error.value) == (f"anser_model_load: model '{path}' not found: pass an RWKV-7 .pth file, a Hugging "
                                "Face folder (config.json + *.safetensors) or a GGUF file")
    assert isinstance(error.value, OSError)
    assert error.value.status_name == "ANSER_ERROR_FILE"


def test_token_out_of_range_and_state_of_another_model():
    model = anser.Model(TINY)
    state = model.new_state()
    with pytest.raises(anser.InvalidArgumentError) as error:
        model.forward(256, state)
    assert str(error.value) == "anser_session_step: token 256 is outside the model's vocabulary [0, 256)"
    assert isinstance(error.value, ValueError)
    with pytest.raises(ValueError, match=r"anser_session_prefill: token -3 at position 1 is outside"):
        model.forward([1, -3], state)
    other = anser.Model(RAND_FP32).new_state()
    with pytest.raises(ValueError, match=r"anser_session_step: state was made for a model of 2 layers of 128"):
        model.forward(1, other)
    with pytest.raises(ValueError, match=r"states\[1\] appears twice"):
        model.forward_batch([1, 2], [state, state])
    with pytest.raises(ValueError, match="at least one token"):
        model.forward([], state)
    with pytest.raises(TypeError):
        model.forward(1, "state")


def test_settings_after_the_first_load():
    anser.Model(TINY)
    with pytest.raises(anser.AnserError) as error:
        anser.set_threads(anser.threads() + 1)
    assert error.value.status_name == "ANSER_ERROR_TOO_LATE"
    assert "set the thread count before the first load" in str(error.value)
    anser.Model(TINY, threads=anser.threads())  # the value in effect is accepted
    with pytest.raises(anser.AnserError, match="before the first load"):
        anser.Model(TINY, threads=anser.threads() + 1)


def test_state_files(tmp_path):
    model = anser.Model(TINY)
    with pytest.raises(anser.AnserFileError, match="anser_state_load: .*not an Anser state file"):
        anser.State.load(TINY, model)
    with pytest.raises(OSError, match="anser_state_save: "):
        model.new_state().save(tmp_path / "no_such_folder" / "state.pth")


def test_tokenizer_errors(tmp_path):
    with pytest.raises(anser.AnserFileError, match="anser_tokenizer_load_world: "):
        anser.Tokenizer(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="anser_tokenizer_token_bytes: token id 300 is outside"):
        anser.Tokenizer.bytes().token_bytes(300)
    with pytest.raises(anser.AnserError, match="vocabulary of 512 tokens"):
        _ = anser.Model(RAND_FP32).tokenizer
