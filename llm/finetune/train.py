"""A LoRA adapter from an exported dataset, with the well-kept libraries (peft for LoRA, trl's SFTTrainer for the
loop; `pip install -e ".[finetune]"`). The loss counts the assistant's reply only (prompt-completion: the sources
and the task are context, not text to imitate). Defaults are for gpt-oss-20b on one 80 GB GPU (docs/finetune.md);
the tests run the same code on a tiny model of the same architecture on a CPU."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from llm.finetune.dataset import DatasetError, read_lines
from retrieval.errors import ConfigError

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
EXPERTS = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")  # gpt-oss's MoE weights, as peft parameters


@dataclass(frozen=True)
class TrainingOptions:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    experts: bool = False  # also adapt the expert projections (more capacity, more memory)
    epochs: float = 1.0
    max_steps: int = -1  # > 0: stop after this many steps (a smoke run)
    learning_rate: float = 2e-4
    batch_size: int = 4
    gradient_accumulation: int = 4
    max_length: int = 4096
    cpu: bool = False


@dataclass
class TrainingReport:
    adapter: str
    examples: int
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)  # training loss at each logging step
    validation_loss: float | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _unquantized(base: Path) -> dict:
    """gpt-oss ships its experts in MXFP4, which does not take stable gradients: load them as bf16 to train (the
    adapter still serves on the MXFP4 model in vLLM)."""
    from transformers import AutoConfig

    quantization = getattr(AutoConfig.from_pretrained(base), "quantization_config", None) or {}
    method = quantization.get("quant_method") if isinstance(quantization, dict) else quantization.quant_method
    if method != "mxfp4":
        return {}
    from transformers import Mxfp4Config

    return {"quantization_config": Mxfp4Config(dequantize=True)}


def train_adapter(dataset: Path, base: Path, out: Path, options: TrainingOptions = TrainingOptions()) -> TrainingReport:
    """Train a LoRA adapter on `dataset` (train.jsonl, validation.jsonl) over the model folder `base`; the adapter
    (adapter_config.json, adapter_model.safetensors) is written to `out`."""
    try:
        from datasets import Dataset
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import SFTConfig, SFTTrainer
    except ImportError as missing:
        raise ConfigError(
            f'training needs the finetune extra ({missing.name} is missing): pip install -e ".[finetune]"'
        ) from None
    if not (Path(base) / "config.json").is_file():
        raise ConfigError(
            f"{base} is not a model folder (no config.json): give the base model's folder, e.g. gpt-oss-20b"
        )

    def split(name: str):
        rows = [{"prompt": m["messages"][:-1], "completion": m["messages"][-1:]} for m in read_lines(dataset, name)]
        return Dataset.from_list(rows) if rows else None

    train, validation = split("train.jsonl"), split("validation.jsonl")
    if train is None:
        raise DatasetError(f"{dataset}/train.jsonl is empty: export more examples first")
    lora = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=list(ATTENTION),
        target_parameters=list(EXPERTS) if options.experts else None,
        task_type="CAUSAL_LM",
    )
    args = SFTConfig(
        output_dir=str(out),
        num_train_epochs=options.epochs,
        max_steps=options.max_steps,
        learning_rate=options.learning_rate,
        per_device_train_batch_size=options.batch_size,
        gradient_accumulation_steps=options.gradient_accumulation,
        max_length=options.max_length,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=options.cpu,
        bf16=not options.cpu,
        activation_checkpointing=not options.cpu,
        eval_strategy="no",
        disable_tqdm=True,
    )
    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto", attn_implementation="eager", use_cache=False,
                                                 **_unquantized(base))  # fmt: skip
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train,
        processing_class=AutoTokenizer.from_pretrained(base),
        peft_config=lora,
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    validation_loss = trainer.evaluate(validation)["eval_loss"] if validation is not None else None
    trainer.save_model(str(out))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return TrainingReport(
        str(out),
        len(train),
        trainer.state.global_step,
        round(seconds, 1),
        losses,
        None if validation_loss is None or math.isnan(validation_loss) else validation_loss,
    )
