"""How numbers read in the lines p44_magic prints: ``1 row``, ``1,204 rows``."""

from __future__ import annotations


def counted(number: int, word: str, plural: str | None = None) -> str:
    """``number`` with ``word`` in the singular for one, else the plural (``word + "s"``)."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"
