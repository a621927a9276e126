"""Result and error types shared by every ingestion parser."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ItemError:
    """One problem with one item of a request body.

    ``index`` is the item's position in the input (0-based; for CSV the data row, header excluded),
    ``field`` a dotted path inside the item (``"timestamp"``, ``"context.campaign.source"``,
    ``"messages.0.text"``; ``""`` means the item as a whole) and ``reason`` says what is wrong in
    words an operator understands (``"is required"``, ``"must be one of: track, page, …"``).
    """

    index: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class ParseResult:
    """Good items (canonical dicts, input order, each with ``"_index"``) and the bad items' errors."""

    items: list[dict] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
