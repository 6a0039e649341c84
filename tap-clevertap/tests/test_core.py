"""The Singer SDK's standard tap tests, against a sandbox.

The SDK's test factory instantiates the tap while pytest collects this module (to list the
streams and their attributes) and syncs in a class-scoped fixture, so the API must be up before
any fixture of ours could run. A process-wide sandbox started on first import (and stopped at
exit) gives the config a real URL at collection time; it is separate from the `sandbox` fixture,
so faults or clock changes made by other tests never leak into these.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_clevertap.tap import TapCleverTap
from tap_clevertap_testkit import standard_sandbox, tap_config

_SANDBOX = standard_sandbox()
_STORE = Path(tempfile.mkdtemp(prefix="tap-clevertap-core-")) / "audiences.sqlite"
atexit.register(shutil.rmtree, _STORE.parent, ignore_errors=True)

TestTapCleverTap = get_tap_test_class(
    TapCleverTap,
    config=tap_config(
        _SANDBOX,
        type_properties_from_schema=True,
        start_date="2026-11-17",
        event_names=["App Launched", "Charged", "Search"],
        audiences=[{"name": "Signed up lately", "event_name": "Signed Up", "last_days": 3}],
        audience_store_path=str(_STORE),
    ),
    suite_config=SuiteConfig(max_records_limit=300),
)
