"""The one exception type the CLI turns into a single line on stderr and exit code 2."""


class KvdiffError(Exception):
    """Bad input or an unusable environment.

    The message is one line that says what went wrong, why, and what to do.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
