"""Training runs end to end on a CPU: a gpt-oss model scaled down to a few thousand weights (random, built here:
the same architecture family as gpt-oss-20b, attention and mixture-of-experts layers), a tokenizer with a chat
template, and an exported-format dataset. `kura finetune train` lowers the loss, writes a PEFT adapter folder, and
the adapter loads back onto its base model; the expert projections can be adapted too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

pytest.importorskip("trl", reason='the finetune extra: pip install -e ".[finetune]" (make setup does)')
pytestmark = pytest.mark.slow  # builds and trains a model: ~30 s

TEMPLATE = (
    "{% for m in messages %}<|start|>{{ m.role }}<|message|>{{ m.content }}"
    "{% if m.role == 'assistant' %}<|return|>{% else %}<|end|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant<|message|>{% endif %}"
)
REPLY = "Open Settings, then Security, then Reset password [1]."


@pytest.fixture(scope="module")
def tiny_gpt_oss(tmp_path_factory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GptOssConfig, GptOssForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-gpt-oss")
    words = Tokenizer(models.BPE(unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.ByteLevel()
    specials = ["<unk>", "<|start|>", "<|end|>", "<|message|>", "<|return|>"]
    corpus = [REPLY, "Sources: [1] To reset a password open Settings > Security.", "Write the body of a reply."] * 5
    words.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))  # fmt: skip
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, unk_token="<unk>", eos_token="<|return|>",
                                        pad_token="<|end|>", chat_template=TEMPLATE)  # fmt: skip
    config = GptOssConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=32, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, head_dim=8, num_local_experts=4,
                          num_experts_per_tok=2, max_position_embeddings=512, sliding_window=64,
                          layer_types=["sliding_attention", "full_attention"])  # fmt: skip
    GptOssForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dataset")
    conversation = [
        {"role": "developer", "content": "Answer using only the numbered sources."},
        {"role": "user", "content": "Sources:\n\n[1] To reset a password open Settings > Security.\n\nHow do I reset?"},
        {"role": "assistant", "content": REPLY},
    ]
    for part, count in (("train", 16), ("validation", 2)):
        (folder / f"{part}.jsonl").write_text(
            "".join(json.dumps({"messages": conversation}) + "\n" for _ in range(count))
        )
    return folder


def train(tiny_gpt_oss, dataset, out: Path, *extra: str) -> dict:
    arguments = ["finetune", "train", str(dataset), "--base", str(tiny_gpt_oss), "--out", str(out), "--cpu",
                 "--max-steps", "24", "--learning-rate", "0.01", "--json", *extra]  # fmt: skip
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_training_lowers_the_loss_and_writes_an_adapter_that_loads_back(tiny_gpt_oss, dataset, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    report = train(tiny_gpt_oss, dataset, tmp_path / "adapter")
    assert report["steps"] == 24 and report["examples"] == 16
    assert min(report["losses"][-4:]) < report["losses"][0], "the loss goes down"
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in (tmp_path / "adapter").iterdir()}
    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_gpt_oss), tmp_path / "adapter")
    assert {"q_proj", "v_proj"} <= set(loaded.peft_config["default"].target_modules)
    assert report["validation_loss"] is not None


def test_the_expert_projections_can_be_adapted_too(tiny_gpt_oss, dataset, tmp_path):
    train(tiny_gpt_oss, dataset, tmp_path / "experts", "--experts")
    config = json.loads((tmp_path / "experts" / "adapter_config.json").read_text())
    assert "mlp.experts.gate_up_proj" in config["target_parameters"]


def test_a_folder_that_is_not_a_model_is_refused_clearly(dataset, tmp_path):
    result = CliRunner().invoke(cli, ["finetune", "train", str(dataset), "--base", str(tmp_path), "--out",
                                      str(tmp_path / "a"), "--cpu"])  # fmt: skip
    assert result.exit_code == 2 and "not a model folder" in " ".join(result.output.split())
