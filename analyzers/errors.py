"""The one exception type the CLI turns into a single line on stderr and exit code 2."""


class KvdiffError(Exception):
    """Bad input or an unusable environment.

    The message is one line that says what went wrong, why, and what to do.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DamagedTag(KvdiffError):
    """A tag whose objects or ref cannot be read from the cache (``kvdiff fetch --repair``)."""

    def __init__(self, message: str, tag: str) -> None:
        super().__init__(message)
        self.tag = tag

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # raised in a worker process, it reaches the caller through a pipe (pickled)
        return (DamagedTag, (self.message, self.tag))


# errno -> what to do, for an OSError while writing; the hint must match the cause (a full disk
# is not fixed by checking a URL).
_DISK_FULL = (28, 122, 27)  # ENOSPC, EDQUOT, EFBIG
_NO_WRITE = (13, 1, 30)  # EACCES, EPERM, EROFS
_NOT_DIR = (20, 2)  # ENOTDIR, ENOENT


def os_error_hint(exc: OSError, where: str) -> str:
    """What to do about ``exc`` raised while writing ``where`` (e.g. "--cache DIR")."""
    if exc.errno in _DISK_FULL:
        return f"free some disk space (or raise the file-size limit) and rerun, or pass {where}"
    if exc.errno in _NO_WRITE:
        return f"it is not writable; fix its permissions or pass {where} somewhere writable"
    if exc.errno in _NOT_DIR:
        return f"a part of the path is missing or is not a directory; pass {where} elsewhere"
    return f"pass {where} somewhere else"


def os_error_text(exc: OSError) -> str:
    """``strerror (errno N)`` of an OSError, for one-line messages."""
    return f"{exc.strerror or type(exc).__name__} (errno {exc.errno})"


class MissingFile(KvdiffError):
    """A path that does not exist at a tag (the tag's tree has no such file)."""
