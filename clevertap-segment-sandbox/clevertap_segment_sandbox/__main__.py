"""`python -m clevertap_segment_sandbox` is `api-sandbox`."""

from clevertap_segment_sandbox.cli import main

main()
