"""How numbers and names read in the lines p44_magic prints: ``1 row``, ``1,204 rows``,
``…c3d4``."""

from __future__ import annotations


def counted(number: int, word: str, plural: str | None = None) -> str:
    """``number`` with ``word`` in the singular for one, else the plural (``word + "s"``)."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


def masked_id(client_id: str | None) -> str | None:
    """``…c3d4``: enough to tell client applications apart, not to copy one."""
    if not client_id:
        return client_id
    return "…" + client_id[-4:] if len(client_id) > 4 else "…"
