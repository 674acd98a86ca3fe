"""Inference: the model directory, the emission runtimes (ONNX or Keras), `Tagger`, entities."""

# Sentences per batch (padded tokens are capped at 32 per sentence slot): onnxruntime keeps the memory of
# its largest batch; 64 ran faster than 128 with one network thread and with two, holding 40 MB less
# (docs/results/notes.md, "Speed and memory"). Here so the CLI's default costs no import.
BATCH_SIZE = 64
