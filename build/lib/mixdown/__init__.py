"""Mixdown: recorded online classes in, finished videos out."""
