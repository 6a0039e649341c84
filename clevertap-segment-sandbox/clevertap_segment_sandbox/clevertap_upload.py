"""POST /1/upload (docs/clevertap-api.md §4): per-record validation, 200 for per-record failures."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import orjson

from clevertap_segment_sandbox.clevertap_export import MALFORMED
from clevertap_segment_sandbox.http_common import STATE, json_body, query_params
from clevertap_segment_sandbox.upload_rules import validate_record

if TYPE_CHECKING:
    from aiohttp import web

MAX_RECORDS = 1000


async def upload(request: web.Request) -> web.Response:
    """Validate every record; store the valid ones unless ?dryRun=1."""
    state = request.app[STATE]
    dry_run = query_params(request).get("dryRun", "0").strip().lower() in ("1", "true")
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        body = None
    records = body.get("d") if isinstance(body, dict) else None
    store = state.uploads
    if not isinstance(records, list):
        store.log.append(_log_entry(0, 400, "fail", processed=0, codes={}, dry_run=dry_run))
        return json_body(MALFORMED, 400)
    if len(records) > MAX_RECORDS:
        store.log.append(
            _log_entry(len(records), 400, "fail", processed=0, codes={}, dry_run=dry_run)
        )
        return json_body(
            {
                "status": "fail",
                "error": f"Too many records: {len(records)} sent, at most {MAX_RECORDS} allowed",
                "code": 400,
            },
            400,
        )
    unprocessed = []
    codes: dict[str, int] = {}
    now = time.time()
    for position, record in enumerate(records, start=1):
        error = validate_record(record, state.limits)
        if error is not None:
            codes[str(error.code)] = codes.get(str(error.code), 0) + 1
            unprocessed.append(
                {
                    "status": "fail",
                    "code": error.code,
                    "error": error.text(position),
                    "record": record,
                }
            )
        elif not dry_run:
            if record["type"] == "event":
                when = record.get("ts") or now
                store.add_event(record, now, state.clock.local_day(when).toordinal())
            else:
                store.upsert_profile(record, now)
    processed = len(records) - len(unprocessed)
    status = "success" if not unprocessed else "partial" if processed else "fail"
    store.records_received += len(records)
    store.records_rejected += len(unprocessed)
    store.log.append(
        _log_entry(len(records), 200, status, processed=processed, codes=codes, dry_run=dry_run)
    )
    return json_body({"status": status, "processed": processed, "unprocessed": unprocessed})


def _log_entry(
    count: int,
    http_status: int,
    status: str,
    *,
    processed: int,
    codes: dict[str, int],
    dry_run: bool,
) -> dict[str, object]:
    return {
        "records": count,
        "http_status": http_status,
        "status": status,
        "processed": processed,
        "unprocessed": count - processed if http_status == 200 else count,
        "codes": codes,
        "dry_run": dry_run,
        "received_at": time.time(),
    }
