"""clevertap_segment_common."""
