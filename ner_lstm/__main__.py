"""`python -m ner_lstm` runs the CLI."""
from .cli import app

app(prog_name="ner-lstm")
