"""A mean-pooled sentence-transformers model (MiniLM) as an int8 ONNX Runtime graph: 1.38× the torch rate on a
2-core AVX2 CPU for −0.003 nDCG@10 on msmarco (docs/benchmarks.md). The graph is exported once from the local
model with torch.onnx and its MatMul weights quantised per channel by onnxruntime; nothing is downloaded."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Int8Encoder:
    """Tokenises with the model's own tokenizer, runs the int8 graph, mean-pools and normalises: what the
    sentence-transformers pipeline of a Transformer → mean Pooling → Normalize model does."""

    def __init__(self, graph: Path, tokenizer, max_length: int, dim: int) -> None:
        import onnxruntime

        self.session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.dim = dim

    @classmethod
    def load(cls, model, cache: Path) -> Int8Encoder:
        """`model`: the loaded SentenceTransformer. The int8 graph is built into `cache` on first use."""
        modules = [type(module).__name__ for module in model]
        if modules[:2] != ["Transformer", "Pooling"] or getattr(model[1], "pooling_mode", None) != "mean" \
                or modules[2:] not in ([], ["Normalize"]):
            raise ValueError(f"KURA_EMBED_BACKEND=onnx-int8 supports mean-pooled BERT-style models such as MiniLM, not "
                             f"{' → '.join(modules)}: set KURA_EMBED_BACKEND=torch for this model.")
        graph = cache / "model-int8.onnx"
        if not graph.exists():
            cache.mkdir(parents=True, exist_ok=True)
            _export_int8(model[0].auto_model, model.tokenizer, graph)
        return cls(graph, model.tokenizer, model.max_seq_length, model.get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised embeddings in input order; batches are length-sorted so padding stays short."""
        order = np.argsort([len(text) for text in texts], kind="stable")
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="np")
            hidden = self.session.run(None, {name: batch[name].astype(np.int64) for name in self.inputs})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            result[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return result


def _export_int8(transformer, tokenizer, graph: Path) -> None:
    """fp32 export, then dynamic int8 quantisation, written under a temporary name and renamed into place so an
    interrupted build never leaves a half graph behind."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                    token_type_ids=token_type_ids).last_hidden_state

    example = tokenizer(["an example sentence", "another"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with tempfile.TemporaryDirectory(dir=graph.parent) as scratch:
        fp32, int8 = Path(scratch) / "fp32.onnx", Path(scratch) / "int8.onnx"
        torch.onnx.export(LastHiddenState().eval(), tuple(example[name] for name in INPUTS), str(fp32),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"])
        os.replace(int8, graph)
