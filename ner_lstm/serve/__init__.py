"""The HTTP server: the ASGI app (`app.py`), its micro-batcher and its page."""
