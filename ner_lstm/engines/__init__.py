"""Engines: tagging many records, in bounded windows and worker processes, into output files."""

SHARD_BYTES = 4_000_000  # the Ray engine's default shard: here so the CLI's default costs no import
