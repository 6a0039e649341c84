"""tap-clevertap: a Singer tap extracting CleverTap events and profiles."""
