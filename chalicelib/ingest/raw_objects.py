"""Reading a raw mail from S3: the header block first, the whole object when needed.

Why its own module: S3's errors split into permanent (the object is gone: retrying cannot help)
and transient (throttling, timeouts), and the ingest service's failure policy hangs on that split.
"""
from __future__ import annotations

from typing import Any

from chalicelib.ingest.events import PermanentIngestError, TransientIngestError

# S3 error codes that retrying cannot fix.
_PERMANENT_S3_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "InvalidObjectState", "404", "NotFound"})


def _client_error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or None
    return None


def read_object(s3: Any, bucket: str, key: str, limit: int | None) -> tuple[bytes, int]:
    """(bytes, total object size); ``limit`` reads only the first bytes (the header block)."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if limit is not None:
        kwargs["Range"] = f"bytes=0-{limit - 1}"
    try:
        resp = s3.get_object(**kwargs)
        data = resp["Body"].read()
    except Exception as exc:
        code = _client_error_code(exc)
        if code in _PERMANENT_S3_CODES:
            raise PermanentIngestError(f"S3 object not readable ({code})") from None
        if code == "InvalidRange":  # an empty object: nothing to range over
            return b"", 0
        raise TransientIngestError(f"S3 get_object failed ({code or type(exc).__name__})") from exc
    total = len(data)
    content_range = resp.get("ContentRange")
    if isinstance(content_range, str) and "/" in content_range:
        try:
            total = int(content_range.rsplit("/", 1)[1])
        except ValueError:
            total = len(data)
    elif limit is None and isinstance(resp.get("ContentLength"), int):
        total = max(total, resp["ContentLength"])
    return data, total
