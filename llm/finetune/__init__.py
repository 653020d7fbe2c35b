"""Teaching gpt-oss the company's voice: approved replies and answers rated up become a chat dataset (dataset.py),
a LoRA adapter is trained on it (train.py, the `finetune` extra), and drafts from the base model and the adapter are
compared on the tickets held out (compare.py)."""
