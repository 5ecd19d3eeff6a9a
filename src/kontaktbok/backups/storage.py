"""Where backups are kept: always a local folder, and optionally an S3-compatible bucket
(any provider that speaks the S3 API: a municipality's own object store, or a cloud one).

A backup's name says when it was taken (``kontaktbok-20261203T010000Z.age``, UTC), so the
retention rule needs nothing but the listing."""

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PREFIX = "kontaktbok-"
SUFFIX = ".age"
_NAME = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z){re.escape(SUFFIX)}$")


def name_for(moment: dt.datetime) -> str:
    return f"{PREFIX}{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


def taken_at(name: str) -> dt.datetime | None:
    """When the backup ``name`` was taken; None for a file that is not a backup."""
    match = _NAME.match(name)
    if not match:
        return None
    return dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


class Destination(Protocol):
    label: str

    def put(self, path: Path) -> None: ...

    def names(self) -> list[str]: ...

    def delete(self, name: str) -> None: ...


@dataclass
class LocalFolder:
    """The folder the backup is written to; ``put`` of a file already there does nothing."""

    folder: Path
    label: str = "local"

    def put(self, path: Path) -> None:
        if path.parent.resolve() != self.folder.resolve():
            raise ValueError(f"{path} is not in {self.folder}")

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if taken_at(p.name))

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)


@dataclass
class S3Bucket:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    label: str = "s3"

    def _client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region or None,
            aws_access_key_id=self.access_key or None,
            aws_secret_access_key=self.secret_key or None,
        )

    def _key(self, name: str) -> str:
        return f"{self.prefix.strip('/')}/{name}" if self.prefix.strip("/") else name

    def put(self, path: Path) -> None:
        self._client().upload_file(str(path), self.bucket, self._key(path.name))

    def names(self) -> list[str]:
        paginator = self._client().get_paginator("list_objects_v2")
        prefix = self._key("")
        names = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if taken_at(name):
                    names.append(name)
        return sorted(names)

    def delete(self, name: str) -> None:
        self._client().delete_object(Bucket=self.bucket, Key=self._key(name))


def destinations(settings: Any) -> list[Destination]:
    """The local folder, then the bucket if one is configured."""
    found: list[Destination] = [LocalFolder(Path(settings.BACKUP_DIR))]
    if settings.BACKUP_S3_BUCKET:
        found.append(
            S3Bucket(
                bucket=settings.BACKUP_S3_BUCKET,
                prefix=settings.BACKUP_S3_PREFIX,
                endpoint_url=settings.BACKUP_S3_ENDPOINT_URL,
                region=settings.BACKUP_S3_REGION,
                access_key=settings.BACKUP_S3_ACCESS_KEY,
                secret_key=settings.BACKUP_S3_SECRET_KEY,
            )
        )
    return found
