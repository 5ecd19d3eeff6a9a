"""What the collectors share: how times and days are written, and the files of the ZIP."""

import datetime as dt
import re
from dataclasses import dataclass, field

from kontaktbok.core import clock


def when(moment: dt.datetime | None) -> str | None:
    """A moment in school-local time, ISO 8601 to the second with its offset."""
    if moment is None:
        return None
    return moment.astimezone(clock.SCHOOL_TZ).replace(microsecond=0).isoformat()


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def clock_time(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def safe_name(name: str) -> str:
    """A file name for inside the ZIP: no folders, no control characters."""
    cleaned = re.sub(r'[\x00-\x1f<>:"/\\|?*]', "_", name).strip(" .")
    return cleaned[-120:] or "file"


@dataclass(frozen=True)
class ExportFile:
    path: str
    content: bytes


@dataclass
class Files:
    """The files beside data.json (letters, attachments), each at its own path."""

    items: list[ExportFile] = field(default_factory=list)

    def add(self, path: str, content: bytes) -> str:
        taken = {item.path for item in self.items}
        base, dot, extension = path.rpartition(".")
        unique, n = path, 1
        while unique in taken:
            n += 1
            unique = f"{base}-{n}.{extension}" if dot else f"{path}-{n}"
        self.items.append(ExportFile(path=unique, content=content))
        return unique
