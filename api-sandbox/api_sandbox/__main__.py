"""`python -m api_sandbox` is `api-sandbox`."""

from api_sandbox.cli import main

main()
