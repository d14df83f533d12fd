"""Labels around a number: "tracking number" (in five languages), labels of other things ("Order #",
"Bestellnummer", "IBAN"), and where they count: right before the number, on the line above, or as the
header of the number's column in a table or CSV export.

A label that *touches* the number ("Tracking number: X", "Ihre Sendungsnummer lautet X", a "Tracking #"
column) is a claim about that very number: `close_label` says so, and it lets the engine accept formats
without a check digit that a merely nearby "tracking" word does not. Pure functions on text.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

#: "Tracking number" labels: English words (also inside snake_case column names: "tracking_number"), and the
#: German, French, Spanish and Dutch compounds shops write.
#: The leading lookahead only skips positions where no alternative can start (every one begins with one of
#: these letters): the regex engine then tries the dozen alternatives at few places, four times faster.
TRACKING_LABEL = re.compile(
    r"(?=[twacspzn])"
    r"(?:(?<![^\W\d_])(?:track(?:ing)?|trk|waybill|awb|consignment)(?![^\W\d_])"
    r"|(?:tracking|sendungs|sendungsverfolgungs|paket|pakket|zending|zendings)[\s-]?(?:nummer|nr|code)\b"
    r"|\btrack\s*(?:&|&amp;|and|n|en)\s*trace\b|\bsendungsverfolgung|\bsuivi\b|\bseguimiento\b"
    r"|\b(?:shipment|parcel|package)\s*(?:number|no\b|nr\b|#|id\b)|\bpro\s*(?:number|no\b|#)"
    r"|\bnum[eé]ro\s+(?:de\s+|d['’]\s*)?(?:colis|envoi)\b|\bn[uú]mero\s+de\s+env[ií]o\b)", _I)

#: Labels of numbers that are NOT tracking numbers, when they sit right before the number.
_DECOY_WORDS = (
    r"order|po|p\.\s?o\.?|purchase\s+order|invoice|inv|phone|tel|telephone|mobile|cell|fax|call(?:\s+us)?"
    r"(?:\s+(?:at|on))?|text|sms|whatsapp|account|acct|customer|member|case|ticket|rma|return|sku|part|"
    r"model|serial|ref|reference|zip|postal\s+code|post\s?code|date|amount|total|price|cost|qty|quantity|booking|"
    r"reservation|confirmation|card|iban|vat|tax|receipt|transaction|payment|claim|quote|sales\s+order|so|"
    r"contract|license|licence|imei|upc|ean|isbn|barcode|id|usd|eur|gbp|cad|aud|chf|sek|nok|dkk"
    # German, French, Spanish, Dutch
    r"|bestell(?:ung|nummer)?|auftrag(?:snummer)?|rechnung(?:snummer)?|telefon(?:nummer)?|kunden(?:nummer)?|"
    r"artikel(?:nummer)?|plz|postleitzahl|(?:gesamt)?betrag|datum|commande|bon\s+de\s+commande|facture|"
    r"t[ée]l[ée]phone|client|r[ée]f[ée]rence(?:\s+article)?|montant(?:\s+total)?|code\s+postal|pedido|"
    r"orden\s+de\s+compra|factura|tel[ée]fono|cliente|referencia|importe(?:\s+total)?|fecha|c[óo]digo\s+postal|"
    r"bestelnummer|inkoopordernummer|factuurnummer|telefoon(?:nummer)?|klantnummer|artikelnummer|"
    r"(?:totaal)?bedrag")
#: Labels of numbers that are NOT tracking numbers, when they sit right before the number (a short verb
#: may come between: "Bestellnummer lautet", "número de pedido es").
DECOY_LABEL = re.compile(
    rf"\b(?P<label>{_DECOY_WORDS})(?:\s*(?:number|num|no|nr|id|code|#))?"
    r"(?P<verb>\s+(?:is|ist|lautet|es|est|was))?(?:\s*[.:#=\-\u2013(])*\s*$", _I)
#: A verb may follow a label only when it names a number or a value ("order number is", "Bestellnummer
#: lautet", "número de pedido es", "telefoon is", "totaalbedrag is"): "your order is 1Z..." says nothing
#: against the number.
_NUMBER_NOUN = re.compile(r"n[uú]m|\bnr\b|\bno\b|\bid\b|code|#|n°|phone|tel|dat|fecha|amount|total|betrag|"
                          r"bedrag|montant|importe|iban|zip|plz|post|price|cost|ref|compra|purchase", _I)
#: A column header naming something else ("Order number", "Bestellnummer"), the whole cell.
DECOY_HEADER = re.compile(rf"^\W*(?P<label>{_DECOY_WORDS})(?:[\s_]*(?:number|num|no|nr|id|code|#))?\W*$", _I)
_CURRENCY_BEFORE = re.compile(r"[$\u20ac\u00a3\u00a5]\s*$")
CURRENCY_BEFORE = re.compile(r"[$\u20ac\u00a3\u00a5]\s*$")

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = ord(" ")
_WORD = re.compile(r"[^\W\d_]+")
CLOSE_GAP = 24          # at most this many characters between a close label and its number


def fold_width(text: str) -> str:
    """Full-width forms ("：", "＃", "Ｏｒｄｅｒ") as ASCII, character for character (offsets unchanged)."""
    return text if text.isascii() else text.translate(_FULLWIDTH)


def _ends_with_label(text: str) -> bool:
    """`text` ends with a tracking label followed by at most two short words and punctuation ("Tracking
    number: ", "Your tracking ID is ", "numéro de suivi : "), no digits."""
    found = list(TRACKING_LABEL.finditer(text, max(0, len(text) - CLOSE_GAP - 40)))
    if not found:
        return False
    rest = text[found[-1].end():]
    return len(rest) <= CLOSE_GAP and not any(c.isdigit() for c in rest) and len(_WORD.findall(rest)) <= 2


def close_label(same_line_before: str, lines_above: list[str]) -> bool:
    """A tracking label right before the number on its line, or ending the line above when the number
    starts its own line (after a quote marker or bullet at most)."""
    if _ends_with_label(same_line_before):
        return True
    if _WORD.search(same_line_before) or any(c.isdigit() for c in same_line_before) or not lines_above:
        return False
    return _ends_with_label(lines_above[-1].rstrip())


def _cells(line: str) -> tuple[str, list[str]] | None:
    """(delimiter, cells) of a table or CSV row: the delimiter that occurs most in it (tab, ";", ",", "|")."""
    counts = {d: line.count(d) for d in ("\t", ";", ",", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    return (delimiter, line.split(delimiter)) if counts[delimiter] else None


def column_header(same_line_before: str, lines_above: list[str]) -> str | None:
    """What the header of the number's column says: "tracking", a decoy label ("order", "invoice"...) or
    None. The number's row is delimited (tab, ";", ",", "|"); the header is the nearest line above with
    letters, the same delimiter, and at least as many cells."""
    row = _cells(same_line_before + "x")
    if row is None:
        return None
    delimiter, cells = row
    column = len(cells) - 1
    for line in reversed(lines_above):
        if not _WORD.search(line):
            continue   # a "|---|---|" rule
        header = line.split(delimiter)
        if len(header) <= column:
            return None
        cell = header[column].strip(" \"'*|")
        if TRACKING_LABEL.search(cell):
            return "tracking"
        decoy = DECOY_HEADER.match(cell)
        return " ".join(decoy.group("label").lower().split()) if decoy else None
    return None


def decoy_before(segment: str, tracking_before: list[re.Match[str]], line_start: int, offset: int) -> str | None:
    """The decoy label ending `segment` (the last characters before the number), unless a tracking label on
    the same line touches it ("Tracking ID:", "tracking # (ref)"). `offset`: where `segment` starts in the
    text the `tracking_before` matches refer to; `line_start`: where the number's line starts there."""
    decoy = DECOY_LABEL.search(segment)
    if decoy and decoy.group("verb") and \
            not _NUMBER_NOUN.search(segment, max(0, decoy.start() - 12), decoy.start("verb")):
        decoy = None
    if decoy:
        decoy_at = offset + decoy.start()
        if any(m.start() >= line_start and m.end() >= decoy_at - 2 for m in tracking_before):
            return None
        return " ".join(decoy.group("label").lower().split())
    return "amount" if CURRENCY_BEFORE.search(segment) else None


def has_tracking_label(before: str, after: str, same_line_before: str) -> bool:
    """A "tracking" label on the number's line (before it, or just after it), or on a line just above when
    the number's own line starts with it (a list or table under a "Tracking numbers:" heading)."""
    if TRACKING_LABEL.search(same_line_before) or TRACKING_LABEL.search(after[:80]):
        return True
    return len(same_line_before.strip()) <= 24 and bool(TRACKING_LABEL.search(before))
