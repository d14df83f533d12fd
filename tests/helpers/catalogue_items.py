"""What the presentation catalogue writes: the public test numbers, and decoys that must never become shipments.

- `load_numbers()`: every distinct valid number of ../shared/tracking_number_data (normalised), with the
  courier of its definition; skips the calling test where the folder is absent.
- `decoys()`: order and PO numbers, invoice numbers, phone numbers, postcodes, IBANs, dates, amounts and SKUs,
  each with the label a shop writes before it (in five languages); most are chosen so that they DO fit a
  tracking format (a 12-digit order number passing FedEx's check digit, 14 digits, 3 letters + 9 digits), or
  the test would prove nothing. Plus numbers that fail their check digit, written like tracking numbers.
- `Item`: one value ready for a presentation (label, link, carrier name...).

The tracking links follow the carriers' real tracking pages (several shapes each: number in the query or the
path); the catalogue rotates through them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.tracking import normalise, validate
from tests.helpers.shared import tracking_data_dir

#: How shops write each courier's name.
CARRIER_NAMES = {
    "ups": "UPS", "usps": "USPS", "fedex": "FedEx", "dhl": "DHL", "amazon": "Amazon", "ontrac": "OnTrac",
    "lasership": "LaserShip", "canada_post": "Canada Post", "purolator": "Purolator", "dpd": "DPD",
    "s10": "Royal Mail", "old_dominion": "Old Dominion", "yodel": "Yodel", "yunexpress": "YunExpress",
    "canpar": "Canpar", "landmark": "Landmark Global", "speedee": "Spee-Dee", "gofo": "GOFO Express",
}

#: Carriers' tracking pages, `{}` = the number (query parameters and paths, as the carriers link them).
CARRIER_LINKS = {
    "ups": ("https://www.ups.com/track?loc=en_US&tracknum={}&requester=ST/trackdetails",
            "https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums={}"),
    "usps": ("https://tools.usps.com/go/TrackConfirmAction?qtc_tLabels1={}",
             "https://tools.usps.com/go/TrackConfirmAction_input?origTrackNum={}"),
    "fedex": ("https://www.fedex.com/fedextrack/?trknbr={}&trkqual=2460~{}~FDEG",
              "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers={}&locale=en_US"),
    "dhl": ("https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={}",
            "https://nolp.dhl.de/nextt-online-public/set_identcodes.do?lang=de&idc={}",
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={}",
            "https://webtrack.dhlecs.com/orders?trackingNumber={}"),
    "amazon": ("https://track.amazon.com/tracking/{}", "https://www.amazon.com/gp/your-account/ship-track?id={}"),
    "ontrac": ("https://www.ontrac.com/tracking/?number={}",
               "https://www.ontrac.com/trackingresults.asp?tracking_number={}"),
    "lasership": ("https://www.lasership.com/track/{}", "https://www.lasership.com/track.php?track_number_input={}"),
    "canada_post": ("https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
                    "https://www.canadapost-postescanada.ca/track-reperage/fr#/details/{}"),
    "purolator": ("https://www.purolator.com/en/shipping/tracker?pin={}",
                  "https://www.purolator.com/en/shipping/tracker?searchValue={}"),
    "dpd": ("https://tracking.dpd.de/status/de_DE/parcel/{}", "https://www.dpd.co.uk/apps/tracking/?reference={}",
            "https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber={}"),
    "s10": ("https://www.royalmail.com/track-your-item#/tracking-results/{}",
            "https://www.laposte.fr/outils/suivre-vos-envois?code={}"),
    "old_dominion": ("https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers={}",),
    "yodel": ("https://www.yodel.co.uk/tracking/{}", "https://www.yodel.co.uk/track/{}?postcode=M1%201AA"),
    "yunexpress": ("https://www.yuntrack.com/parcelTracking?id={}", "https://www.yuntrack.com/track/detail?nums={}"),
    "canpar": ("https://www.canpar.com/en/tracking/delivery_options.htm?barcode={}",
               "https://www.canpar.com/en/track/TrackingAction.do?reference={}&locale=en"),
    "landmark": ("https://track.landmarkglobal.com/?search={}", "https://track.landmarkglobal.com/?trck={}"),
    "speedee": ("https://speedeedelivery.com/track-a-shipment/?barcode={}",),
    "gofo": ("https://www.gofoexpress.com/tracking.html?searchID={}",),
}

#: Shops' and tracking services' own pages that carry any carrier's number.
GENERIC_LINKS = (
    "https://shop-example.narvar.com/tracking/shop/{c}?tracking_numbers={}&order_number=SO-10023",
    "https://www.shop-example.de/sendungsverfolgung.html?piececode={}",
    "https://t.17track.net/en#nums={}",
    "https://parcelsapp.com/en/tracking/{}",
    "https://www.ship24.com/tracking?p={}",
    "https://shop-example.aftership.com/{c}/{}",
    "https://www.shop-example.com/apps/track-order?tracknum={}&carrier={c}",
)

#: "Tracking number" as shops write it, per language (rotated).
TRACKING_LABELS = {
    "en": ("Tracking number", "Tracking #", "Tracking ID", "Tracking No.", "Waybill", "Consignment number",
           "Shipment tracking", "Parcel number", "AWB", "Tracking code"),
    "de": ("Sendungsnummer", "Sendungsverfolgungsnummer", "Trackingnummer", "Paketnummer", "Tracking-Nummer"),
    "fr": ("numéro de suivi", "numéro de colis", "N° de suivi", "numéro d'envoi"),
    "es": ("número de seguimiento", "número de envío", "código de seguimiento", "n.º de seguimiento"),
    "nl": ("trackingnummer", "Track & Trace-code", "zendingnummer", "pakketnummer", "trackingcode"),
}


@dataclass(frozen=True)
class Number:
    """A valid public test number: normalised, its definition's courier and every courier it is valid for."""

    number: str
    courier: str
    format_id: str
    couriers: frozenset[str]


@dataclass(frozen=True)
class Item:
    """A value as a presentation needs it. `lead` goes right before the value where the presentation has no
    label of its own ("" for tracking numbers, "Order # " for an order number); `labels[lang]` is the label
    for presentations that write one; `link_text` and `url` are for link presentations."""

    value: str
    kind: str
    carrier: str
    labels: dict[str, str]
    url: str
    link_text: str = "Track your parcel"
    lead: str = ""
    expected: frozenset[str] = field(default_factory=frozenset)   # couriers a shipment may name (tracking only)

    @property
    def tracking(self) -> bool:
        return self.kind == "tracking"


def load_numbers() -> list[Number]:
    """Every distinct valid test number of the shared data, in data order; skips when the data is absent."""
    seen: dict[str, Number] = {}
    for path in sorted(Path(tracking_data_dir()).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for definition in data["tracking_numbers"]:
            for raw in definition["test_numbers"]["valid"]:
                number = normalise(raw)
                if number and number not in seen:
                    couriers = frozenset(m.courier for m in validate(number))
                    seen[number] = Number(number, data["courier_code"], definition.get("id") or definition["name"],
                                          couriers)
    return list(seen.values())


def invalid_numbers() -> list[tuple[str, str]]:
    """(number, courier) of the data's invalid vectors that no format accepts (a few are valid elsewhere)."""
    out = []
    for path in sorted(Path(tracking_data_dir()).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for definition in data["tracking_numbers"]:
            for raw in definition["test_numbers"]["invalid"]:
                number = normalise(raw)
                if number and not validate(number) and (number, data["courier_code"]) not in out:
                    out.append((number, data["courier_code"]))
    return out


def tracking_item(entry: Number, index: int, *, named: bool) -> Item:
    """`entry` as a tracking number; `index` rotates labels and links. `named`: the presentation names the
    carrier (then the shipment must name the definition's courier; else any courier it is valid for)."""
    links = CARRIER_LINKS[entry.courier]
    labels = {lang: options[index % len(options)] for lang, options in TRACKING_LABELS.items()}
    return Item(entry.number, "tracking", CARRIER_NAMES[entry.courier], labels,
                links[index % len(links)].replace("{}", entry.number),
                expected=frozenset({entry.courier}) if named else entry.couriers)


def generic_link(entry: Number, index: int) -> str:
    template = GENERIC_LINKS[index % len(GENERIC_LINKS)]
    return template.replace("{c}", entry.courier).replace("{}", entry.number)


def failing_check_digit(numbers: list[Number]) -> list[tuple[str, str]]:
    """(number, courier): one valid number per check-digit format with its last digit changed so that no
    format accepts it any more."""
    out: list[tuple[str, str]] = []
    formats: set[str] = set()
    for entry in numbers:
        if entry.format_id in formats or not any(m.has_check_digit for m in validate(entry.number)):
            continue
        for digit in "0123456789":
            wrong = entry.number[:-1] + digit
            if wrong != entry.number and not validate(wrong):
                out.append((wrong, entry.courier))
                formats.add(entry.format_id)
                break
    return out


# --- decoys ------------------------------------------------------------------------------------------

#: Labels of things that are not tracking numbers, per language.
DECOY_LABELS = {
    "order": {"en": "Order number", "de": "Bestellnummer", "fr": "numéro de commande", "es": "número de pedido",
              "nl": "bestelnummer"},
    "po": {"en": "PO #", "de": "Auftragsnummer", "fr": "bon de commande", "es": "orden de compra",
           "nl": "inkoopordernummer"},
    "invoice": {"en": "Invoice no.", "de": "Rechnungsnummer", "fr": "numéro de facture", "es": "número de factura",
                "nl": "factuurnummer"},
    "phone": {"en": "Phone", "de": "Telefon", "fr": "téléphone", "es": "teléfono", "nl": "telefoon"},
    "postcode": {"en": "ZIP code", "de": "PLZ", "fr": "code postal", "es": "código postal", "nl": "postcode"},
    "iban": {"en": "IBAN", "de": "IBAN", "fr": "IBAN", "es": "IBAN", "nl": "IBAN"},
    "date": {"en": "Date", "de": "Datum", "fr": "date", "es": "fecha", "nl": "datum"},
    "amount": {"en": "Total", "de": "Gesamtbetrag", "fr": "montant total", "es": "importe total", "nl": "totaalbedrag"},
    "sku": {"en": "SKU", "de": "Artikelnummer", "fr": "référence article", "es": "referencia", "nl": "artikelnummer"},
    "customer": {"en": "Customer number", "de": "Kundennummer", "fr": "numéro client", "es": "número de cliente",
                 "nl": "klantnummer"},
}


def _fitting(start: int, width: int, wanted: str, step: int = 7919) -> str:
    """The first number from `start` (stepping by `step`) of `width` digits that some format accepts, and
    one whose format id contains `wanted`: a decoy that a check digit alone would take for a tracking number."""
    value = start
    while True:
        text = str(value).zfill(width)[:width]
        if any(wanted in m.format_id for m in validate(text)):
            return text
        value += step


def _decoy_values() -> list[tuple[str, str]]:
    """(kind, value as written)."""
    return [
        ("order", _fitting(601201700000, 12, "fedex_12")), ("order", _fitting(4711000000, 10, "dhl_express")),
        ("order", _fitting(20260501000000, 14, "dhl_ecommerce_14")), ("order", "113-4567890-1234567"),
        ("order", "SO-" + _fitting(1002300000, 10, "dhl_express")), ("order", _fitting(100230000000, 12, "purolator")),
        ("po", _fitting(4500123456, 10, "dhl_express")), ("po", "PO-" + _fitting(450012345600, 12, "fedex")),
        ("invoice", _fitting(40012345678901, 14, "dhl")), ("invoice", "INV-2026-" + _fitting(1234567890, 10, "dhl")),
        ("invoice", _fitting(2026000123450000, 16, "canada_post")),
        ("phone", "+1 (555) 201-4433"), ("phone", "+49 30 1234 5678"), ("phone", "0800 123 4567"),
        ("phone", "1-800-463-3339"), ("phone", "+44 20 7946 0958"), ("phone", "+33 1 42 68 53 00"),
        ("phone", _fitting(5552014400, 10, "dhl_express", 1)),
        ("postcode", "90210-1234"), ("postcode", "SW1A 1AA"), ("postcode", "K1A 0B1"), ("postcode", "1012 AB"),
        ("iban", "DE89 3704 0044 0532 0130 00"), ("iban", "GB29 NWBK 6016 1331 9268 19"),
        ("iban", "FR14 2004 1010 0505 0001 3M02 606"), ("iban", "NL91ABNA0417164300"),
        ("date", "2026-05-01"), ("date", "01.05.2026"), ("date", "05/01/2026 14:30"), ("date", "20260501143000"),
        ("amount", "$1,234.56"), ("amount", "€ 12.345.678,90"), ("amount", _fitting(1234567890, 10, "dhl") + ".00"),
        ("sku", "KYV123456789"), ("sku", "CN1234567890"), ("sku", "JVG123456789"),
        ("sku", "MUG-BLUE-" + _fitting(4006381333, 10, "dhl")),
        ("customer", _fitting(100200300400, 12, "fedex")), ("customer", "C1004400017"),
    ]


def _fitting_carrier(value: str, index: int) -> str:
    """The name of a courier whose format the decoy fits (the hardest company for it), else any."""
    digits = "".join(c for c in value if c.isalnum())
    for start in range(len(digits)):
        for end in range(len(digits), start + 9, -1):
            matches = validate(digits[start:end])
            if matches:
                return CARRIER_NAMES[matches[0].courier]
    return list(CARRIER_NAMES.values())[index % len(CARRIER_NAMES)]


def decoy_items() -> list[Item]:
    """Every decoy as an Item: its own label, a shop link holding it, and a carrier named (as shipping mails
    do): the courier whose format the decoy fits, where there is one."""
    items = []
    for index, (kind, value) in enumerate(_decoy_values()):
        labels = DECOY_LABELS[kind]
        carrier = _fitting_carrier(value, index)
        url = f"https://www.shop-example.com/account/{kind}/{value.replace(' ', '')}?view=details"
        items.append(Item(value, kind, carrier, labels, url, link_text=f"View your {labels['en'].lower()}",
                          lead=f"{labels['en']}: "))
    return items


def check_digit_decoys(numbers: list[Number]) -> list[Item]:
    """Numbers that fail their check digit (mutated valid ones, and the data's invalid vectors), written
    exactly like tracking numbers: tracking label, carrier named, carrier link."""
    items = []
    for index, (value, courier) in enumerate(failing_check_digit(numbers) + invalid_numbers()):
        links = CARRIER_LINKS[courier]
        labels = {lang: options[index % len(options)] for lang, options in TRACKING_LABELS.items()}
        items.append(Item(value, "bad_check_digit", CARRIER_NAMES[courier], labels,
                          links[index % len(links)].replace("{}", value)))
    return items
