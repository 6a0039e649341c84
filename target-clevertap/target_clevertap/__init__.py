"""target_clevertap."""
