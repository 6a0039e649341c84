"""CleverTap's ``POST /1/upload`` as a Transport of the shared delivery engine.

How answers are read (docs/clevertap-api.md §4.2-4.5): HTTP 200 carries ``status``
success/partial/fail and, per refused record, an ``unprocessed`` entry whose error text ends in
"Skipped record number : N" (1-based position in the request). A request-level
``{"status":"fail","error":"Malformed request","code":400}`` (or HTTP 400/413) means the batch as a
whole was refused: the engine bisects it. 429 and 5xx are retried; 401/403 stop the run with a
message about credentials and region. Redirects are never followed: requests would resend the
passcode to wherever ``Location`` points (even plain http) and turn a 302'd POST into a body-less
GET whose 200 looks like success; a 3xx stops the run instead. Records CleverTap echoes in
``unprocessed[].record`` are never logged.
"""

from __future__ import annotations

import re
import typing as t

import orjson
from clevertap_segment_common.delivery import BatchAnswer, Rejection, Verdict
from clevertap_segment_common.endpoints import redirect_summary
from clevertap_segment_common.http import parse_retry_after, user_agent

from target_clevertap.rules import REQUEST_REFUSED, RULE_BY_CODE

if t.TYPE_CHECKING:
    import requests
    from clevertap_segment_common.delivery import Item

UPLOAD_PATH = "/1/upload"
#: No byte limit is documented; one secondary source suggests staying under 5 MB.
MAX_UPLOAD_BYTES = 4_000_000
_SKIPPED = re.compile(r"\s*Skipped record number\s*:\s*(\d+)\s*\.?\s*$", re.IGNORECASE)
_FIELD_IN_TEXT = re.compile(r"field\s*:\s*([^.]+?)\s*\.?\s*$")
_FIELD_BY_CODE = {
    509: "evtName",
    513: "evtName",
    514: "Gender",
    515: "Email",
    516: "Phone",
    517: "Employed",
    518: "Education",
    519: "Married",
    520: "Age",
    522: "evtData",
    523: "identity",
    525: "ts",
    526: "objectId",
}


def credentials_hint(base_url: str, region: str | None) -> str:
    """What to check when CleverTap refuses the account id or passcode."""
    where = f"region {region} ({base_url})" if region else base_url
    return (
        f"CleverTap refused the account id/passcode at {where}. Check account_id and passcode "
        "(a passcode from Settings > Passcode, not the SDK account token). If both are right, the "
        "region is wrong: CleverTap answers 401 for accounts of another region; the region is the "
        "sub-domain of your dashboard URL (in1.dashboard.clevertap.com -> in1). Run "
        "`target-clevertap --test --config ...` to find out which."
    )


def redirect_refusal(response: requests.Response) -> str:
    """Why a 3xx stops the run, naming where it points by scheme and host only (never the path)."""
    return (
        f"{redirect_summary(response)}. Redirects are not followed: they would send the passcode "
        "to another address, and a redirected upload may arrive as a GET that uploads nothing. "
        "Set api_url to the final URL."
    )


class CleverTapTransport:
    """Builds ``{"d": [...]}`` bodies and classifies CleverTap's answers."""

    max_items = 1000
    max_bytes = MAX_UPLOAD_BYTES

    def __init__(
        self,
        base_url: str,
        *,
        account_id: str,
        passcode: str,
        dry_run: bool,
        timeout: float,
        region: str | None = None,
        on_refused: t.Callable[[t.Sequence[Item]], None] | None = None,
    ) -> None:
        self.base_url = base_url
        #: Told about a batch CleverTap refused as a whole with a 4xx (401, 404, ...): nothing of
        #: it was stored, so the journal must not count it as possibly delivered.
        self.on_refused = on_refused
        self.region = region
        self.url = base_url + UPLOAD_PATH + ("?dryRun=1" if dry_run else "")
        self.timeout = timeout
        self._headers = {
            "X-CleverTap-Account-Id": account_id,
            "X-CleverTap-Passcode": passcode,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": user_agent("target-clevertap"),
        }

    def build_body(self, items: t.Sequence[Item]) -> tuple[bytes, dict[str, str]]:
        """The items' payloads joined into one upload body."""
        return b'{"d":[' + b",".join([item.payload for item in items]) + b"]}", {}

    def send(
        self, session: requests.Session, body: bytes, headers: dict[str, str]
    ) -> requests.Response:
        """POST one upload (a redirect is answered to ``read_answer``, not followed)."""
        return session.post(
            self.url,
            data=body,
            headers={**self._headers, **headers},
            timeout=self.timeout,
            allow_redirects=False,
        )

    def read_answer(self, response: requests.Response, items: t.Sequence[Item]) -> BatchAnswer:
        """Classify the whole answer and, when final, each record."""
        answer, refused_whole = self._classify(response, items)
        if refused_whole and self.on_refused is not None:
            self.on_refused(items)
        return answer

    def _classify(
        self, response: requests.Response, items: t.Sequence[Item]
    ) -> tuple[BatchAnswer, bool]:
        """The answer, and whether CleverTap certainly stored none of the batch (a 4xx stop)."""
        status = response.status_code
        body = _json(response)
        error = str(body.get("error", "")) if body else ""
        detail = f"HTTP {status}" + (f" {error}" if error else "")
        if 300 <= status < 400:
            # The server that redirects has not processed the upload: nothing of it was stored.
            return BatchAnswer(Verdict.FAIL, redirect_refusal(response)), True
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return BatchAnswer(Verdict.RETRY, detail, retry_after), False
        if status in (401, 403) or (body is not None and body.get("code") in (401, 403)):
            hint = credentials_hint(self.base_url, self.region)
            return BatchAnswer(Verdict.FAIL, f"{detail}. {hint}"), True
        if body is not None and body.get("unprocessed") and status in (200, 206, 400):
            return _per_record(body, items, detail), False
        if status in (400, 413):
            return BatchAnswer(Verdict.SPLIT, detail), False
        if status == 404:
            where = f"no upload endpoint at {self.url}; check api_url/region"
            return BatchAnswer(Verdict.FAIL, f"{detail}: {where}"), True
        if not 200 <= status < 300:
            return BatchAnswer(Verdict.FAIL, f"unexpected answer {detail}"), True
        if body is None:
            # A 2xx we cannot read: CleverTap may have stored the records, so do not resend.
            return BatchAnswer(Verdict.FAIL, f"HTTP {status} with a body that is not JSON"), False
        return _per_record(body, items, detail), False

    def single_item_refusal(self, answer: BatchAnswer) -> Rejection:
        """A record CleverTap refuses even alone in a request."""
        return Rejection(
            reason=f"CleverTap refused the request holding only this record: {answer.message}",
            rule=REQUEST_REFUSED.name,
            code=REQUEST_REFUSED.code,
        )


def _json(response: requests.Response) -> dict[str, t.Any] | None:
    try:
        value = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _per_record(body: dict[str, t.Any], items: t.Sequence[Item], detail: str) -> BatchAnswer:
    status = body.get("status")
    unprocessed = body.get("unprocessed") or []
    if status == "success" and not unprocessed:
        return BatchAnswer(Verdict.DONE)
    if not unprocessed:
        if status == "fail" and (body.get("code") == 400 or "malformed" in detail.lower()):
            return BatchAnswer(Verdict.SPLIT, detail)
        return BatchAnswer(Verdict.FAIL, f"CleverTap answered status {status!r}: {detail}")
    rejections: dict[int, Rejection] = {}
    for entry in unprocessed:
        index, rejection = _rejection(entry)
        if index is None or not 0 <= index < len(items):
            # Without the position we cannot tell which records were stored; resending could
            # double events, so stop and let the journal treat the batch as uncertain.
            return BatchAnswer(
                Verdict.FAIL,
                "CleverTap refused a record without saying which (no 'Skipped record number' in "
                f"its error): code {entry.get('code') if isinstance(entry, dict) else None}",
            )
        rejections.setdefault(index, rejection)
    return BatchAnswer(Verdict.DONE, rejections=rejections)


def _rejection(entry: t.Any) -> tuple[int | None, Rejection]:
    if not isinstance(entry, dict):
        return None, Rejection(reason="unreadable entry", rule="server_error")
    text = str(entry.get("error", ""))
    match = _SKIPPED.search(text)
    index = int(match.group(1)) - 1 if match else None
    message = text[: match.start()].strip() if match else text.strip()
    code = entry.get("code")
    rule = RULE_BY_CODE.get(code) if isinstance(code, int) else None
    field = _FIELD_BY_CODE.get(code) if isinstance(code, int) else None
    if found := _FIELD_IN_TEXT.search(message):
        field = found.group(1)
    return index, Rejection(
        reason=f"CleverTap refused the record (code {code}): {message}",
        rule=rule.name if rule else f"clevertap_{code}",
        code=code,
        field=field,
    )
