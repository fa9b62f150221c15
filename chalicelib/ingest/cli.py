"""The email consumer on local files: ``make run`` ingests the sample mail without AWS.

``main`` takes the triage and redaction functions as arguments: it is library code of chalicelib,
which does not import nlp; the command ``python -m chalicelib.email_ingest`` hands them in.
"""
from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path
from typing import Any, Callable

from chalicelib.ingest.events import IngestError, s3_event_body
from chalicelib.ingest.mailfiles import mail_files

__all__ = ["LocalBucket", "mail_files", "main"]


class LocalBucket:
    """The two S3 calls the service makes, over local files: ``make run`` ingests the sample mail
    without AWS. Keys map to paths; a missing key raises botocore's NoSuchKey ClientError."""

    def __init__(self, name: str, files: dict[str, Path] | None = None):
        self.name = name
        self.files: dict[str, Path] = dict(files or {})

    def add(self, key: str, path: Path) -> None:
        self.files[key] = Path(path)

    def get_object(self, Bucket: str, Key: str, Range: str | None = None) -> dict[str, Any]:  # noqa: N803 - S3 names
        from botocore.exceptions import ClientError

        path = self.files.get(Key) if Bucket == self.name else None
        if path is None or not path.is_file():
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "not found"}}, "GetObject")
        data = path.read_bytes()
        total = len(data)
        out: dict[str, Any] = {}
        if Range:
            lo, hi = (int(x) for x in Range.removeprefix("bytes=").split("-"))
            data = data[lo:hi + 1]
            out["ContentRange"] = f"bytes {lo}-{lo + len(data) - 1}/{total}"
        out.update(Body=io.BytesIO(data), ContentLength=len(data))
        return out


def main(argv: list[str] | None = None, *, build_service: Callable[[Any, Any], Any]) -> int:
    """``python -m chalicelib.email_ingest FILE.eml|DIR ...``: the SQS entry point's service on
    local files, against the configured store and decision log; one JSON line per message.
    ``build_service(settings, s3)`` is the composition root's (chatbot/bootstrap.py): it hands the
    service nlp's triage and redaction, which chalicelib never imports itself."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.email_ingest", description=main.__doc__)
    parser.add_argument("paths", nargs="+", help="raw .eml files or directories of them")
    args = parser.parse_args(argv)
    from chalicelib.core import log_guard

    log_guard.install()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from chalicelib.core.settings import get_settings

    settings = get_settings()
    bucket = LocalBucket(settings.raw_mail_bucket)
    service = build_service(settings, bucket)
    failures = 0
    for i, path in enumerate(mail_files(args.paths)):
        key = f"inbound/{path.name}"
        bucket.add(key, path)
        record = {"messageId": f"local-{i}", "body": s3_event_body(bucket.name, key, path.stat().st_size)}
        try:
            outcome = service.handle_sqs_record(record)
        except IngestError as exc:
            failures += 1
            print(json.dumps({"file": path.name, "error": str(exc)}))
            continue
        for o in outcome.objects:
            print(json.dumps({"file": path.name, **o.model_dump(mode="json")}))
    return 1 if failures else 0
