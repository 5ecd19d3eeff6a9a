"""Ids as the databases store them: a signed 64-bit integer. A larger number is no id of
anything (SQLite cannot even compare with it), so it is refused where it enters."""

from typing import Any

MAX_ID = 2**63 - 1


def to_id(value: Any) -> int:
    """An id from a form or query value; ``ValueError`` for what cannot be one."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"not an id: {value!r}")
    return number
