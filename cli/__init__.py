"""Thin click commands over the analyzers library."""
