"""Training and scoring: the training run with early stopping and resume, seqeval scores."""
