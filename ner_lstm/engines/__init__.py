"""Engines: tagging many records, in bounded windows and worker processes, into output files."""
