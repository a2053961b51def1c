"""The live stream: Bluesky Jetstream events into the store, and incremental re-scoring.

See ``README.md`` in this folder.
"""
