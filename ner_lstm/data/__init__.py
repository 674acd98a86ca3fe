"""Data: `Sentence` records from every input (CoNLL columns, text, JSONL, datasets), and output formats."""
