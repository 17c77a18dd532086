"""Who is calling: an API key, and whether it is an admin key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    key_id: str
    is_admin: bool

    @property
    def owner_filter(self) -> str | None:
        """The owner to restrict queries to: None (everything) for an admin key."""
        return None if self.is_admin else self.key_id
