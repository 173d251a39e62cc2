"""The labelled set of `tandem bench pii`, written for the project: support messages with and
without personal data, each with the spans and kinds it holds.

Hand-written sentences (below) are filled with values of realistic shapes: cards of each
issuer that pass Luhn, grouped or not; emails of many forms; US numbers in every national
spelling and foreign ones with their country code; IBANs of several countries with valid
check digits. The messages without personal data carry the numbers support desks see all
day: order and ticket numbers, amounts, dates, times, versions, codes, tracking numbers, the
last four digits of a card, a card number mistyped (it fails Luhn).

Regenerate (deterministic): ``python -m bot.bench.pii_set``.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from stdnum import iban, luhn

OUT = Path(__file__).resolve().parents[2] / "handoff" / "privacy" / "data" / "messages.jsonl"
SEED = 12

WITH_DATA = [
    "Hi, my card {card} was charged twice for the March invoice",
    "The payment with card {card} keeps failing, can you check?",
    "please update my billing card to {card}",
    "I think someone used my card number {card} on your site",
    "card: {card} exp 09/27, why was it declined?",
    "Charge this one instead: {card}",
    "I see a charge of $49.99 on {card} that I don't recognise",
    "My old card {card} expired, new one is {card}",
    "can you refund to the card i paid with? {card}",
    "Visa {card}. It says payment method invalid",
    "My email is {email}, please send the receipt there",
    "I can't log in with {email}",
    "Change my account email from {email} to {email}",
    "you can reach me at {email} anytime",
    "The password reset mail never arrived at {email}",
    "Please cancel the subscription for {email}",
    "invoice should go to {email} not to me",
    "{email} is the admin on our team account",
    "hey it's {email}, my order is late",
    "Send the login link to {email} please!",
    "Account: {email}. I was billed twice this month.",
    "My colleague {email} needs access too",
    "You can reach me on {phone} after 5pm",
    "call me back at {phone}",
    "My phone number is {phone}, I never got the SMS code",
    "The number on my account is {phone}, please change it",
    "text me at {phone} when the order ships",
    "I tried calling {phone} but nobody answered",
    "my mobile {phone} isn't receiving the 2FA codes",
    "Please call {phone} to sort this out, it's urgent",
    "Phone: {phone}",
    "whatsapp {phone} if that's easier",
    "Please send the refund to {iban}",
    "My IBAN is {iban}, can you wire it back?",
    "Refund to IBAN {iban} please, the card is closed",
    "the direct debit should come from {iban} from now on",
    "We changed bank: new account {iban}",
    "Payout failed to {iban}? That's my business account",
    "I'm {email}, card {card}, the charge is wrong",
    "Email {email} or call {phone}, whichever works",
    "Name: Dana Whitfield, email {email}, phone {phone}",
    "Refund {iban}, contact {email}",
    "my card {card} and my number {phone} are on the account",
    "login {email} / tel. {phone} / card {card}",
    "Please contact my manager at {phone} or {email}",
    "The charge on {card} was for order #48213, contact me on {phone}",
    "Hello! I'm locked out. Email {email}, last login yesterday at 10:30",
    "Payment from {iban} bounced on 03/14/2024, amount €120.00",
    "call {phone} between 9 and 5, ticket 58213",
    "I paid $129.00 with {card} on 2024-03-14 and still no access",
]

WITHOUT_DATA = [
    "Order #{order} still hasn't arrived",
    "Where is my order {order}? It's been two weeks",
    "I was charged ${amount} on {date}",
    "The app crashes on version {version}",
    "I get error code {code} when I try to pay",
    "My ticket number is {ticket}, any update?",
    "Tracking number {tracking} shows no movement since {date}",
    "the card ending in {last4} was declined",
    "Invoice INV-{year}-{serial} is wrong, it says {qty} seats",
    "I bought {qty} licences on {date} at {time}",
    "Can I upgrade from the {qty}-seat plan?",
    "It's been {qty} days!!! Where is my refund of ${amount}?",
    "My postcode is {zip}, do you deliver there?",
    "The 2FA code {otp} doesn't work",
    "I tried {qty} times between {time} and {time}",
    "Reference {ticket}, paid {amount} EUR",
    "My account id is {account}",
    "I typed my card as {badcard} and it failed",
    "what is your phone number?",
    "how do I change my email address?",
    "I want to pay by bank transfer, what's your IBAN?",
    "Can I update the card on file?",
    "Can someone call me back please",
    "my email doesn't work with your login page",
    "the number you gave me is wrong",
    "Hi, I need help with my invoice",
    "Cancel my subscription please",
    "This is the third time I'm asking. Useless.",
    "Your site is down since {time}",
    "Order {order} and order {order} came in one box",
    "Is the {year} pricing still valid?",
    "The update {version} broke the export to CSV",
    "My IP is {ip}, is it blocked?",
    "Promo code SPRING{year} doesn't apply",
    "Serial number SN-{serial}{serial} on the device",
    "Charged {amount} USD twice on {date} and {date}",
    "Room for {qty} people, booking {ticket}",
    "The meeting id is {meeting}",
    "My order total was ${amount} but I got charged ${amount}",
    "Delivery window {time}-{time} on {date}",
    "Build {build} fails with exit code {qty}",
    "The SKU {sku} is out of stock again",
    "I've been a customer since {year}, {qty} orders so far",
    "Transaction {txn} shows pending",
    "Ticket #{ticket} was closed without an answer",
    "You sent me the wrong size, order {order}, item {sku}",
    "Page {qty} of the PDF is blank",
    "thanks!",
    "ok I'll wait",
    "good morning, is anyone there?",
]

PHONES = [
    "(415) 555-2671",
    "415-555-2671",
    "415.555.2671",
    "4155552671",
    "+1 415 555 2671",
    "(212) 555-0143",
    "212-555-0187",
    "+1 (646) 555-0199",
    "1-800-555-0199",
    "(312) 555-0164",
    "617 555 0123",
    "+1-206-555-0110",
    "+44 20 7946 0958",
    "+44 7911 123456",
    "+49 30 901820",
    "+49 151 23456789",
    "+33 1 42 68 53 00",
    "+33 6 12 34 56 78",
    "+91 98765 43210",
    "+61 2 9374 4000",
    "+34 612 345 678",
    "+31 6 12345678",
    "(503) 555-0175",
    "720-555-0148",
    "+1 303 555 0126",
]
EMAIL_USERS = [
    "dana.whitfield",
    "j.ortega",
    "mike_b",
    "priya+billing",
    "sam",
    "LEE.CHEN",
    "a.kowalski88",
    "support-team",
    "finance.dept",
    "o.brien",
    "noah.m",
    "lina_k",
    "t.nguyen2",
    "rachel.adler",
]
EMAIL_DOMAINS = [
    "gmail.com",
    "example.com",
    "acme-corp.io",
    "mail.co.uk",
    "outlook.com",
    "uni.edu",
    "startup.dev",
    "consulting.example.org",
    "yahoo.fr",
    "proton.me",
]
CARD_PREFIXES = [
    ("4", 16),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("3530", 16),
    ("4", 13),
]
IBAN_COUNTRIES = {
    "GB": "WEST{d:14}",
    "DE": "{d:18}",
    "FR": "{d:23}",
    "NL": "ABNA{d:10}",
    "ES": "{d:20}",
    "IT": "X{d:22}",
    "BE": "{d:12}",
}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def card(rng: random.Random) -> str:
    prefix, length = rng.choice(CARD_PREFIXES)
    body = prefix + _digits(rng, length - len(prefix) - 1)
    number = body + luhn.calc_check_digit(body)
    style = rng.choice(["space", "dash", "plain", "space"])
    if length == 15:
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i : i + 4] for i in range(0, length, 4)]
    return {"space": " ", "dash": "-", "plain": ""}[style].join(groups)


def email(rng: random.Random) -> str:
    return f"{rng.choice(EMAIL_USERS)}@{rng.choice(EMAIL_DOMAINS)}"


def iban_number(rng: random.Random) -> str:
    country, shape = rng.choice(sorted(IBAN_COUNTRIES.items()))
    while True:  # some countries have national check digits too: draw until they pass
        bban = re.sub(r"\{d:(\d+)\}", lambda m: _digits(rng, int(m.group(1))), shape)
        compact = country + iban.calc_check_digits(country + "00" + bban) + bban
        if iban.is_valid(compact):
            break
    if rng.random() < 0.3:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def bad_card(rng: random.Random) -> str:
    while True:
        number = "4" + _digits(rng, 15)
        if not luhn.is_valid(number):
            return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _fillers(rng: random.Random) -> dict[str, str]:
    return {
        "order": rng.choice([_digits(rng, 5), "ORD-" + _digits(rng, 6), _digits(rng, 7)]),
        "amount": f"{rng.randint(5, 2400)}.{_digits(rng, 2)}",
        "date": rng.choice(
            [
                f"{rng.randint(1, 12):02}/{rng.randint(1, 28):02}/2024",
                f"2024-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}",
                f"{rng.randint(1, 28)} March",
            ]
        ),
        "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "code": rng.choice(["0x800" + _digits(rng, 5), "E" + _digits(rng, 4), _digits(rng, 3)]),
        "ticket": rng.choice([_digits(rng, 5), "T-" + _digits(rng, 6), _digits(rng, 6)]),
        "tracking": rng.choice(
            ["1Z999AA1" + _digits(rng, 10), "9400" + _digits(rng, 18), "JD0146" + _digits(rng, 12)]
        ),
        "last4": _digits(rng, 4),
        "year": str(rng.randint(2015, 2025)),
        "serial": _digits(rng, 5),
        "qty": str(rng.randint(2, 60)),
        "time": f"{rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])}",
        "zip": _digits(rng, 5),
        "otp": _digits(rng, 6),
        "account": "ACC-" + _digits(rng, 8),
        "badcard": bad_card(rng),
        "ip": ".".join(str(rng.randint(1, 254)) for _ in range(4)),
        "meeting": f"{_digits(rng, 3)} {_digits(rng, 4)} {_digits(rng, 4)}",
        "build": _digits(rng, 4),
        "sku": f"SKU-{_digits(rng, 4)}-{rng.choice('ABCDEF')}",
        "txn": "txn_" + _digits(rng, 12),
    }


MAKERS = {
    "card": card,
    "email": email,
    "phone": lambda rng: rng.choice(PHONES),
    "iban": iban_number,
}
_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> dict[str, object]:
    fillers = _fillers(rng)
    text, spans, at = "", [], 0
    for match in _SLOT.finditer(template):
        text += template[at : match.start()]
        name = match.group(1)
        value = MAKERS[name](rng) if name in MAKERS else fillers[name]
        if name in MAKERS:
            spans.append({"start": len(text), "end": len(text) + len(value), "kind": name})
        else:
            fillers = _fillers(rng)  # a second {time} gets another value
        text += value
        at = match.end()
    text += template[at:]
    return {"text": text, "spans": spans}


# Written as they are, each once: what customers also do, some of which Tandem misses (a
# national number of another country than the default region; an email spelt out).
AS_WRITTEN = [
    ("my mobile is 07911 123456, I'm in London", [(13, 25, "phone")]),
    ("write to john dot miller at gmail dot com", [(9, 41, "email")]),
    ("card 4111 11111111 1111 was refused", [(5, 23, "card")]),
    ("Call me: +1 415 555 2671.", [(9, 24, "phone")]),
    ("(my email: Anna.Berg@Example.COM)", [(11, 32, "email")]),
]


def generate() -> list[dict[str, object]]:
    rng = random.Random(SEED)
    rows = [fill(t, rng) for t in WITH_DATA for _ in range(5)]
    rows += [fill(t, rng) for t in WITHOUT_DATA for _ in range(3)]
    rows += [
        {"text": text, "spans": [{"start": a, "end": b, "kind": k} for a, b, k in spans]}
        for text, spans in AS_WRITTEN
    ]
    return rows


def main() -> None:
    rows = generate()
    OUT.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} messages written to {OUT}")


if __name__ == "__main__":
    main()
