"""api_sandbox."""
