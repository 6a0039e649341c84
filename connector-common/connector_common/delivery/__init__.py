"""Batched, concurrent, retrying HTTP delivery shared by target-segment and target-clevertap."""

from connector_common.delivery.engine import DeliveryEngine, DeliveryError, DeliveryStats
from connector_common.delivery.retry import RetryPolicy, parse_retry_after
from connector_common.delivery.transport import BatchAnswer, Item, Rejection, Transport, Verdict

__all__ = [
    "BatchAnswer",
    "DeliveryEngine",
    "DeliveryError",
    "DeliveryStats",
    "Item",
    "Rejection",
    "RetryPolicy",
    "Transport",
    "Verdict",
    "parse_retry_after",
]
