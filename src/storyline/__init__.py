"""Storyline: a tracker for work that spans many inter-related projects."""

__version__ = "0.1.0"
