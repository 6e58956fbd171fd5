"""Exception types shared across layers.

``UserError`` is the one a member sees: its message is shown to them privately, so it must say
what went wrong and what to do. ``StartupError`` stops the process before it connects, with a
one-line explanation and an exit status.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the member asked for cannot be done; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StartupError(Exception):
    """The bot cannot start. ``message`` is one line for the operator; ``exit_code`` is the status."""

    exit_code: int = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(StartupError):
    """A configuration value is missing or malformed."""

    exit_code = 2


class DatabaseRefused(StartupError):
    """The file at ``DATABASE_PATH`` cannot be used; it was left untouched."""

    exit_code = 4
