"""Generated test sentences for the free-text PHI detectors (deidc/runtime/text/detectors/).

Each line of bench/detector-corpus/{tuning,held-out}.jsonl is one sentence in the shape of
radiology or clinical free text (AdditionalPatientHistory, MedicalAlerts, an SR TextValue, a
study or series description, a comment):

    {"text": "...", "spans": [{"start": 12, "end": 27, "kind": "person"}, ...],
     "tolerated": [{"start": 8, "end": 11}], "shape": "person-07", "case": "upper"}

`spans` are the PHI, by detector kind (address, person, phone, email, url, id, date; offsets
into `text`, end exclusive). `tolerated` are cue words next to a value (the `Mr.` of a name, the
`MRN:` of a number): removing them is neither PHI found nor over-removal. Everything else in a
sentence must stay, and every sentence also carries clinical text that looks like PHI to a naive
rule (MASS, BROWN, MAY, GRAY, HOPE, AP, LAT, PA, 5 MM, 120/80, L4-L5, 3/4, series and image
numbers, eponyms like Crohn disease).

The two halves differ in more than their sentences, so that the held-out half measures what a
detector does on text it was not tuned on:
- templates (sentence shapes): in each kind's group, templates 1 and 4 of every 5 are held out;
- slot pools: first names, surnames, street names, cities/ZIPs, Canadian and UK towns, e-mail and
  web domains and negative phrases are split by a hash of the value (60 / 40); relation words,
  street suffixes, ID labels and some phone / date / address layouts are split by hand (a shared
  core plus words and layouts that only one half has).
Names come from the 1990 US Census lists of the `names` package (sampled across all ranks, not
only the common names), US cities, states, ZIP codes and area codes from the `zipcodes` package.
Everything is seeded: the same --seed gives byte-identical files.

    .venv/bin/python bench/detector_corpus.py               # writes bench/detector-corpus/
    .venv/bin/python bench/detector_corpus.py --per-half 3000 --seed 7 --out /tmp/dc
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import names as names_pkg
import zipcodes

HALVES = ("tuning", "held-out")
KINDS = ("address", "person", "phone", "email", "url", "id", "date")
TOL = "~"  # kind of a tolerated piece
Piece = tuple[str, str | None]  # text, kind (None: plain text that must stay)
OUT = Path(__file__).parent / "detector-corpus"


def side(value: str, share: float = 0.6) -> str:
    """The half a pool value belongs to: a stable hash, `share` of the values to tuning."""
    h = int(hashlib.sha1(f"deidc-detector-corpus:{value.lower()}".encode()).hexdigest()[:8], 16)
    return HALVES[0] if h % 1000 < share * 1000 else HALVES[1]


def split(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {h: [] for h in HALVES}
    for v in values:
        out[side(v)].append(v)
    return out


def by_hand(both: list[str], tuning: list[str], held_out: list[str]) -> dict[str, list[str]]:
    return {HALVES[0]: both + tuning, HALVES[1]: both + held_out}


# ---------------------------------------------------------------------------------------------
# Source data
# ---------------------------------------------------------------------------------------------

def census(file: str) -> list[str]:
    path = Path(names_pkg.__file__).parent / file
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def name_case(upper: str) -> str:
    """SMITH -> Smith, MCDONALD -> McDonald, SMITH-JONES -> Smith-Jones."""
    word = "-".join(p.capitalize() for p in upper.split("-"))
    if len(word) > 4 and word.startswith("Mc"):
        word = "Mc" + word[2:].capitalize()
    return word


STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico",
}

# USPS Publication 28, appendix C1 (primary name, common abbreviations), plus UK/Canadian forms.
SUFFIXES: dict[str, list[str]] = {
    "Street": ["St", "St.", "Str"], "Avenue": ["Ave", "Ave.", "Av"], "Road": ["Rd", "Rd."],
    "Drive": ["Dr", "Dr."], "Lane": ["Ln", "Ln."], "Boulevard": ["Blvd", "Blvd."], "Court": ["Ct", "Ct."],
    "Place": ["Pl", "Pl."], "Terrace": ["Ter", "Terr"], "Way": ["Wy"], "Circle": ["Cir", "Cir."],
    "Trail": ["Trl"], "Parkway": ["Pkwy", "Pky"], "Highway": ["Hwy"], "Crescent": ["Cres", "Cresc"],
    "Close": ["Cl"], "Row": [], "Loop": ["Lp"], "Pike": ["Pk"], "Alley": ["Aly"], "Square": ["Sq"],
    "Bend": ["Bnd"], "Bluff": ["Blf"], "Causeway": ["Cswy"], "Cove": ["Cv"], "Creek": ["Crk"],
    "Crossing": ["Xing"], "Expressway": ["Expy"], "Gardens": ["Gdns"], "Glen": ["Gln"],
    "Green": ["Grn"], "Grove": ["Grv"], "Harbor": ["Hbr"], "Heights": ["Hts"], "Hollow": ["Holw"],
    "Knoll": ["Knl"], "Landing": ["Lndg"], "Manor": ["Mnr"], "Meadows": ["Mdws"], "Mews": [],
    "Orchard": ["Orch"], "Path": [], "Plaza": ["Plz"], "Point": ["Pt"], "Ridge": ["Rdg"],
    "Run": [], "Spur": [], "Station": ["Sta"], "Trace": ["Trce"], "Turnpike": ["Tpke"],
    "Valley": ["Vly"], "View": ["Vw"], "Vista": ["Vis"], "Walk": [], "Rise": [], "Wynd": [],
    "Pass": [], "Oval": [], "Estates": ["Est"], "Junction": ["Jct"], "Village": ["Vlg"],
    "Center": ["Ctr"], "Route": ["Rte"], "Freeway": ["Fwy"], "Extension": ["Ext"], "Park": [],
}
CORE_SUFFIXES = ["Street", "Avenue", "Road", "Drive", "Lane", "Boulevard", "Court"]

STREET_WORDS = [
    # trees, nature, landmarks, common US street names; surnames are added from the census list
    "Oak", "Maple", "Pine", "Cedar", "Elm", "Birch", "Willow", "Aspen", "Juniper", "Sycamore",
    "Magnolia", "Dogwood", "Hickory", "Chestnut", "Walnut", "Poplar", "Cypress", "Laurel", "Spruce",
    "Hemlock", "Redwood", "Alder", "Locust", "Mulberry", "Hawthorn", "Linden", "Beech", "Holly",
    "Lake", "Hill", "River", "Ridge", "Meadow", "Valley", "Spring", "Brook", "Forest", "Prairie",
    "Canyon", "Mesa", "Summit", "Harbor", "Bay", "Shore", "Creek", "Falls", "Glen", "Orchard",
    "Sunset", "Sunrise", "Hillcrest", "Lakeview", "Fairview", "Riverside", "Highland", "Woodland",
    "Park", "Church", "Mill", "Market", "School", "Railroad", "Depot", "Bridge", "Canal", "Quarry",
    "Main", "Broad", "Front", "High", "Center", "Union", "Liberty", "Franklin", "Jefferson",
    "Madison", "Monroe", "Lincoln", "Jackson", "Adams", "Grant", "Cleveland", "Garfield",
    "Old Mill", "Fox Hollow", "Deer Creek", "Red Oak", "Silver Lake", "Stone Ridge", "Eagle Rock",
    "Bear Creek", "Country Club", "Golf Course", "Cherry Blossom", "Indian Hill", "Green Valley",
    "Rolling Hills", "Twin Oaks", "Quail Run", "Cottonwood", "Mockingbird", "Bluebonnet",
    "Pecan", "Palmetto", "Sassafras", "Tamarack", "Buckeye", "Sagebrush", "Yucca", "Saguaro",
    "Kamehameha", "Peachtree", "Wisteria", "Primrose", "Heather", "Lilac", "Clover", "Thistle",
]
ORDINALS = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th", "12th",
            "14th", "17th", "21st", "23rd", "32nd", "42nd", "53rd", "68th", "101st", "125th",
            "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth"]
DIRS = ["N", "S", "E", "W", "NE", "NW", "SE", "SW", "North", "South", "East", "West", "N.", "S.", "E.", "W."]

# Canadian cities with province; postcodes are generated in the right pattern.
CA_CITIES = [
    ("Toronto", "ON"), ("Ottawa", "ON"), ("Hamilton", "ON"), ("London", "ON"), ("Kingston", "ON"),
    ("Sudbury", "ON"), ("Thunder Bay", "ON"), ("Windsor", "ON"), ("Barrie", "ON"), ("Guelph", "ON"),
    ("Montreal", "QC"), ("Quebec City", "QC"), ("Sherbrooke", "QC"), ("Gatineau", "QC"),
    ("Trois-Rivieres", "QC"), ("Laval", "QC"), ("Vancouver", "BC"), ("Victoria", "BC"),
    ("Kelowna", "BC"), ("Nanaimo", "BC"), ("Kamloops", "BC"), ("Calgary", "AB"), ("Edmonton", "AB"),
    ("Red Deer", "AB"), ("Lethbridge", "AB"), ("Winnipeg", "MB"), ("Brandon", "MB"),
    ("Regina", "SK"), ("Saskatoon", "SK"), ("Halifax", "NS"), ("Sydney", "NS"), ("Moncton", "NB"),
    ("Fredericton", "NB"), ("Saint John", "NB"), ("St. John's", "NL"), ("Charlottetown", "PE"),
    ("Whitehorse", "YT"), ("Yellowknife", "NT"), ("Iqaluit", "NU"),
]
CA_STREETS = ["Yonge", "Bloor", "Dundas", "Queen", "King", "Bay", "Rideau", "Bank", "Portage",
              "Jasper", "Whyte", "Granville", "Robson", "Barrington", "Water", "Sherbrooke",
              "Saint-Denis", "Sainte-Catherine", "Wellington", "Spadina", "Albert", "Victoria",
              "Kent", "Elgin", "Cartier", "Laurier", "Champlain", "Maisonneuve"]
UK_TOWNS = ["London", "Manchester", "Leeds", "Bristol", "Sheffield", "Nottingham", "Leicester",
            "Coventry", "Reading", "Oxford", "Cambridge", "York", "Bath", "Exeter", "Plymouth",
            "Norwich", "Ipswich", "Derby", "Stoke-on-Trent", "Wolverhampton", "Sunderland",
            "Edinburgh", "Glasgow", "Aberdeen", "Dundee", "Inverness", "Cardiff", "Swansea",
            "Newport", "Belfast", "Derry", "Brighton", "Southampton", "Portsmouth", "Canterbury",
            "Chester", "Lancaster", "Carlisle", "Durham", "Harrogate"]
UK_STREETS = ["Station", "High", "Church", "Victoria", "Mill", "Park", "London", "Queens",
              "Kings", "Manor", "Springfield", "Albert", "Windsor", "Grange", "Stanley", "Chapel",
              "Orchard", "Meadow", "Abbey", "Priory", "Castle", "Bridge", "Marsh", "Heath"]
UK_SUFFIXES = ["Road", "Street", "Lane", "Close", "Crescent", "Gardens", "Mews", "Terrace",
               "Grove", "Drive", "Avenue", "Place", "Row", "Way", "Rise", "Walk", "Square", "Green"]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

MAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
                "comcast.net", "att.net", "verizon.net", "protonmail.com", "msn.com", "live.com",
                "me.com", "sbcglobal.net", "cox.net", "charter.net", "mail.com", "gmx.com",
                "yahoo.co.uk", "btinternet.com", "shaw.ca", "rogers.com", "sympatico.ca", "web.de",
                "bellsouth.net", "earthlink.net", "juno.com", "ymail.com", "fastmail.com", "zoho.com"]
ORG_WORDS = ["radiology", "imaging", "health", "medical", "clinic", "hospital", "care", "ortho",
             "cardio", "diagnostics", "family", "pediatrics", "oncology", "spine", "vascular"]
TLDS = ["com", "org", "net", "edu", "health", "us", "ca", "co.uk", "io", "info", "org.uk", "care"]

# Relation, role and contact words that introduce a person.
RELATIONS = by_hand(
    ["wife", "husband", "son", "daughter", "mother", "father", "next of kin", "guardian",
     "caregiver", "emergency contact"],
    ["sister", "brother", "spouse", "parent", "friend", "girlfriend", "boyfriend", "neighbor",
     "case manager", "home health aide", "social worker", "nurse"],
    ["niece", "nephew", "grandson", "granddaughter", "stepmother", "stepfather", "partner",
     "fiancee", "aunt", "uncle", "health care proxy", "power of attorney", "roommate",
     "foster mother", "sister-in-law", "son-in-law", "legal guardian", "interpreter", "landlord"],
)
TITLES = by_hand(["Mr.", "Ms.", "Mrs.", "Dr."], ["Miss", "Mr", "Ms"], ["Mx.", "Prof.", "Sr.", "Rev.", "Dr"])

# ID labels: label variants, value maker name.
ID_LABELS = {
    HALVES[0]: [
        (["MRN", "MRN:", "MRN#", "MR#", "Med Rec #"], "mrn"),
        (["SSN", "SSN:", "SS#", "Social Security No."], "ssn"),
        (["Acct", "Acct#", "Account #", "Account No."], "acct"),
        (["Member ID", "Insurance ID", "Ins ID"], "member"),
        (["Medicare #", "Medicare ID"], "mbi"),
        (["Patient ID", "Pt ID"], "mrn"),
        (["Accession #", "Acc#"], "acc"),
        (["Claim #"], "acct"),
    ],
    HALVES[1]: [
        (["MRN", "MRN:", "Medical Record Number", "Med Rec No.", "Chart #", "Unit No."], "mrn"),
        (["SSN", "Soc Sec #", "Social Security Number", "SS No."], "ssn"),
        (["Acct", "Acct No:", "Billing Acct", "Encounter #", "FIN", "Visit #"], "acct"),
        (["Member #", "Subscriber ID", "Policy #", "Group No.", "Medicaid ID"], "member"),
        (["MBI", "HICN"], "mbi"),
        (["Health Card", "OHIP #"], "ohip"),
        (["NHS No.", "NHS number"], "nhs"),
        (["Driver's License", "DL#", "Passport No."], "license"),
        (["Case #", "Req #", "Order #"], "acc"),
    ],
}

# Clinical text that must stay (no PHI in it), split between the halves by a hash.
NEGATIVE_PHRASES = [
    "No mass identified", "Mass effect on the lateral ventricle", "may represent atelectasis",
    "May be related to prior surgery", "Gray matter heterotopia", "gray-white differentiation preserved",
    "Brown fat uptake in the neck", "Brown-Sequard syndrome suspected", "AP and LAT views",
    "PA and lateral chest", "AP PORTABLE", "LAT DECUB", "5 MM nodule", "3.2 x 1.5 cm lesion",
    "BP 120/80", "disc bulge at L4-L5", "C5-C6 foraminal narrowing", "T11-T12 compression",
    "series 4 image 112", "Se 3 Im 45", "grade 3/4 reflux", "strength 4/5 in the left leg",
    "EF 55-60%", "HR 72 bpm", "SpO2 98% on room air", "CTDIvol 12.3 mGy", "DLP 450 mGy-cm",
    "120 kVp", "BI-RADS 4", "LI-RADS 3", "TI-RADS 2", "Hope to compare with priors",
    "Patient hopes to avoid surgery", "Frank hemorrhage is absent", "no frank pus", "Long axis 4 cm",
    "short TR sequence", "Chase the contrast bolus", "Grant criteria not met", "White matter disease",
    "Young adult with headache", "Rose-colored fluid aspirated", "Hill-Sachs lesion", "Bankart lesion",
    "Baker cyst", "Crohn disease", "Graves disease", "Hodgkin lymphoma", "Parkinson disease",
    "Paget disease of bone", "Cushing syndrome", "Wilson disease", "Bell palsy", "Colles fracture",
    "Jones fracture", "Smith fracture", "Morton neuroma", "Meckel diverticulum", "Schatzki ring",
    "Zenker diverticulum", "Barrett esophagus", "Hashimoto thyroiditis", "Addison disease",
    "Chiari I malformation", "Dandy-Walker variant", "Legg-Calve-Perthes", "Osgood-Schlatter",
    "Grade 2 Salter-Harris", "1:1000 epinephrine", "Ratio 0.5", "1/2 tablet", "x2 views",
    "Follow-up in 6 months", "3 month follow-up", "Dose 5 mg IV", "Contrast 100 mL Omnipaque 350",
    "Fleischner 2017 criteria", "ICD-10 R91.1", "CPT 71250", "ACR appropriateness", "TR 2000 TE 90",
    "T2 FLAIR hyperintensity", "DWI b=1000", "ADC 0.8", "SUVmax 4.5", "Hounsfield -20", "Level 3",
    "Room 4B", "Bay 12", "Stat read", "Priority 2", "Protocol 1.4", "Version 2.0.1",
    "Gleason 3+4=7", "Bosniak IIF", "Kellgren-Lawrence grade 2", "Tanner stage 3", "Apgar 8/9",
    "Glasgow Coma Scale 15", "NIHSS 4", "Mallampati II", "ASA class 3", "Reader study arm B",
]
NEGATIVES = split(NEGATIVE_PHRASES)
EPONYMS = ["Crohn", "Graves", "Hodgkin", "Parkinson", "Paget", "Cushing", "Wilson", "Bell",
           "Colles", "Jones", "Smith", "Morton", "Meckel", "Baker", "Addison", "Hashimoto"]


# ---------------------------------------------------------------------------------------------
# Pools and slot makers
# ---------------------------------------------------------------------------------------------

@dataclass
class Pools:
    half: str
    female: list[str] = field(default_factory=list)
    male: list[str] = field(default_factory=list)
    surnames: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    cities: list[dict[str, object]] = field(default_factory=list)
    ca_cities: list[tuple[str, str]] = field(default_factory=list)
    uk_towns: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)
    mail_domains: list[str] = field(default_factory=list)


def build_pools() -> dict[str, Pools]:
    pools = {h: Pools(h) for h in HALVES}
    female = [name_case(n) for n in census("dist.female.first")]
    male = [name_case(n) for n in census("dist.male.first")]
    surnames = [name_case(n) for n in census("dist.all.last")[:40000]]
    for h in HALVES:
        p = pools[h]
        p.female = [n for n in female if side(n) == h]
        p.male = [n for n in male if side(n) == h]
        p.surnames = [n for n in surnames if side(n) == h]
        p.streets = [w for w in STREET_WORDS if side(w) == h] + \
            [s for s in surnames[100:3000] if side("street:" + s) == h]
        p.suffixes = CORE_SUFFIXES + sorted(s for s in SUFFIXES if s not in CORE_SUFFIXES and side("sfx:" + s) == h)
        p.ca_cities = [c for c in CA_CITIES if side(c[0]) == h]
        p.uk_towns = [t for t in UK_TOWNS if side("uk:" + t) == h]
        p.mail_domains = [d for d in MAIL_DOMAINS if side(d) == h]
    for e in zipcodes.list_all():
        if e["zip_code_type"] == "STANDARD" and e["active"] and e["state"] in STATES:
            pools[side(f"{e['city']}|{e['state']}")].cities.append(e)
    for h in HALVES:
        p = pools[h]
        cities = sorted({str(c["city"]) for c in p.cities})
        p.orgs = [re.sub(r"[^a-z]", "", c.lower()) for c in cities[::7]]
    return pools


def pick_ranked(rng: random.Random, pool: list[str]) -> str:
    """Half the time one of the 300 commonest, half the time any rank (the census tail)."""
    if rng.random() < 0.5:
        return rng.choice(pool[:300])
    return rng.choice(pool)


class Gen:
    """Fills the slots of templates for one half."""

    def __init__(self, pools: Pools, rng: random.Random) -> None:
        self.p, self.rng, self.half = pools, rng, pools.half
        self.held = self.half == HALVES[1]

    # -- people -------------------------------------------------------------------------------
    def first(self) -> str:
        r = self.rng
        return pick_ranked(r, self.p.female if r.random() < 0.5 else self.p.male)

    def last(self) -> str:
        r = self.rng
        name = pick_ranked(r, self.p.surnames)
        if r.random() < 0.06:
            name += "-" + pick_ranked(r, self.p.surnames)
        return name

    def full_name(self) -> str:
        r, x = self.rng, self.rng.random()
        first, last = self.first(), self.last()
        if x < 0.55:
            return f"{first} {last}"
        if x < 0.70:
            return f"{first} {r.choice(string.ascii_uppercase)}. {last}"
        if x < 0.80:
            return f"{last}, {first}"
        if x < 0.86:
            return f"{first[0]}. {last}"
        if x < 0.92 and self.held:
            return f"{first} {self.first()} {last}"
        if x < 0.96:
            return f"{first} {last} Jr." if self.held else f"{first} {r.choice(string.ascii_uppercase)} {last}"
        return f"{last} {first}".upper() if self.held else f"{first} {last}"

    def s_person(self) -> list[Piece]:
        return [(self.full_name(), "person")]

    def s_first(self) -> list[Piece]:
        return [(self.first(), "person")]

    def s_last(self) -> list[Piece]:
        return [(self.last(), "person")]

    def s_tperson(self) -> list[Piece]:
        r = self.rng
        title = r.choice([t for t in TITLES[self.half] if not t.startswith("Dr")])
        name = self.last() if r.random() < 0.5 else f"{self.first()} {self.last()}"
        return [(title + " ", TOL), (name, "person")]

    def s_dr(self) -> list[Piece]:
        r = self.rng
        title = r.choice([t for t in TITLES[self.half] if t.startswith("Dr")] + ["Dr."])
        x = r.random()
        name = self.last() if x < 0.45 else f"{self.first()} {self.last()}" if x < 0.85 else \
            f"{self.first()[0]}. {self.last()}"
        out: list[Piece] = [(title + " ", TOL), (name, "person")]
        if r.random() < 0.2:
            out.append((r.choice([", MD", ", M.D.", ", DO"]), TOL))
        return out

    def s_pn(self) -> list[Piece]:
        """DICOM person-name form: LAST^FIRST or LAST^FIRST^M."""
        r = self.rng
        parts = [self.last().upper(), self.first().upper()]
        if r.random() < 0.3:
            parts.append(r.choice(string.ascii_uppercase))
        return [("^".join(parts), "person")]

    def s_rel(self) -> list[Piece]:
        return [(self.rng.choice(RELATIONS[self.half]), None)]

    # -- places -------------------------------------------------------------------------------
    def city(self) -> dict[str, object]:
        return self.rng.choice(self.p.cities)

    def street_line(self, unit: bool = True) -> str:
        r = self.rng
        num = str(r.choice([r.randint(1, 99), r.randint(100, 999), r.randint(1000, 9999), r.randint(10000, 99999)]))
        if r.random() < 0.05:
            num += r.choice("ABC")
        x = r.random()
        name = r.choice(ORDINALS) if x < 0.15 else r.choice(self.p.streets)
        suffix = r.choice(self.p.suffixes)
        abbrevs = SUFFIXES[suffix]
        if abbrevs and r.random() < 0.5:
            suffix = r.choice(abbrevs)
        line = f"{num} {name} {suffix}"
        if r.random() < 0.2:
            line = f"{num} {r.choice(DIRS)} {name} {suffix}"
        elif r.random() < 0.08:
            line = f"{line} {r.choice(['NW', 'SE', 'N', 'E'])}"
        if unit and r.random() < 0.25:
            kind = r.choice(["Apt", "Apt.", "Unit", "#", "Suite", "Ste", "Lot", "Fl", "Rm", "Bldg"])
            val = r.choice([str(r.randint(1, 40)), f"{r.randint(1, 9)}{r.choice('ABCDEF')}", str(r.randint(100, 2400))])
            line += (", " if r.random() < 0.6 else " ") + (f"#{val}" if kind == "#" else f"{kind} {val}")
        return line

    def csz(self) -> str:
        r, c = self.rng, self.city()
        zip5 = str(c["zip_code"])
        zipv = zip5 + (f"-{r.randint(1, 9999):04d}" if r.random() < 0.2 else "")
        st = str(c["state"])
        x = r.random()
        if x < 0.55:
            return f"{c['city']}, {st} {zipv}"
        if x < 0.7:
            return f"{c['city']} {st} {zipv}"
        if x < 0.85:
            return f"{c['city']}, {STATES[st]} {zipv}"
        return f"{c['city']}, {st}  {zipv}" if not self.held else f"{c['city']}, {STATES[st]}, {zipv}"

    def ca_postcode(self) -> str:
        r = self.rng
        letters = "ABCEGHJKLMNPRSTVXY"
        return f"{r.choice(letters)}{r.randint(0, 9)}{r.choice(letters)} {r.randint(0, 9)}{r.choice(letters)}{r.randint(0, 9)}"

    def uk_postcode(self) -> str:
        r = self.rng
        up = string.ascii_uppercase
        outward = r.choice([f"{r.choice(up)}{r.randint(1, 9)}", f"{r.choice(up)}{r.choice(up)}{r.randint(1, 99)}",
                            f"{r.choice(up)}{r.randint(1, 9)}{r.choice('ABCDEHJKMNPRSTVWXY')}"])
        return f"{outward} {r.randint(0, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}"

    def address(self) -> str:
        r = self.rng
        styles = ["us", "us", "us", "us_unitfirst", "po", "ca", "uk"]
        styles += ["ca_fr", "rr", "us_nocomma"] if self.held else ["us_line_only", "us_csz_only"]
        s = r.choice(styles)
        if s == "us":
            return f"{self.street_line()}, {self.csz()}"
        if s == "us_unitfirst":
            return f"{r.choice(['Apt', 'Unit', 'Suite'])} {r.randint(1, 30)}, {self.street_line(unit=False)}, {self.csz()}"
        if s == "us_nocomma":
            return f"{self.street_line()} {self.csz()}"
        if s == "us_line_only":
            return self.street_line()
        if s == "us_csz_only":
            return self.csz()
        if s == "po":
            box = r.choice(["P.O. Box", "PO Box", "POB", "Post Office Box"])
            return f"{box} {r.randint(1, 9999)}, {self.csz()}"
        if s == "rr":
            return f"RR {r.randint(1, 9)} Box {r.randint(1, 300)}, {self.csz()}"
        if s == "ca":
            city, prov = r.choice(self.p.ca_cities)
            street = r.choice(CA_STREETS)
            return f"{r.randint(1, 3999)} {street} {r.choice(['St', 'Street', 'Ave', 'Road', 'Blvd', 'Crescent'])}, {city}, {prov} {self.ca_postcode()}"
        if s == "ca_fr":
            city, prov = r.choice(self.p.ca_cities)
            return f"{r.randint(1, 3999)}, {r.choice(['rue', 'boulevard', 'avenue', 'chemin'])} {r.choice(CA_STREETS)}, {city} ({prov}) {self.ca_postcode()}"
        town = r.choice(self.p.uk_towns)
        flat = f"Flat {r.randint(1, 20)}, " if r.random() < 0.3 else ""
        return f"{flat}{r.randint(1, 250)} {r.choice(UK_STREETS)} {r.choice(UK_SUFFIXES)}, {town} {self.uk_postcode()}"

    def s_address(self) -> list[Piece]:
        return [(self.address(), "address")]

    def s_street(self) -> list[Piece]:
        return [(self.street_line(), "address")]

    def s_csz(self) -> list[Piece]:
        return [(self.csz(), "address")]

    def s_city_st(self) -> list[Piece]:
        c = self.city()
        st = str(c["state"])
        return [(f"{c['city']}, {st if self.rng.random() < 0.6 else STATES[st]}", "address")]

    def s_zip(self) -> list[Piece]:
        return [(str(self.city()["zip_code"]), "address")]

    def s_street_name(self) -> list[Piece]:
        r = self.rng
        name = r.choice(self.p.streets) if r.random() < 0.8 else r.choice(ORDINALS)
        return [(f"{name} {r.choice(self.p.suffixes)}", "address")]

    # -- contact ------------------------------------------------------------------------------
    def us_number(self) -> tuple[str, str, str]:
        r = self.rng
        codes = [a for a in self.city()["area_codes"]] or [str(r.randint(201, 989))]  # type: ignore[attr-defined]
        return str(r.choice(codes)), str(r.randint(200, 999)), f"{r.randint(0, 9999):04d}"

    def phone(self) -> str:
        r = self.rng
        a, b, c = self.us_number()
        fmts: list[Callable[[], str]] = [
            lambda: f"({a}) {b}-{c}", lambda: f"{a}-{b}-{c}", lambda: f"{a}.{b}.{c}", lambda: f"{a}{b}{c}",
            lambda: f"+1 {a} {b} {c}", lambda: f"1-{a}-{b}-{c}", lambda: f"({a}){b}-{c}",
            lambda: f"{a} {b} {c}", lambda: f"+44 20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
            lambda: f"07{r.randint(100, 999)} {r.randint(100000, 999999)}",
        ]
        if self.held:
            fmts += [lambda: f"+1-{a}-{b}-{c}", lambda: f"+1 ({a}) {b}-{c}", lambda: f"1 ({a}) {b} {c}",
                     lambda: f"+49 {r.randint(30, 89)} {r.randint(1000000, 99999999)}",
                     lambda: f"+33 {r.randint(1, 9)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
                     lambda: f"+61 {r.randint(2, 8)} {r.randint(1000, 9999)} {r.randint(1000, 9999)}",
                     lambda: f"+91 {r.randint(70000, 99999)} {r.randint(10000, 99999)}",
                     lambda: f"0044 {r.randint(1000, 1999)} {r.randint(100000, 999999)}",
                     lambda: f"{a}/{b}-{c}", lambda: f"{a} {b}-{c}"]
        else:
            fmts += [lambda: f"020 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
                     lambda: f"+353 1 {r.randint(200, 999)} {r.randint(1000, 9999)}",
                     lambda: f"+1.{a}.{b}.{c}", lambda: f"{a} - {b} - {c}"]
        num = r.choice(fmts)()
        if r.random() < 0.12:
            num += r.choice([f" ext. {r.randint(10, 9999)}", f" x{r.randint(100, 9999)}", f" ext {r.randint(10, 999)}"])
        return num

    def s_phone(self) -> list[Piece]:
        return [(self.phone(), "phone")]

    def s_email(self) -> list[Piece]:
        r = self.rng
        first, last = self.first().lower(), self.last().lower().replace("-", "")
        local = r.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{r.randint(1, 99)}",
                          f"{last}{first[0]}", f"{first}{r.randint(1950, 2010)}", f"{first}.{last}+mri",
                          f"{first}-{last}", f"{last}.{first[0]}{r.randint(1, 9)}"])
        if r.random() < 0.6:
            domain = r.choice(self.p.mail_domains)
        else:
            org = r.choice(self.p.orgs)
            domain = f"{org}{r.choice(ORG_WORDS)}.{r.choice(TLDS)}"
            if r.random() < 0.25:
                domain = r.choice(["mail.", "med.", "staff."]) + domain
        return [(f"{local}@{domain}", "email")]

    def s_url(self) -> list[Piece]:
        r = self.rng
        org = r.choice(self.p.orgs)
        dom = f"{org}{r.choice(ORG_WORDS)}.{r.choice(TLDS)}"
        user = f"{self.first().lower()}{self.last().lower().replace('-', '')}"
        rid = r.randint(10000, 9999999)
        fmts = [f"https://www.{dom}", f"http://www.{dom}/portal", f"www.{dom}", f"https://{dom}/patients/{rid}",
                f"https://portal.{dom}/record?id={rid}", f"www.{dom}/~{user}", f"http://{dom}/share/{rid}.pdf",
                f"https://{dom}/viewer#study={rid}"]
        if self.held:
            fmts += [f"facebook.com/{user}", f"https://drive.google.com/file/d/{rid:x}{user}/view",
                     f"ftp://{dom}/pub/{rid}", f"HTTPS://WWW.{dom.upper()}/CD/{rid}", f"www.linkedin.com/in/{user}",
                     f"https://{user}.{r.choice(['blogspot.com', 'wordpress.com', 'github.io'])}"]
        else:
            fmts += [f"http://10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}:8080/pacs/viewer?study={rid}",
                     f"https://www.instagram.com/{user}", f"twitter.com/{user}",
                     f"https://mychart.{dom}/MyChart/{rid}"]
        return [(r.choice(fmts), "url")]

    # -- identifiers --------------------------------------------------------------------------
    def id_value(self, kind: str) -> str:
        r = self.rng
        d = lambda n: "".join(r.choice(string.digits) for _ in range(n))  # noqa: E731
        al = lambda n: "".join(r.choice("ACDEFGHJKMNPQRTUVWXY") for _ in range(n))  # noqa: E731
        if kind == "mrn":
            return r.choice([d(7), d(8), d(6), f"{al(1)}{d(7)}", f"{d(3)}-{d(2)}-{d(2)}", f"{d(2)}-{d(6)}", d(10)])
        if kind == "ssn":
            return r.choice([f"{r.randint(100, 899)}-{d(2)}-{d(4)}", f"{r.randint(100, 899)} {d(2)} {d(4)}",
                             f"{r.randint(100, 899)}{d(6)}"])
        if kind == "acct":
            return r.choice([d(9), d(10), f"{al(2)}{d(8)}", f"{d(4)}-{d(6)}", d(12)])
        if kind == "member":
            return r.choice([f"{al(3)}{d(9)}", f"{al(1)}{d(8)}", f"{d(9)}-{d(2)}", f"{al(2)}{d(6)}{al(1)}", d(11)])
        if kind == "mbi":
            return f"{r.randint(1, 9)}{al(1)}{r.choice(string.digits + 'ACDEFGHJKMNPQRTUVWXY')}{d(1)}-{al(2)}{d(1)}-{al(2)}{d(2)}"
        if kind == "ohip":
            return f"{d(4)}-{d(3)}-{d(3)}-{al(2)}"
        if kind == "nhs":
            return f"{d(3)} {d(3)} {d(4)}"
        if kind == "license":
            return r.choice([f"{al(1)}{d(7)}", f"{al(1)}{d(3)}-{d(4)}-{d(4)}", f"{d(9)}"])
        return r.choice([d(8), f"{al(2)}{d(7)}", f"{d(4)}{al(2)}{d(4)}"])  # accession, order

    def s_id(self) -> list[Piece]:
        r = self.rng
        labels, kind = r.choice(ID_LABELS[self.half])
        label = r.choice(labels)
        sep = r.choice([" ", ""]) if label.endswith((":", "#")) else r.choice([" ", ": ", " ", " # ", ":"])
        return [(label + sep, TOL), (self.id_value(kind), "id")]

    def s_mrn(self) -> list[Piece]:
        return [(self.id_value("mrn"), "id")]

    def s_ssn(self) -> list[Piece]:
        return [(self.id_value("ssn"), "id")]

    def s_acct(self) -> list[Piece]:
        return [(self.id_value(self.rng.choice(["acct", "member"])), "id")]

    # -- dates --------------------------------------------------------------------------------
    def date(self) -> str:
        r = self.rng
        y = r.randint(1925, 2024)
        m = r.randint(1, 12)
        dd = r.randint(1, 28)
        mon = MONTHS[m - 1]
        yy = f"{y % 100:02d}"
        th = f"{dd}{'th' if 11 <= dd <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(dd % 10, 'th')}"
        fmts = [f"{m:02d}/{dd:02d}/{y}", f"{m}/{dd}/{y}", f"{m}/{dd}/{yy}", f"{y}-{m:02d}-{dd:02d}",
                f"{y}{m:02d}{dd:02d}", f"{mon} {dd}, {y}", f"{dd} {mon} {y}", f"{mon[:3]} {dd} {y}",
                f"{dd:02d}-{mon[:3].upper()}-{y}", f"{dd:02d}.{m:02d}.{y}", f"{m:02d}-{dd:02d}-{y}",
                f"{mon} {y}", f"{mon[:3]}. {dd}, {y}"]
        if self.held:
            fmts += [f"{th} {mon} {y}", f"the|{th} of {mon}, {y}", f"{r.choice(WEEKDAYS)},~{mon} {dd}, {y}", f"{r.choice(WEEKDAYS)[:3]}~{dd} {mon} {y}",
                     f"{y}/{m:02d}/{dd:02d}", f"{dd}{mon[:3].upper()}{y}", f"{mon[:3]}-{dd}-{y}",
                     f"{m}.{dd}.{yy}", f"{dd}-{mon[:3]}-{yy}", f"{mon} of {y}", f"{m}/{y}"]
        else:
            fmts += [f"{mon} {th}, {y}", f"{dd}/{m}/{y}", f"{dd:02d} {mon[:3]} {y}", f"{mon[:3]} {y}",
                     f"{m:02d}/{y}", f"{y}.{m:02d}.{dd:02d}"]
        return r.choice(fmts)

    def s_date(self) -> list[Piece]:
        """A weekday before a date is tolerated (`Monday, ` of `Monday, March 4, 2019`), the
        `the ` of `the 4th of March` is plain text."""
        text = self.date()
        if "~" in text:
            day, rest = text.split("~")
            return [(day + " ", TOL), (rest, "date")]
        if "|" in text:
            the, rest = text.split("|")
            return [(the + " ", None), (rest, "date")]
        return [(text, "date")]

    # -- things that must stay ----------------------------------------------------------------
    def s_neg(self) -> list[Piece]:
        return [(self.rng.choice(NEGATIVES[self.half]), None)]

    def s_eponym(self) -> list[Piece]:
        return [(self.rng.choice(EPONYMS), None)]

    def s_meas(self) -> list[Piece]:
        r = self.rng
        return [(r.choice([f"{r.randint(2, 40)} MM", f"{r.randint(1, 9)}.{r.randint(0, 9)} cm",
                           f"{r.randint(1, 9)}.{r.randint(0, 9)} x {r.randint(1, 9)}.{r.randint(0, 9)} cm",
                           f"{r.randint(1, 9)}.{r.randint(0, 9)} x {r.randint(1, 9)}.{r.randint(0, 9)} x {r.randint(1, 9)}.{r.randint(0, 9)} cm",
                           f"{r.randint(3, 30)} mm"]), None)]

    def s_level(self) -> list[Piece]:
        r = self.rng
        region, top = r.choice([("C", 7), ("T", 12), ("L", 5)])
        i = r.randint(1, top - 1)
        return [(r.choice([f"{region}{i}-{region}{i + 1}", f"{region}{i}-{i + 1}", f"{region}{i}/{region}{i + 1}"]), None)]

    def s_series(self) -> list[Piece]:
        r = self.rng
        return [(r.choice([f"series {r.randint(1, 12)} image {r.randint(1, 400)}", f"Se {r.randint(1, 12)} Im {r.randint(1, 400)}",
                           f"image {r.randint(1, 300)}/{r.randint(300, 600)}", f"(4:{r.randint(10, 300)})"]), None)]

    def s_vitals(self) -> list[Piece]:
        r = self.rng
        return [(r.choice([f"BP {r.randint(90, 190)}/{r.randint(50, 110)}", f"{r.randint(90, 190)}/{r.randint(50, 110)} mmHg",
                           f"HR {r.randint(50, 130)}", f"pain {r.randint(1, 10)}/10", f"{r.randint(1, 4)}/{r.randint(5, 6)} strength"]), None)]

    def s_time(self) -> list[Piece]:
        r = self.rng
        return [(r.choice([f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}", f"{r.randint(1, 12)}:{r.randint(0, 59):02d} {r.choice(['AM', 'PM', 'pm'])}",
                           f"{r.randint(0, 23):02d}{r.randint(0, 59):02d} hrs"]), None)]

    def s_age(self) -> list[Piece]:
        r = self.rng
        return [(r.choice([f"{r.randint(18, 88)}-year-old", f"{r.randint(18, 88)} yo", f"{r.randint(18, 88)}Y", f"{r.randint(2, 17)} y/o"]), None)]


# ---------------------------------------------------------------------------------------------
# Templates: {slot} is filled by Gen.s_<slot>; [[text]] is tolerated literal text.
# Each group is split by template: index % 5 in (1, 4) -> held-out.
# ---------------------------------------------------------------------------------------------

TEMPLATES: dict[str, list[str]] = {
    "person": [
        "Patient's {rel} {person} was present for the exam and may be contacted after 5 PM.",
        "History obtained from {rel}, {person}, who reports a palpable mass in the left breast.",
        "Findings discussed with {dr} at {time} on {date}; read-back confirmed.",
        "Next of kin: {person} ({rel}) {phone}",
        "Critical result called to {dr} by {tperson}. {neg}.",
        "Pt accompanied by {rel} {first}. AP and LAT views obtained.",
        "{rel} {person} requests a copy of the images on CD; release form signed.",
        "Emergency contact {person}, tel {phone}.",
        "Consent signed by {rel} ({person}) due to altered mental status.",
        "Per {dr}, compare with outside study; {neg}.",
        "Images reviewed with {tperson}, who states the {meas} lesion is unchanged.",
        "Reading physician: {dr}. Gray matter and white matter differentiation preserved.",
        "Requesting physician {pn}; indication {neg}.",
        "Caregiver {person} reports the patient fell at home; no loss of consciousness.",
        "Interpreter {person} used for the exam (Spanish). {neg}.",
        "Please contact {tperson} at {phone} or {email} with questions.",
        "Mother {person} states the child swallowed a coin; AP and lateral chest obtained.",
        "Guardian {person} at bedside. Patient hopes to go home today.",
        "Spoke with {tperson}, charge nurse, regarding the PA and lateral views.",
        "Referred by {dr} for evaluation of a mass at {level}.",
        "Prior study read by {pn} ({date}).",
        "Patient's {rel}, {tperson}, holds the signed consent; {neg}.",
        "Surgery with {dr} planned; {rel} {person} will drive the patient home.",
        "Transcribed by {person} {date} {time}.",
        "Verified by {dr} and {dr}.",
        "Radiologist {person}, MD, dictated this report. {neg}.",
        "Patient lives with {rel} {person} at {address}.",
        "Dear {tperson}, thank you for referring {first} for {neg}.",
        "HX PER {REL} {person}: FALL DOWN STAIRS, {neg}.",
        "Wet read given to {first} {last} (ED resident) at {time}.",
        "Pt states her {rel} {first} brought outside films from {city_st}.",
        "Results conveyed to {rel} {person} by phone; {rel} will inform patient.",
        "Technologist: {first} {last}, RT(R)(CT). {series}.",
        "Contrast reaction observed by {tperson}; {vitals}.",
        "Call {rel} {first} at {phone} before the MRI for metal screening history.",
        "Scheduled by {person}; {neg}.",
        "{last}, {first} - {age} with {eponym} disease follow-up.",
        "Ordering provider: {dr}; cc: {dr}.",
        "Case discussed at tumor board with {dr}, {dr} and {tperson}.",
        "Patient identified by name ({person}) and date of birth ({date}).",
    ],
    "address": [
        "Patient resides at {address}. {neg}.",
        "Home address: {address}",
        "Outside films obtained from the imaging center at {address}.",
        "Mail report to {street}, {csz}.",
        "Pt moved from {city_st} last year; prior imaging at an outside hospital.",
        "Address on file: {street}\r\n{csz}",
        "MVC at the intersection of {street_name} and {street_name}; {neg}.",
        "Returned mail; new address {address}.",
        "Lives alone at {street}, {csz}; 12 stairs to enter.",
        "Fall at home ({street}); {meas} nondisplaced fracture.",
        "Transfer from the nursing facility at {address}.",
        "Patient is a resident of {csz}.",
        "[[ZIP]] {zip} on requisition does not match the registration.",
        "Send CD to {rel} at {address}.",
        "Outside study performed at {address}, compare when available.",
        "Found down outside {street}; {neg}.",
        "Born in {city_st}. {age} with {neg}.",
        "Temporary address: {address}. Contact case manager.",
        "PT LIVES AT {street} WITH {REL}; {neg}.",
        "Visiting from {city_st}; {neg}; may need follow-up locally.",
        "Bill to: {person}, {address}",
        "Deliver films to {street}, Suite {num}, {csz} attn: records.",
        "Injury occurred at work ({address}); {meas} foreign body.",
        "Patient walks daily on {street_name}; fell on ice. {level} tenderness.",
        "Hospice: {address}; {rel} {person} is primary contact.",
        "Prior imaging in {csz}; images to be pushed.",
        "Relocating to {address} next month; transfer records.",
        "Community clinic, {street}, {city_st}. {neg}.",
        "Dog bite at {street}; {neg}.",
        "Lives in {city_st} near {street_name}.",
        "Current address {address} (verified {date}).",
        "Shelter at {street} - {neg}.",
        "REFERRING OFFICE: {street}, {csz}. PH {phone}.",
        "Registration: {person}; {address}; {phone}.",
        "Home health agency, {address}; {neg}.",
        "Prior PET/CT from {city_st} ({date}).",
        "Pt's {rel} lives at {street}; will pick up CD.",
        "Forward results to {address}.",
        "Return address {address}. {series}.",
        "Previous residence {city_st}; travel history negative.",
    ],
    "phone": [
        "Call {phone} with critical results.",
        "Callback number {phone}; {neg}.",
        "Patient's cell {phone}, home {phone}.",
        "Pager {phone}; {neg}.",
        "Results phoned to {phone} at {time}.",
        "Fax report to {phone}.",
        "Contact radiology reading room at {phone} for questions. {series}.",
        "Cell: {phone} / Work: {phone}",
        "Ph {phone}. {vitals}.",
        "Left voicemail at {phone} re: {neg}.",
        "Tel. {phone} - {rel} {first}.",
        "Please call the patient at {phone} to schedule follow-up in 3 months.",
        "Referring office fax {phone}; phone {phone}.",
        "Best number: {phone} (mobile).",
        "If no answer call {rel} {person} {phone}.",
        "PATIENT PHONE {phone}. {neg}.",
        "Cardiology on call {phone}; {vitals}; {meas} pericardial effusion.",
        "Scheduling line {phone}, option 2.",
        "Reached patient at {phone}; {neg}.",
        "Outside hospital records dept {phone}; request CD from {date}.",
        "{phone} (home) - no answer, message left.",
        "Telephone: {phone}",
        "Phone number on file {phone} disconnected.",
        "Mobile {phone}; prefers text. {neg}.",
        "Notify {dr} at {phone} if {meas} or larger.",
        "International number {phone}; patient travelling.",
        "Alt contact {phone} ({rel}).",
        "Texted results to {phone} per patient request.",
        "Ring {phone} upon arrival; wheelchair needed.",
        "PCP office {phone}, fax {phone}.",
        "Callback {phone}, ask for {first}.",
        "Direct line {phone}; {series}.",
        "Emergency no. {phone} - {rel}.",
        "NOK phone {phone}; {level}.",
        "Dial {phone} for interpreter services; {neg}.",
        "Home {phone} | Cell {phone} | Work {phone}",
    ],
    "email": [
        "Send report to {email}.",
        "Patient email {email}; prefers portal messages.",
        "CC: {email}; {neg}.",
        "Images shared with {email} via secure link.",
        "Contact {dr} ({email}) for protocol questions.",
        "Email on file: {email}",
        "Reply to {email} regarding {neg}.",
        "Outside radiologist {person} <{email}> reviewed {series}.",
        "{rel} email {email} added to proxy access.",
        "Forwarded to {email} and {email}.",
        "Questions? {email} or {phone}.",
        "E-MAIL: {email}. {neg}.",
        "Pt requests copy by email ({email}).",
        "Study link sent to {email} at {time}.",
        "Notify {email} when {meas} nodule follow-up due.",
        "Preferred contact: {email}",
        "Emailed {rel} {first} at {email}; {neg}.",
        "Billing questions to {email}; {id}.",
        "Teaching file submitted by {email}.",
        "Secure message from {email}: {neg}.",
        "Research coordinator {email} notified; {level}.",
        "Correspondence: {email}; {address}.",
        "Patient can be reached by mail at {email} (no phone).",
        "Report auto-routed to {email}.",
        "Lab contact {email}; {vitals}.",
        "Addendum emailed to {email} on {date}.",
        "email {email} for CD request",
        "From: {email} Subject: {neg}",
        "QA feedback sent to {email}; {series}.",
        "Contact: {person}, {email}, {phone}.",
        "{rel} {person} ({email}) requests the report.",
        "Reply-to: {email}",
        "Unsubscribe {email} from reminders; {neg}.",
        "Portal invitation sent to {email} on {date}.",
        "Wrong address {email} corrected to {email}.",
        "EMAIL FROM {rel} - {email} - ASKING ABOUT {neg}.",
        "Outside reader {dr}, {email}, agrees: {neg}.",
        "Send DICOM via {url} and notify {email}.",
        "Pt's employer {email} requested results (declined).",
        "Contact {email} re {meas} finding.",
    ],
    "url": [
        "Images available at {url}.",
        "Patient portal: {url}",
        "See {url} for prep instructions; {neg}.",
        "Outside images uploaded to {url} on {date}.",
        "Reference: {url}; {neg}.",
        "Pt posted photos at {url} (per {rel}).",
        "Link {url} expires in 7 days.",
        "Viewer {url} - {series}.",
        "Shared via {url}; password sent separately.",
        "Downloaded prior from {url}; {meas} stable.",
        "PERSONAL WEBSITE {url}",
        "Video of seizure at {url}; {neg}.",
        "Referral form: {url}",
        "Upload request at {url}; {id}.",
        "Outside report at {url}, {neg}.",
        "Cloud PACS {url}; {level}.",
        "Telehealth link {url} for {time} visit.",
        "Patient blog {url} describes symptoms since {date}.",
        "Scheduling: {url} or {phone}.",
        "Consent form signed online ({url}).",
        "Outside CD index at {url}; {neg}.",
        "Download from {url}, {series}.",
        "Image exchange {url}.",
        "Follow-up instructions {url}; {neg}.",
        "Pt found info on {url}; {vitals}.",
        "Portal: {url} / email: {email}",
        "Survey {url}",
        "Remote read via {url}; {meas}.",
        "Outside facility website {url}; contact {phone}.",
        "Per {rel}, records posted to {url}.",
        "QR code on CD points to {url}.",
        "Patient-provided link ({url}) not opened per policy.",
        "See attached: {url} ({date}).",
        "Ordering clinic site {url}, fax {phone}.",
        "PRIOR IMAGES: {url} - {neg}.",
        "Education material: {url}; {vitals}.",
        "Second opinion requested through {url} by {tperson}.",
        "{url} - outside MRI {level}.",
        "Access code for {url} given to {rel} {first}.",
        "Reviewed outside images on {url}; {eponym} sign absent.",
    ],
    "id": [
        "{id}. {neg}.",
        "Patient {id}, {id}.",
        "Correct {id} per registration; prior {id} merged.",
        "Insurance verified, {id}; {neg}.",
        "Outside {id} differs from ours.",
        "{id} {time} {neg}.",
        "[[Medical record number]] is {mrn}; {neg}.",
        "[[Social security number]] {ssn} on requisition was redacted incorrectly.",
        "Prior exams under {id}. {series}.",
        "Registration updated: {id}; {id}.",
        "Pt {person} ({id}) arrived in wheelchair.",
        "Wrong patient: {id} vs {id}, corrected.",
        "Billing hold on {id}; {neg}.",
        "[[Medicare number]] {acct} verified; {level}.",
        "{id} | {date} | {neg}",
        "Order placed under {id} by {dr}.",
        "Claim denied for {id}; {neg}.",
        "Duplicate record {id} flagged.",
        "Workers comp case, {id}; injury {date}.",
        "CD labelled {id}; {series}.",
        "Outside hospital {id} - {neg}.",
        "[[Authorization]] {acct} approved for MRI {level}.",
        "[[Patient ID]] band reads {mrn}; {vitals}.",
        "Guarantor {person}, {id}.",
        "{id}; {meas} nodule; {neg}.",
        "[[Acct]] {acct} (self-pay).",
        "Pt provided {id} at check-in.",
        "Merge {id} into {id}.",
        "Previous [[MRN]] {mrn} ({city_st}).",
        "[[Record #]]{mrn}: {neg}.",
        "Insurance card: {id}, {id}.",
        "{id} - {age} - {neg}",
        "Identity confirmed with {id} and {date}.",
        "Study re-linked to {id}.",
        "[[Referral #]] {acct} for {neg}.",
        "{id} on wristband matched {id} on order; {series}.",
        "Outside {id}, our {id}; {neg}.",
        "Self-reported {id} - verify at next visit.",
        "Subscriber {person}, {id}, relation {rel}.",
        "CD from outside labelled with {id} and {date}.",
    ],
    "date": [
        "Comparison: {date}. {neg}.",
        "[[DOB]] {date}; {age}.",
        "Prior CT on {date} showed a {meas} nodule.",
        "Symptoms since {date}; {neg}.",
        "Last menstrual period {date}.",
        "Surgery {date} ({eponym} repair); {neg}.",
        "Compared with MRI dated {date} and {date}.",
        "Follow-up study recommended by {date}.",
        "Date of injury: {date}",
        "Exam performed {date} at {time}; {series}.",
        "[[DOB:]] {date} [[Age]] {age}",
        "Pt reports fall on {date}; {level} pain.",
        "Previous biopsy {date}: {neg}.",
        "Admitted {date}, discharged {date}.",
        "[[Date of birth]] {date}. {vitals}.",
        "Born {date}; {neg}.",
        "Stroke on {date}; {neg}.",
        "Chemo started {date}, last cycle {date}.",
        "Mammogram {date} BI-RADS 2.",
        "Outside films dated {date} reviewed.",
        "Due date {date}; {neg}.",
        "Seen in clinic {date}; {meas} mass stable.",
        "No interval change since {date}.",
        "Deceased {date}; autopsy imaging.",
        "PRIOR {date} - {neg}.",
        "Radiation therapy completed {date}; {neg}.",
        "On {date} the patient underwent {eponym} procedure.",
        "Report amended {date} {time}.",
        "Hip replacement {date} ({level} unrelated).",
        "Previous exam: {date}; {series}.",
        "Implant placed {date}, MR conditional.",
        "Vaccinated {date}; axillary nodes {meas}.",
        "Accident {date} - {neg}.",
        "Follow up {date} with {dr}.",
        "Baseline {date}; {vitals}.",
        "Signed {date} by {dr}.",
        "Last seen {date}, next visit {date}.",
        "Pregnancy test negative {date}.",
        "CT {date}, MRI {date}, PET {date}: {neg}.",
        "Cast removed {date}; {neg}.",
    ],
    "negative": [
        "{neg}. {neg}.",
        "NO MASS. {neg}. MAY REPRESENT SCARRING.",
        "{meas} nodule at {series}; {neg}.",
        "AP, LAT and oblique views. {neg}.",
        "{level} disc protrusion; {vitals}.",
        "Gray-white differentiation maintained. {neg}.",
        "Brown tumor versus {neg}.",
        "{age} with {eponym} disease; {neg}.",
        "PA AND LATERAL CHEST: {neg}.",
        "Hope to obtain priors from outside; {neg}.",
        "{neg}; see {series}.",
        "{time} contrast injection; {neg}.",
        "Grade 3/4 reflux; {meas}; {neg}.",
        "Mark on skin at site of pain; {neg}.",
        "Will follow in 6-12 months; {neg}.",
        "{vitals}; {neg}; {level}.",
        "Protocol per {eponym} criteria; {meas}.",
        "May need a 2nd opinion. {neg}.",
        "Clinical: {neg}. Technique: {series}.",
        "BROWN, GRAY AND WHITE PIGMENTED LESION, {meas}.",
        "Lesion at 3/4 of the way along the shaft; {neg}.",
        "1/2 inch laceration; {neg}.",
        "{eponym} sign positive; {neg}.",
        "Impression: {neg}. {neg}.",
        "MRI BRAIN W/WO; {neg}.",
    ],
}


@dataclass
class Sentence:
    text: str
    spans: list[dict[str, object]]
    tolerated: list[dict[str, int]]
    shape: str
    case: str


SLOT = re.compile(r"\{(\w+)\}|\[\[(.+?)\]\]")


def render(template: str, gen: Gen) -> tuple[str, list[tuple[int, int, str]]]:
    """Fill a template: its text and the (start, end, kind) of every piece with a kind."""
    out: list[str] = []
    marks: list[tuple[int, int, str]] = []
    pos = 0
    at = 0

    def add(text: str, kind: str | None) -> None:
        nonlocal pos
        if kind is not None:
            marks.append((pos, pos + len(text), kind))
        out.append(text)
        pos += len(text)

    for m in SLOT.finditer(template):
        add(template[at:m.start()], None)
        at = m.end()
        if m.group(2) is not None:
            add(m.group(2), TOL)
            continue
        slot = m.group(1)
        if slot == "num":
            add(str(gen.rng.randint(100, 900)), "address")  # a suite number inside an address
            continue
        pieces = getattr(gen, f"s_{slot.lower()}")()
        for text, kind in pieces:
            add(text.upper() if slot.isupper() else text, kind)
    add(template[at:], None)
    return "".join(out), marks


def merge_adjacent(marks: list[tuple[int, int, str]], text: str) -> list[tuple[int, int, str]]:
    """Pieces of one kind separated only by spaces and commas (`{first} {last}`, `{street}\\r\\n{csz}`,
    `{street}, Suite {num}, {csz}`) are one span."""
    out: list[tuple[int, int, str]] = []
    for s, e, k in marks:
        gap = text[out[-1][1]:s] if out else ""
        if out and k != TOL and out[-1][2] == k and re.fullmatch(r"[,\s]*(Suite\s*)?" if k == "address" else r"[,\s]*", gap):
            out[-1] = (out[-1][0], e, k)
        else:
            out.append((s, e, k))
    return out


def make_sentence(template: str, shape: str, gen: Gen) -> Sentence:
    text, marks = render(template, gen)
    marks = merge_adjacent(marks, text)
    r = gen.rng.random()
    case = "mixed"
    if r < 0.3 and len(text.upper()) == len(text):
        text, case = text.upper(), "upper"
    elif r < 0.35 and len(text.lower()) == len(text):
        text, case = text.lower(), "lower"
    spans = [{"start": s, "end": e, "kind": k} for s, e, k in marks if k != TOL]
    tolerated = [{"start": s, "end": e} for s, e, k in marks if k == TOL]
    return Sentence(text, spans, tolerated, shape, case)


def template_half(index: int) -> str:
    return HALVES[1] if index % 5 in (1, 4) else HALVES[0]


def generate(per_half: int, seed: int) -> dict[str, list[Sentence]]:
    pools = build_pools()
    out: dict[str, list[Sentence]] = {}
    for h in HALVES:
        shapes = [(f"{group}-{i:02d}", t) for group, ts in TEMPLATES.items()
                  for i, t in enumerate(ts) if template_half(i) == h]
        rng = random.Random(f"{seed}:{h}")
        gen = Gen(pools[h], rng)
        each = math.ceil(per_half / len(shapes))
        sentences = [make_sentence(t, shape, gen) for shape, t in shapes for _ in range(each)]
        rng.shuffle(sentences)
        out[h] = sentences[:per_half]
    return out


def check(s: Sentence) -> None:
    marks = sorted([(int(x["start"]), int(x["end"])) for x in s.spans] +  # type: ignore[call-overload]
                   [(x["start"], x["end"]) for x in s.tolerated])
    for (_, e1), (s2, _) in zip(marks, marks[1:], strict=False):
        assert e1 <= s2, f"overlapping marks in {s.text!r}"
    for x in s.spans:
        piece = s.text[int(x["start"]):int(x["end"])]  # type: ignore[call-overload]
        assert piece and piece == piece.strip(), f"bad span {piece!r} in {s.text!r}"


def stats(corpus: dict[str, list[Sentence]]) -> str:
    lines = []
    for h, sents in corpus.items():
        kinds = Counter(str(x["kind"]) for s in sents for x in s.spans)
        shapes = {s.shape for s in sents}
        cases = Counter(s.case for s in sents)
        neg = sum(1 for s in sents if not s.spans)
        lines.append(f"{h}: {len(sents)} sentences, {len(shapes)} templates, {neg} without PHI, "
                     f"case {dict(cases)}")
        lines.append("  spans: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
        per_kind = {k: len({s.shape for s in sents if any(x['kind'] == k for x in s.spans)}) for k in KINDS}
        lines.append("  templates with the kind: " + ", ".join(f"{k} {v}" for k, v in per_kind.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--per-half", type=int, default=1500, help="sentences per half (1500)")
    ap.add_argument("--seed", type=int, default=0, help="seed (0)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder ({OUT})")
    args = ap.parse_args(argv)
    corpus = generate(args.per_half, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for h, sents in corpus.items():
        with open(args.out / f"{h}.jsonl", "w", encoding="utf-8", newline="\n") as f:
            for s in sents:
                check(s)
                f.write(json.dumps({"text": s.text, "spans": s.spans, "tolerated": s.tolerated,
                                    "shape": s.shape, "case": s.case}, ensure_ascii=False) + "\n")
    print(stats(corpus))
    print(f"written to {args.out}/")


if __name__ == "__main__":
    main()
