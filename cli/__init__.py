"""kvdiff: show how a Linux kernel function changed across releases.

This package's own modules are the thin click commands; the library is ``kvdiff.analyzers`` and
the page templates are ``kvdiff.templates``.
"""
