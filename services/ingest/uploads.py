"""Files uploaded on the Data page, kept on disk between the check (preview) and the import.

An upload is stored under ``DATA_DIR/uploads/<token>.csv`` with a small JSON sidecar (original name, kind, size,
uploader); the token is random and unguessable. Error reports live under ``DATA_DIR/import-errors``. Uploads older
than a day are removed when a new one arrives.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from services.ingest.report import FileRejectedError
from settings import get_settings

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_REPORT = re.compile(r"^[A-Za-z0-9_.-]{1,120}-errors\.csv$")
MAX_AGE_S = 24 * 3600
MB = 1024 * 1024  # MAX_UPLOAD_MB counts megabytes of 1,048,576 bytes; messages use the same unit


@dataclass(frozen=True)
class Staged:
    token: str
    path: Path
    file_name: str
    kind: str
    size: int
    user: str | None


def _folder() -> Path:
    folder = get_settings().data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def limit_bytes() -> int:
    return get_settings().max_upload_mb * 1024 * 1024


def decode_data_url(contents: str) -> bytes:
    """The bytes of a ``data:...;base64,...`` string as sent by dcc.Upload."""
    _, _, payload = contents.partition(",")
    if not payload and not contents.startswith("data:"):
        payload = contents
    estimated = len(payload) * 3 // 4
    if estimated > limit_bytes() + 4:
        raise FileRejectedError(
            f"the file is {estimated / MB:,.1f} MB; the limit is {limit_bytes() / MB:,.0f} MB (setting MAX_UPLOAD_MB)"
        )
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise FileRejectedError("the upload could not be decoded") from exc


def save_upload(*, data: bytes, file_name: str, kind: str, user: str | None) -> Staged:
    """Keep an uploaded file for the check and the import; returns its token and path."""
    if len(data) > limit_bytes():
        raise FileRejectedError(
            f"the file is {len(data) / MB:,.1f} MB; the limit is {limit_bytes() / MB:,.0f} MB (setting MAX_UPLOAD_MB)"
        )
    cleanup()
    token = secrets.token_urlsafe(24)
    folder = _folder()
    path = folder / f"{token}.csv"
    path.write_bytes(data)
    name = Path(str(file_name or "upload.csv")).name[:200] or "upload.csv"
    meta = {"file_name": name, "kind": kind, "size": len(data), "user": user, "created": time.time()}
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return Staged(token, path, name, kind, len(data), user)


def staged(token: str | None) -> Staged | None:
    """The upload behind ``token`` (None when unknown, malformed or cleaned up)."""
    if not token or not _TOKEN.match(token):
        return None
    folder = _folder()
    path, meta_path = folder / f"{token}.csv", folder / f"{token}.json"
    if not path.is_file() or not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text())
    return Staged(token, path, meta["file_name"], meta["kind"], int(meta["size"]), meta.get("user"))


def discard(token: str | None) -> None:
    item = staged(token)
    if item is not None:
        item.path.unlink(missing_ok=True)
        item.path.with_suffix(".json").unlink(missing_ok=True)


def cleanup(max_age_s: float = MAX_AGE_S) -> int:
    """Remove uploads (and preview error reports) older than ``max_age_s``; returns how many."""
    removed = 0
    cutoff = time.time() - max_age_s
    for path in _folder().glob("*.csv"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
            removed += 1
    for path in (_folder() / "sheets").glob("*.csv"):  # workbook sheets left by an import that was killed
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    reports = get_settings().data_dir / "import-errors"
    for path in reports.glob("check-*-errors.csv") if reports.is_dir() else []:
        if path.stat().st_mtime < cutoff:  # reports of previews; those of imports are kept with their batch
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def report_file(name: str | None) -> Path | None:
    """An error report in ``DATA_DIR/import-errors`` by its file name (None when absent or not a report name)."""
    if not name or not _REPORT.match(name):
        return None
    path = get_settings().data_dir / "import-errors" / name
    return path if path.is_file() else None
