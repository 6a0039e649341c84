"""The seeded account's vocabulary: event names, property names and types, colliding names.

Fixed for every seed (tests can name them); only the data behind them depends on the seed.
Shapes follow docs/clevertap-api.md §2.3 and the live capture it cites: sentence-case, camelCase and
snake_case names side by side, CleverTap's "CT ..." system properties, `Charged` with `Items`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clevertap_segment_sandbox.prng import Stream

ValueMaker = Callable[[Stream], object]

ALL_NORMALIZERS = ("lodash", "to-snake-case-1.0", "go-snakecase")


@dataclass(frozen=True)
class PropSpec:
    """One property: its name, schema type, how values are drawn and how often it is present."""

    name: str
    type: str
    make: ValueMaker
    presence: float = 1.0


@dataclass(frozen=True)
class EventSpec:
    """One event name of the account.

    `weight` scales the seeded daily volume (0 = no seeded history in the window), `sparse` is
    the probability that a day has no such event at all.
    """

    name: str
    kind: str
    exportable: bool
    weight: float
    sparse: float
    props: tuple[PropSpec, ...]


@dataclass(frozen=True)
class CollisionGroup:
    """Names that map to the same key under snake_case (per the normalizers listed)."""

    scope: str
    event_name: str | None
    names: tuple[str, ...]
    collides_under: tuple[str, ...]


def pick(options: Sequence[object]) -> ValueMaker:
    """One of the options."""
    return lambda s: s.choice(options)


def integer(low: int, high: int) -> ValueMaker:
    """An integer in [low, high]."""
    return lambda s: low + s.below(high - low + 1)


def money(low: float, high: float) -> ValueMaker:
    """A float with two decimals."""
    return lambda s: round(low + s.unit() * (high - low), 2)


def ratio() -> ValueMaker:
    """A float in [0, 1) with two decimals."""
    return lambda s: round(s.unit(), 2)


def flag() -> ValueMaker:
    """A boolean."""
    return lambda s: s.unit() < 0.5


def digits(count: int) -> ValueMaker:
    """A string of digits (ids that look numeric but are strings)."""
    return lambda s: str(10 ** (count - 1) + s.below(9 * 10 ** (count - 1)))


def token(prefix: str, length: int) -> ValueMaker:
    """An opaque hex id with a prefix."""
    return lambda s: prefix + format(s.next64(), "016x")[:length]


def epoch_between(low: int, high: int) -> ValueMaker:
    """Epoch seconds (schema type "date")."""
    return lambda s: low + s.below(high - low)


def iso_day(first_year: int, last_year: int) -> ValueMaker:
    """A YYYY-MM-DD string."""
    return lambda s: (
        f"{first_year + s.below(last_year - first_year + 1)}-"
        f"{1 + s.below(12):02d}-{1 + s.below(28):02d}"
    )


def string_list(options: Sequence[str], most: int) -> ValueMaker:
    """A multi-value (list of distinct strings), as CleverTap stores them."""

    def make(s: Stream) -> object:
        count = 1 + s.below(most)
        chosen: list[str] = []
        for _ in range(count):
            value = s.choice(options)
            if value not in chosen:
                chosen.append(value)
        return chosen

    return make


PRODUCTS = (
    ("Iced Butterscotch Sea Salt Latte", "Coffee", 38.0),
    ("Hazelnut Cold Brew", "Coffee", 42.5),
    ("Matcha Frappe", "Non Coffee", 45.0),
    ("Chocolate Croissant", "Bakery", 28.0),
    ("Glazed Donut", "Bakery", 15.5),
    ("Caramel Macchiato", "Coffee", 40.0),
    ("Lemon Tea", "Non Coffee", 22.0),
    ("Tuna Sandwich", "Food", 48.0),
    ("Reusable Tumbler", "Merchandise", 120.0),
    ("Coffee Beans 250g", "Merchandise", 95.0),
)


def charged_items(s: Stream) -> object:
    """Charged's `Items`: the one array of flat objects CleverTap accepts on an event."""
    items = []
    for _ in range(1 + s.below(3)):
        name, category, price = s.choice(PRODUCTS)
        items.append(
            {"Product Name": name, "Category": category, "Quantity": 1 + s.below(3), "Price": price}
        )
    return items


SDK_PROPS = (
    PropSpec("CT App Version", "string", pick(("5.3.1", "5.3.0", "5.2.4", "5.4.0"))),
    PropSpec("CT Source", "string", pick(("Mobile", "Mobile", "Mobile", "Web"))),
    PropSpec("CT Session Id", "integer", integer(1_700_000_000, 1_799_999_999)),
    PropSpec("CT SDK Version", "integer", pick((70304, 70201, 60105))),
    PropSpec("CT OS Version", "string", pick(("26.3.1", "17.5", "14", "13", "18.1"))),
)

PRODUCT_NAME = pick(tuple(p[0] for p in PRODUCTS))
PRODUCT_ID = token("SKU-", 8)

ACTIVE_EVENTS = (
    EventSpec(
        "App Launched",
        "system",
        True,
        2.0,
        0.0,
        (*SDK_PROPS, PropSpec("Wifi", "boolean", flag(), 0.8)),
    ),
    EventSpec(
        "App Installed",
        "system",
        True,
        0.3,
        0.1,
        (*SDK_PROPS, PropSpec("Install Source", "string", pick(("Play Store", "App Store", "Ad")))),
    ),
    EventSpec("App Uninstalled", "system", True, 0.15, 0.4, SDK_PROPS),
    EventSpec(
        "App Version Changed",
        "system",
        True,
        0.25,
        0.4,
        (
            *SDK_PROPS,
            PropSpec("Previous Version", "string", pick(("5.2.4", "5.3.0"))),
            PropSpec("Current Version", "string", pick(("5.3.1", "5.4.0"))),
        ),
    ),
    EventSpec(
        "UTM Visited",
        "system",
        True,
        0.5,
        0.4,
        (
            PropSpec("CT Source", "string", pick(("Mobile", "Web"))),
            PropSpec("utm_source", "string", pick(("google", "facebook", "newsletter"))),
            PropSpec("utm_medium", "string", pick(("cpc", "social", "email"))),
            PropSpec("utm_campaign", "string", pick(("diwali_2026", "monsoon", "brand"))),
            PropSpec("Referrer", "string", pick(("https://www.google.com/", "direct")), 0.6),
        ),
    ),
    EventSpec(
        "Product Viewed",
        "custom",
        True,
        2.0,
        0.0,
        (
            *SDK_PROPS,
            PropSpec("Product Name", "string", PRODUCT_NAME, 0.9),
            PropSpec("product_name", "string", PRODUCT_NAME, 0.3),
            PropSpec("productId", "string", PRODUCT_ID),
            PropSpec("Category", "string", pick(("Coffee", "Non Coffee", "Bakery", "Food"))),
            PropSpec("Price", "float", money(10, 150)),
            PropSpec("Brand", "string", pick(("House", "Partner")), 0.7),
            PropSpec("In Stock", "boolean", flag()),
        ),
    ),
    EventSpec(
        "Added To Cart",
        "custom",
        True,
        1.2,
        0.0,
        (
            *SDK_PROPS,
            PropSpec("Product Name", "string", PRODUCT_NAME),
            PropSpec("productId", "string", PRODUCT_ID),
            PropSpec("Quantity", "integer", integer(1, 5)),
            PropSpec("Price", "float", money(10, 150)),
            PropSpec("cart_value", "float", money(10, 600)),
            PropSpec("CTAButton", "string", pick(("Add", "Quick Add", "Reorder")), 0.5),
            PropSpec("cta_button", "string", pick(("add", "quick_add")), 0.3),
        ),
    ),
    EventSpec(
        "Charged",
        "custom",
        True,
        0.8,
        0.0,
        (
            *SDK_PROPS,
            PropSpec("Charged ID", "string", token("CH-", 12)),
            PropSpec("Amount", "float", money(15, 900)),
            PropSpec("Currency", "string", pick(("INR", "IDR", "SGD"))),
            PropSpec("Payment Mode", "string", pick(("Card", "UPI", "Wallet", "COD"))),
            PropSpec("Items", "object_array", charged_items),
            PropSpec("Coupon Code", "string", pick(("WELCOME10", "FREEDEL", "BOGO")), 0.2),
        ),
    ),
    EventSpec(
        "Search",
        "custom",
        True,
        1.4,
        0.0,
        (
            *SDK_PROPS,
            PropSpec("Search Term", "string", pick(("latte", "donut", "cold brew", "tea")), 0.8),
            PropSpec("searchTerm", "string", pick(("latte", "croissant", "matcha")), 0.3),
            PropSpec("results_count", "integer", integer(0, 40)),
            PropSpec("Filters Applied", "boolean", flag()),
        ),
    ),
    EventSpec(
        "Signed Up",
        "custom",
        True,
        0.4,
        0.2,
        (
            *SDK_PROPS,
            PropSpec("Method", "string", pick(("Phone", "Google", "Email"))),
            PropSpec("referralCode", "string", token("REF", 6), 0.3),
        ),
    ),
    EventSpec(
        "Wishlist Added",
        "custom",
        True,
        0.5,
        0.1,
        (
            *SDK_PROPS,
            PropSpec("Product Name", "string", PRODUCT_NAME),
            PropSpec("productId", "string", PRODUCT_ID),
            PropSpec("Price", "float", money(10, 150)),
        ),
    ),
)

NOTIFICATION_PROPS = (
    PropSpec("Campaign id", "integer", integer(1_700_000_000, 1_799_999_999)),
    PropSpec("Campaign type", "string", pick(("Mobile Push", "Email", "SMS"))),
    PropSpec("wzrk_pivot", "string", pick(("wzrk_default", "variant_a"))),
)

NOTIFICATION_EVENTS = tuple(
    EventSpec(name, "system", False, 0.0, 0.0, NOTIFICATION_PROPS)
    for name in (
        "Notification Sent",
        "Notification Viewed",
        "Notification Clicked",
        "Notification Replied",
        "Push Impressions",
    )
)

QUIET_SYSTEM_EVENTS = tuple(
    EventSpec(name, "system", True, 0.0, 0.0, SDK_PROPS[:2])
    for name in (
        "Session Concluded",
        "Identity Set",
        "Reachable By",
        "State Transitioned",
        "Stayed",
        "Channel Unsubscribed",
        "Geocluster Entered",
        "Geocluster Exited",
        "Control Group",
        "Reply Sent",
        "Webhook Delivered",
    )
)

SCREENS = (
    "Home",
    "Menu",
    "Product Detail",
    "Checkout",
    "Order History",
    "Voucher List",
    "Store List",
    "Payment List",
    "Address List",
    "Account",
    "Settings",
    "Favourites",
    "Search Results",
    "Cart",
    "Order Detail",
    "Loyalty List",
    "Referral Mission",
    "Inbox",
    "Help Center",
    "Onboarding",
    "Courier Tracking",
    "Store Search",
)

SCREEN_PROPS = (
    PropSpec("Screen Name", "string", pick(SCREENS)),
    PropSpec("CT Source", "string", pick(("Mobile", "Web"))),
    PropSpec("Load Time", "float", money(0.1, 4.0), 0.5),
)

# Custom events the account defined long ago: listed by getSchema and present in every
# profile's event summary, but without events in the seeded window.
QUIET_CUSTOM_EVENTS = tuple(
    EventSpec(f"{verb} {screen}", "custom", True, 0.0, 0.0, SCREEN_PROPS)
    for verb in ("Load", "Action Open", "Action Close", "Popup")
    for screen in SCREENS
)

EVENTS: tuple[EventSpec, ...] = (
    ACTIVE_EVENTS + NOTIFICATION_EVENTS + QUIET_SYSTEM_EVENTS + QUIET_CUSTOM_EVENTS
)
EVENT_INDEX = {event.name: index for index, event in enumerate(EVENTS)}

# Events the upload API refuses to raise (code 513): CleverTap's own system and
# notification events. Matched case-insensitively (the safer reading).
RESTRICTED_UPLOAD_EVENTS = frozenset(
    name.lower()
    for name in (
        "App Launched",
        "App Installed",
        "App Uninstalled",
        "App Version Changed",
        "UTM Visited",
        "Notification Sent",
        "Notification Viewed",
        "Notification Clicked",
        "Notification Replied",
        "Push Impressions",
        "Push Unregistered",
        "Session Concluded",
        "Identity Set",
        "Reachable By",
        "State Transitioned",
        "Stayed",
        "Channel Unsubscribed",
        "Channel Subscribed",
        "Geocluster Entered",
        "Geocluster Exited",
        "Control Group",
        "Reply Sent",
        "Webhook Delivered",
    )
)

CITIES = ("Depok", "Jakarta", "Bandung", "Mumbai", "Pune", "Bengaluru", "Singapore", "Surabaya")

PROFILE_PROPS = (
    PropSpec("Industry Of Traits", "string", pick(("Retail", "Finance", "Education")), 0.6),
    PropSpec("industry_of_traits", "string", pick(("retail", "finance", "health")), 0.5),
    PropSpec("First Name", "string", pick(("Aziza", "Rahul", "Mei", "Budi", "Priya")), 0.6),
    PropSpec("first_name", "string", pick(("aziza", "rahul", "mei", "budi")), 0.5),
    PropSpec("userID", "string", digits(7), 0.5),
    PropSpec("user_id", "string", digits(7), 0.7),
    PropSpec("Plan Type", "string", pick(("Free", "Plus", "Pro")), 0.5),
    PropSpec("plan_type", "string", pick(("free", "plus", "pro")), 0.4),
    PropSpec("planType", "string", pick(("FREE", "PLUS")), 0.3),
    PropSpec("p_alive", "float", ratio()),
    PropSpec("clv_30_day", "float", money(0, 90000)),
    PropSpec("bonza_voucher", "string", pick(("<NA>", "green", "pink")), 0.7),
    PropSpec("trx_cnt", "string", digits(1)),
    PropSpec("weekday_ratio", "string", pick(("0.7", "0.5", "0.9"))),
    PropSpec("weekend_ratio", "string", pick(("0.3", "0.5", "0.1"))),
    PropSpec("avg_basket_size", "string", pick(("47667.0", "25000.0", "61200.0"))),
    PropSpec("avg_customer_paid", "string", pick(("27833.0", "19000.0"))),
    PropSpec("fav_city", "string", pick(CITIES)),
    PropSpec("fav_hour", "string", pick(("8", "12", "21"))),
    PropSpec("fav_menu", "string", PRODUCT_NAME),
    PropSpec("coffee_ratio", "string", pick(("0.0", "0.5", "1.0"))),
    PropSpec("monetary_value", "float", money(0, 60000)),
    PropSpec("region", "string", pick(("ID", "IN", "SG"))),
    PropSpec("points", "integer", integer(0, 900)),
    PropSpec("roi_group", "string", pick(("Low ROI", "High ROI"))),
    PropSpec("uplift_group", "string", pick(("High Uplift", "Low Uplift"))),
    PropSpec("package", "string", pick(("None", "Signature", "Classic"))),
    PropSpec("userdob", "string", iso_day(1970, 2008)),
    PropSpec("usergender", "string", pick(("male", "female"))),
    PropSpec("is_donut_eligible", "string", pick(("yes", "no"))),
    PropSpec("Loyalty Tier", "string", pick(("Bronze", "Silver", "Gold"))),
    PropSpec("Total Orders", "integer", integer(0, 300)),
    PropSpec("Last Order Value", "float", money(10, 900), 0.8),
    PropSpec("Preferred Language", "string", pick(("en", "id", "hi")), 0.9),
    PropSpec("Marketing Opt In", "boolean", flag()),
    PropSpec("Signup Date", "date", epoch_between(1_600_000_000, 1_760_000_000)),
    PropSpec("Interests", "string_array", string_list(("coffee", "tea", "bakery", "deals"), 3)),
    PropSpec("referralCode", "string", token("REF", 6), 0.4),
    PropSpec("Home Store", "string", pick(CITIES), 0.8),
    PropSpec("Wallet Balance", "float", money(0, 500)),
    PropSpec("nps_score", "integer", integer(0, 10), 0.5),
    PropSpec("churn_risk", "float", ratio()),
    PropSpec("Acquisition Channel", "string", pick(("organic", "paid", "referral"))),
    PropSpec("Kids Count", "integer", integer(0, 3), 0.4),
    PropSpec("Favourite Category", "string", pick(("Coffee", "Bakery", "Food"))),
    PropSpec("App Rating", "integer", integer(1, 5), 0.3),
)

COLLIDING_GROUPS = (
    CollisionGroup("profile", None, ("Industry Of Traits", "industry_of_traits"), ALL_NORMALIZERS),
    CollisionGroup("profile", None, ("First Name", "first_name"), ALL_NORMALIZERS),
    CollisionGroup("profile", None, ("userID", "user_id"), ("lodash", "go-snakecase")),
    CollisionGroup("profile", None, ("Plan Type", "plan_type", "planType"), ALL_NORMALIZERS),
    CollisionGroup("event", "Product Viewed", ("Product Name", "product_name"), ALL_NORMALIZERS),
    CollisionGroup("event", "Search", ("Search Term", "searchTerm"), ALL_NORMALIZERS),
    CollisionGroup("event", "Added To Cart", ("CTAButton", "cta_button"), ("lodash",)),
)
