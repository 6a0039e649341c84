"""Segment-shaped input for target-clevertap: an archive file, and a minimal tap that replays it.

The tap stands in for "any tap" (tap-jsonl in meltano.yml): it emits a SCHEMA, the archive's
messages as RECORDs, a STATE with the line reached every ``--state-every`` records, and resumes
from the line in ``--state``. It is self-contained so it can run as ``python segment_archive.py``.

    python segment_archive.py tap --archive FILE [--state STATE.json] [--state-every N]
                                  [--progress FILE]

``--progress`` names a file where the tap keeps the number of the last line it wrote (every 100
lines), so that a harness can kill the pipeline at a chosen point of the input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import typing as t
from pathlib import Path

STREAM = "segment"
EVENTS = ("Product Viewed", "Product Added", "Checkout Started", "Search", "Coupon Applied")
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "userId": {"type": ["string", "null"]},
        "anonymousId": {"type": ["string", "null"]},
        "messageId": {"type": "string"},
        "event": {"type": ["string", "null"]},
        "timestamp": {"type": ["string", "null"]},
        "properties": {"type": ["object", "null"]},
        "traits": {"type": ["object", "null"]},
        "context": {"type": ["object", "null"]},
    },
    "additionalProperties": True,
}
IDENTIFY_EVERY = 10


def message(seq: int) -> dict[str, t.Any]:
    """Message number ``seq``: every tenth an identify, the others track calls; ids are unique."""
    at = (START + dt.timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
    user = f"user-{seq % 5000}"
    if seq % IDENTIFY_EVERY == 0:
        return {
            "type": "identify",
            "userId": user,
            "messageId": f"rel-{seq:09d}",
            "timestamp": at,
            "traits": {
                "seq": seq,
                "name": f"Person {seq % 5000}",
                "email": f"{user}@example.com",
                "Plan Type": ("free", "plus", "pro")[seq % 3],
            },
        }
    return {
        "type": "track",
        "userId": user,
        "messageId": f"rel-{seq:09d}",
        "event": EVENTS[seq % len(EVENTS)],
        "timestamp": at,
        "context": {"library": {"name": "analytics-python", "version": "2.3.4"}},
        "properties": {
            "seq": seq,
            "product_id": f"sku-{seq % 300}",
            "price": round(seq * 0.37 % 500, 2),
            "currency": "EUR",
            "category": "Shoes",
        },
    }


def write_archive(path: Path, count: int) -> dict[str, int]:
    """Write ``count`` messages, one JSON object per line; returns how many of each type."""
    kinds = {"track": 0, "identify": 0}
    with path.open("w", encoding="utf-8") as out:
        for seq in range(count):
            item = message(seq)
            kinds[item["type"]] += 1
            out.write(json.dumps(item, separators=(",", ":")) + "\n")
    return kinds


def state_message(line: int) -> str:
    """The STATE this tap emits after ``line`` archive lines."""
    return json.dumps({"type": "STATE", "value": {"bookmarks": {STREAM: {"line": line}}}})


def replay(
    archive: Path, state: Path | None, state_every: int, progress: Path | None = None
) -> None:
    """Emit the archive as Singer messages from the line in ``state`` on."""
    start = 0
    if state is not None and state.exists():
        start = int(json.loads(state.read_text())["bookmarks"][STREAM]["line"])
    out = sys.stdout
    schema = {"type": "SCHEMA", "stream": STREAM, "schema": SCHEMA, "key_properties": ["messageId"]}
    out.write(json.dumps(schema) + "\n")
    line = 0
    with archive.open(encoding="utf-8") as source:
        for line, text in enumerate(source, start=1):
            if line <= start:
                continue
            out.write('{"type":"RECORD","stream":"' + STREAM + '","record":' + text.rstrip("\n"))
            out.write("}\n")
            if line % state_every == 0:
                out.write(state_message(line) + "\n")
            if progress is not None and line % 100 == 0:
                progress.write_text(str(line))
    out.write(state_message(max(line, start)) + "\n")
    out.flush()


def main() -> None:
    """Command line: `tap` replays an archive."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tap = commands.add_parser("tap", help="replay an archive as Singer messages")
    tap.add_argument("--archive", type=Path, required=True)
    tap.add_argument("--state", type=Path)
    tap.add_argument("--state-every", type=int, default=1000)
    tap.add_argument("--progress", type=Path)
    args = parser.parse_args()
    replay(args.archive, args.state, args.state_every, args.progress)


if __name__ == "__main__":
    main()
