"""ner-lstm: a BiLSTM-CNN-CRF named-entity tagger (Keras 3) with a CLI that trains, scores and tags."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Tagger", "__version__"]


def __getattr__(name: str):
    # Importing the package stays cheap; TensorFlow loads only when a Tagger is asked for.
    if name == "Tagger":
        from .inference.tagger import Tagger

        return Tagger
    raise AttributeError(name)
