"""Text to 2D stick-figure animation: data, generator, training, evaluation and safety, as literate notebooks

Modules:

- `stickgen.datasets`: Scenes from the story engine as training samples: batching, worker processes, augmentation, writing a corpus to a file or a store.
- `stickgen.embeddings`: `TextEncoder` over sentence-transformers (offline all-MiniLM-L6-v2 by default, BGE-large or any local model by name), batched, L2-normalized, each unique text embedded once; `embed_samples` and `stickgen embed`.
- `stickgen.language`: Plans in English and back: `describe(plan)` writes varied descriptions of a plan, `parse(text)` reads a plan from a prompt, side by side, with the round-trip test that measures how much of a plan survives both.
- `stickgen.plan`: The one plan type of stickgen: `Segment`, `ActorPlan` and `Plan`, and the frame-level views of a plan (per-frame actions, speech, and the timeline features a model is conditioned on).
- `stickgen.rig`: The stick-figure rig (eight channels per frame), its postures, one registered motion model per named action, and `animate`: the vectorized renderer of plans into motion, physics, camera and faces.
- `stickgen.storage`: Sharded numpy memmaps with an index and a metadata table, conversion both ways with the `.pt` interchange file, `open_samples`, `MotionDataset` and `collate_motion`.
- `stickgen.story`: Random scenes of 1–3 actors with interactions, drawn from a seed: the planner that turns a scene seed (or a list of steps) into a resolved `Plan`, with its posture logic, and the scene seeds and splits of a corpus."""

__version__ = "0.0.1"
