"""Inference: the model directory, the emission runtimes (ONNX or Keras), `Tagger`, entities."""
