"""CleverTap property names that must reach CleverTap exactly as spelled.

Why: CleverTap gives these keys meaning (validation, identity, subscriptions, the Charged event), so
snake-casing them ("Customer Type" -> "customer_type") would silently turn a system field into a
custom property. Source: docs/clevertap-api.md §4.1 and §4.4:
- standard profile fields (several validated by CleverTap, error codes 514-520): Name, Email, Phone,
  Gender, DOB, Photo, Identity, Employed, Education, Married, Age, Customer Type, and the
  lower-case ``identity`` that links an identity to a profile addressed by objectId (RudderStack's
  CleverTap destination, rudderlabs/rudder-transformer src/v0/destinations/clevertap);
- subscription flags MSG-email, MSG-push, MSG-sms, MSG-whatsapp, covered by the "MSG-" prefix so
  future channels are protected too;
- the Charged event's own fields: Charged ID, Amount and Items (the only nested value an event may
  carry, error 512);
- the profile update operators $add, $remove, $incr, $decr, $delete, which appear as keys of a
  nested value (``{"Tags": {"$add": [...]}}``) and would become "add" etc. when nested keys are
  normalized.
"""

from typing import Final

CLEVERTAP_STANDARD_PROFILE_KEYS: Final = frozenset(
    {
        "Name", "Email", "Phone", "Gender", "DOB", "Photo", "Identity", "Employed", "Education",
        "Married", "Age", "Customer Type", "identity",
    }
)  # fmt: skip
CLEVERTAP_SUBSCRIPTION_KEYS: Final = frozenset({"MSG-email", "MSG-push", "MSG-sms", "MSG-whatsapp"})
CLEVERTAP_CHARGED_KEYS: Final = frozenset({"Charged ID", "Amount", "Items"})
CLEVERTAP_OPERATOR_KEYS: Final = frozenset({"$add", "$remove", "$incr", "$decr", "$delete"})
CLEVERTAP_RESERVED_KEYS: Final = (
    CLEVERTAP_STANDARD_PROFILE_KEYS
    | CLEVERTAP_SUBSCRIPTION_KEYS
    | CLEVERTAP_CHARGED_KEYS
    | CLEVERTAP_OPERATOR_KEYS
)
CLEVERTAP_RESERVED_PREFIXES: Final = ("MSG-",)


def is_reserved(name: str, keys: frozenset[str] | None, prefixes: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``keys`` (exact, case-sensitive) or starts with a prefix."""
    return (keys is not None and name in keys) or (bool(prefixes) and name.startswith(prefixes))
