"""target_segment."""
