"""The cyclic garbage collector paused over work that makes many objects and no garbage cycles.

Importing a command's modules, or building and rendering a site, allocates some 10^5 objects
that reference counting frees or that live as long as the process (functions, classes, the
site); the collector's passes over them find nothing. While paused it does not run; when the
pause ends, what was made and kept joins the oldest generation, whose full collections still
find any cycle in it, instead of being the next young collection's to scan (a few ms).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection within the block; the collector is left as it was after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()  # then unfreeze: every tracked object to the oldest generation, unscanned
            gc.unfreeze()
            gc.enable()
