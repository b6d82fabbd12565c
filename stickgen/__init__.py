"""Text to 2D stick-figure animation: data, generator, training, evaluation and safety, as literate notebooks

Modules:

- `stickgen.datasets`: Procedural, physically sensible stick-figure motion for every named action, scenes of 1–3 actors with interactions, varied English descriptions, augmentation, and `stickgen generate-data`.
- `stickgen.embeddings`: `TextEncoder` over sentence-transformers (offline all-MiniLM-L6-v2 by default, BGE-large or any local model by name), batched, L2-normalized, each unique text embedded once; `embed_samples` and `stickgen embed`.
- `stickgen.storage`: Sharded numpy memmaps with an index and a metadata table, conversion both ways with the `.pt` interchange file, `open_samples`, `MotionDataset` and `collate_motion`."""

__version__ = "0.0.1"
