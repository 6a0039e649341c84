"""Property-name normalization shared by target-segment and target-clevertap.

Segment's cloud-mode CleverTap destination snake_cases every trait and event-property name while
CleverTap's own API keeps names as sent; these strategies reproduce the candidate conversions
exactly so a target can write the keys an account already has. See the README, "Property names".
"""

from clevertap_segment_common.property_names.normalizer import (
    CollisionPolicy,
    PropertyNameCollisionError,
    PropertyNameNormalizer,
)
from clevertap_segment_common.property_names.reserved import (
    CLEVERTAP_RESERVED_KEYS,
    CLEVERTAP_RESERVED_PREFIXES,
)
from clevertap_segment_common.property_names.stats import NormalizationStats
from clevertap_segment_common.property_names.strategies import (
    DEFAULT_STRATEGY,
    DISTINCT_STRATEGIES,
    STRATEGIES,
    CollisionGroup,
    Strategy,
    collision_groups,
    normalize_name,
    validate_strategy,
)

__all__ = [
    "CLEVERTAP_RESERVED_KEYS",
    "CLEVERTAP_RESERVED_PREFIXES",
    "DEFAULT_STRATEGY",
    "DISTINCT_STRATEGIES",
    "STRATEGIES",
    "CollisionGroup",
    "CollisionPolicy",
    "NormalizationStats",
    "PropertyNameCollisionError",
    "PropertyNameNormalizer",
    "Strategy",
    "collision_groups",
    "normalize_name",
    "validate_strategy",
]
