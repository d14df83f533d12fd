"""Couriers known to the engine: display name, Ship24 courier code, public tracking page, required fields.

Ship24 codes: `us-post` is confirmed by Ship24's own material; `ups`, `fedex` and `dhl` come from one
third-party mapping (api-notes.md §2.10, LOW confidence). For the others no code is confirmed, so they carry
None and Ship24 detects the courier itself (courierCode is optional; a wrong one is worse than none).
Tracking page templates come from the courier format descriptions (tracking_number_data), `{}` = number.
UPU S10 items have none there (the data lists the posts' postcode finders, not tracking pages): they get
Ship24's public tracking page (UNIVERSAL_TRACKING_URL), see the note at its definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Courier:
    """A courier as the rest of the app sees it. `code` is the engine's code ("ups", "canada_post", ...)."""

    code: str
    name: str
    ship24_code: str | None
    url_template: str | None = None
    #: Ship24 `requiredFields` the tracker needs for this courier (e.g. "destinationPostCode").
    required_fields: tuple[str, ...] = ()

    def tracking_url(self, number: str) -> str | None:
        """The courier's public tracking page for `number`, or None when the courier has no such page."""
        if not self.url_template:
            return None
        return self.url_template.format(quote(number, safe=""))


#: Ship24's public tracking page. Used for UPU S10 numbers: an S10 item passes from the issuing post (the
#: number's last two letters) to the destination's post, which Shipscan usually does not know, and each post
#: has its own site and URL scheme. Ship24 follows both legs for any S10 number, and it is the service
#: Shipscan registers the shipment with, so the page shows the events the app shows.
UNIVERSAL_TRACKING_URL = "https://www.ship24.com/tracking?p={}"

_LIST = (
    Courier("ups", "UPS", "ups", "https://www.ups.com/track?tracknum={}"),
    Courier("usps", "USPS", "us-post", "https://tools.usps.com/go/TrackConfirmAction?tLabels={}"),
    Courier("fedex", "FedEx", "fedex", "https://www.fedex.com/fedextrack/?trknbr={}"),
    Courier("dhl", "DHL", "dhl", "https://www.dhl.com/en/express/tracking.html?brand=DHL&AWB={}"),
    Courier("amazon", "Amazon Logistics", None, None),
    Courier("ontrac", "OnTrac", None, "https://www.ontrac.com/tracking/?number={}"),
    Courier("lasership", "LaserShip", None, None),
    Courier("canada_post", "Canada Post", None,
            "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}"),
    Courier("purolator", "Purolator", None, "https://www.purolator.com/en/shipping/tracker?searchValue={}"),
    Courier("dpd", "DPD", None, "https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber={}"),
    Courier("s10", "Postal service (UPU S10)", None, UNIVERSAL_TRACKING_URL),
    Courier("old_dominion", "Old Dominion Freight Line", None,
            "https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers={}"),
    Courier("yodel", "Yodel", None, "https://www.yodel.co.uk/tracking/{}"),
    Courier("yunexpress", "YunExpress", None, "https://www.yuntrack.com/parcelTracking?id={}"),
    Courier("canpar", "Canpar", None, "https://www.canpar.com/en/track/tracking.jsp?reference={}&locale=en"),
    Courier("landmark", "Landmark Global", None, "https://track.landmarkglobal.com/?search={}"),
    Courier("speedee", "Spee-Dee Delivery", None, "https://www.speedeedelivery.com/track/?tracking={}"),
    Courier("gofo", "GOFO Express", None, "https://www.gofoexpress.com/tracking.html?searchID={}"),
)

#: Engine courier code -> Courier, in the engine's order.
COURIERS: dict[str, Courier] = {courier.code: courier for courier in _LIST}


def courier_info(code: str | None) -> Courier | None:
    """The courier with engine code `code`, or None when unknown."""
    return COURIERS.get(code) if code else None
