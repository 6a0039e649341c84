"""tap-clevertap: a Singer tap extracting CleverTap events and profiles."""

__version__ = "0.1.0"
