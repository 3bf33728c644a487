"""What a transfer raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memvault.errors import MemvaultError

if TYPE_CHECKING:
    from memvault.migrate.transfer.result import TransferResult


class TransferError(MemvaultError):
    """The transfer cannot go on (a value the destination cannot hold, a refused target)."""

    exit_code = 1


class DestinationNotEmpty(TransferError):
    """The destination holds data that is not an unfinished transfer from this source."""


class VerificationFailed(TransferError):
    """Counts or checksums differ between source and destination."""

    exit_code = 3

    def __init__(self, message: str, result: TransferResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class Refused(Exception):
    """A value the destination cannot hold; the message says why (the caller names the
    table, row and column)."""
