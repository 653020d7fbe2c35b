"""A mean-pooled sentence-transformers model (MiniLM) as an ONNX Runtime graph, exported once from the local model
with torch.onnx; nothing is downloaded. Once the graph exists, neither torch nor the model is loaded again: the
folder's tokenizer.json and the layout saved beside the graph suffice.

Two uses: int8 (MatMul weights quantised per channel: 1.38× the torch rate on a 2-core AVX2 CPU for −0.003
nDCG@10 on msmarco, KURA_EMBED_BACKEND=onnx-int8), and fp32, which gives torch's vectors (cosine > 0.99999) and
embeds a search query in a process that never imports torch: a first result in ~1 s instead of ~7 s."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from retrieval.errors import ConfigError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """Tokenises with the model's own tokenizer (tokenizers, no torch), runs the graph, mean-pools and
    normalises: what the sentence-transformers pipeline of a Transformer → mean Pooling → Normalize model does."""

    def __init__(self, graph: Path, tokenizer_file: Path, max_length: int, dim: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)
        self.dim = dim

    @classmethod
    def load(
        cls, model_path: Path, cache: Path, load_model: Callable[[], object], quantized: bool = True
    ) -> OnnxEncoder:
        """The graph (int8, or fp32 when not `quantized`) is built into `cache` on first use, from the
        SentenceTransformer `load_model()` returns, with the sequence length and dimension it needs saved beside it;
        afterwards the model is never loaded."""
        graph, layout = cache / ("model-int8.onnx" if quantized else "model-fp32.onnx"), cache / "layout.json"
        if not (model_path / "tokenizer.json").exists():
            raise ConfigError(
                f"KURA_EMBED_BACKEND=onnx-int8 needs a fast tokenizer (tokenizer.json) in {model_path}: "
                "set KURA_EMBED_BACKEND=torch for this model."
            )
        if not graph.exists():
            model = load_model()
            modules = [type(module).__name__ for module in model]
            if (
                modules[:2] != ["Transformer", "Pooling"]
                or getattr(model[1], "pooling_mode", None) != "mean"
                or modules[2:] not in ([], ["Normalize"])
            ):
                raise ConfigError(
                    "KURA_EMBED_BACKEND=onnx-int8 supports mean-pooled BERT-style models such as MiniLM, "
                    f"not {' → '.join(modules)}: set KURA_EMBED_BACKEND=torch for this model."
                )
            cache.mkdir(parents=True, exist_ok=True)
            layout.write_text(json.dumps({"max_length": model.max_seq_length, "dim": model.get_embedding_dimension()}))
            _export(model[0].auto_model, model.tokenizer, graph, quantized)  # last: its presence means complete
        saved = json.loads(layout.read_text())
        return cls(graph, model_path / "tokenizer.json", saved["max_length"], saved["dim"])

    def tokenize(self, text: str) -> list[str]:
        """Word pieces without special tokens, as a Hugging Face tokenizer's `tokenize` gives them."""
        return self.tokenizer.encode(text, add_special_tokens=False).tokens

    def _batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Input arrays padded to the longest text; padded positions are masked, so the pad id never counts."""
        encodings = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(texts), width), dtype=np.int64) for name in INPUTS}
        for row, e in enumerate(encodings):
            for name, values in zip(INPUTS, (e.ids, e.attention_mask, e.type_ids)):
                arrays[name][row, : len(values)] = values
        return arrays

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised embeddings in input order; batches are length-sorted so padding stays short."""
        order = np.argsort([len(text) for text in texts], kind="stable")
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            batch = self._batch([texts[i] for i in rows])
            hidden = self.session.run(None, {name: batch[name] for name in self.inputs})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            result[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return result


def _export(transformer, tokenizer, graph: Path, quantized: bool) -> None:
    """fp32 export, then (quantized) dynamic int8 quantisation, written under a temporary name and renamed into
    place so an interrupted build never leaves a half graph behind."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = tokenizer(["an example sentence", "another"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with tempfile.TemporaryDirectory(dir=graph.parent) as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixes: expected for a fixed-layout export
        fp32, int8 = Path(scratch) / "fp32.onnx", Path(scratch) / "int8.onnx"
        torch.onnx.export(
            LastHiddenState().eval(),
            tuple(example[name] for name in INPUTS),
            str(fp32),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
        if not quantized:
            os.replace(fp32, graph)
            return
        quantize_dynamic(
            str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"]
        )
        os.replace(int8, graph)
