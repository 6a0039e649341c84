"""tap_clevertap."""
