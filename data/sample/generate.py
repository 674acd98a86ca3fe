"""Write the bundled sample corpus (train/dev/test, IOB2, two columns: token and tag).

Every sentence comes from the templates and name lists below, written for this
project; rerun `python data/sample/generate.py` to rebuild the files exactly.
"""
from __future__ import annotations

import random
from pathlib import Path

PEOPLE = ["Major Tom", "Ada Lovelace", "Grace Hopper", "Alan Turing", "Marie Curie", "Nikola Tesla",
          "Rosa Parks", "Jane Austen", "Tom Baker", "Lena Fischer", "Omar Haddad", "Priya Natarajan",
          "Kenji Watanabe", "Sofia Marquez", "Captain Nemo", "Colonel Mustard", "Elena Petrova",
          "Yusuf Okafor", "Ingrid Larsen", "Mateo Rossi", "Tom", "Lovelace", "Hopper", "Turing", "Curie"]
PLACES = ["London", "Paris", "New York", "Berlin", "Tokyo", "Nairobi", "Lima", "Oslo", "Cairo",
          "Sydney", "Mars", "the Moon", "Rio de Janeiro", "Lake Geneva", "Mount Kenya",
          "Edinburgh", "Quebec", "Kyoto", "Seville", "Baltic Sea", "Sahara"]
ORGS = ["NASA", "Ground Control", "the United Nations", "Acme Corp", "Globex", "Initech", "Reuters",
        "the European Space Agency", "Oxford University", "Bank of Lima", "Red Cross", "Vandelay Industries",
        "Northwind Traders", "Tyrell Corporation", "Umbrella Labs", "Stark Industries"]
MISC = ["French", "Japanese", "Olympic", "Nobel Prize", "Apollo", "English", "Brazilian", "Christmas",
        "World Cup", "Marxist", "Norwegian", "Space Oddity", "Euro", "Kenyan"]
TEMPLATES = [
    "{PER} is a great battle commander .",
    "{PER} left {LOC} on Tuesday .",
    "{PER} works for {ORG} in {LOC} .",
    "{ORG} said {PER} would visit {LOC} next week .",
    "The {MISC} team beat {LOC} 3 - 1 .",
    "{PER} won the {MISC} in 1998 .",
    "Officials at {ORG} denied the report .",
    "{LOC} and {LOC} signed a trade agreement .",
    "{PER} , a spokesman for {ORG} , declined to comment .",
    "Shares of {ORG} rose 4 percent in {LOC} .",
    "This is {PER} to {ORG} .",
    "{PER} told reporters in {LOC} that the talks had failed .",
    "The {MISC} film opened in {LOC} last night .",
    "Commander {PER} took his protein pills .",
    "{ORG} hired {PER} as chief engineer .",
    "Heavy rain hit {LOC} on Monday .",
    "{PER} met {PER} at the {MISC} summit .",
    "A {MISC} court in {LOC} sentenced two men .",
    "{PER} is floating far above {LOC} .",
    "The talks between {ORG} and {ORG} ended without a deal .",
    "Prices fell sharply on Friday .",
    "The weather was calm and the sky was clear .",
    "{PER} scored twice for {LOC} .",
    "{ORG} will open an office in {LOC} .",
    "{PER} , who was born in {LOC} , joined {ORG} in 2001 .",
]
KINDS = {"PER": PEOPLE, "LOC": PLACES, "ORG": ORGS, "MISC": MISC}


def sentence(rng: random.Random) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for word in rng.choice(TEMPLATES).split():
        if word.startswith("{") and word.endswith("}"):
            kind = word[1:-1]
            name = rng.choice(KINDS[kind]).split()
            lead = 1 if name[0] == "the" and len(name) > 1 else 0
            rows += [(token, "O") for token in name[:lead]]
            rows += [(token, ("B-" if i == 0 else "I-") + kind) for i, token in enumerate(name[lead:])]
        else:
            rows.append((word, "O"))
    return rows


def write(path: Path, count: int, rng: random.Random) -> None:
    blocks = ["\n".join(f"{t} {tag}" for t, tag in sentence(rng)) for _ in range(count)]
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


if __name__ == "__main__":
    here = Path(__file__).parent
    rng = random.Random(2026)
    for name, count in (("train.txt", 300), ("dev.txt", 80), ("test.txt", 80)):
        write(here / name, count, rng)
