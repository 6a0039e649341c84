"""Batched, concurrent, retrying HTTP delivery shared by target-segment and target-clevertap."""

from clevertap_segment_common.delivery.engine import (
    UNCERTAIN_RULE,
    DeliveryEngine,
    DeliveryError,
    DeliveryStats,
)
from clevertap_segment_common.delivery.retry import RetryPolicy
from clevertap_segment_common.delivery.transport import (
    BatchAnswer,
    Item,
    Rejection,
    Transport,
    Verdict,
)

__all__ = [
    "UNCERTAIN_RULE",
    "BatchAnswer",
    "DeliveryEngine",
    "DeliveryError",
    "DeliveryStats",
    "Item",
    "Rejection",
    "RetryPolicy",
    "Transport",
    "Verdict",
]
