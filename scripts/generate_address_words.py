"""Generate rulesets/address-words.json, the word lists of the `address` detector.

In:  USPS Publication 28 "Postal Addressing Standards" (a U.S. Government work, public domain):
     Appendix C1 (street suffixes: primary name, Postal Service standard abbreviation, common
     abbreviations), Appendix C2 (secondary unit designators) and Appendix B (state and territory
     abbreviations), typed in below from <https://pe.usps.com/text/pub28/28apc_002.htm>,
     <https://pe.usps.com/text/pub28/28apc_003.htm> and <https://pe.usps.com/text/pub28/28apb.htm>.
     Canada Post's province and territory symbols and the first letter of their postal codes
     (public facts, typed in below).
     The `zipcodes` package (PyPI `zipcodes`, MIT licence, <https://github.com/seanpianka/zipcodes>;
     its embedded dataset of U.S. ZIP codes with their city and state): every (city, state) pair,
     the city's accepted alternative names too, and the states each 3-digit ZIP prefix serves.
Out: rulesets/address-words.json:
     street_suffixes  {primary name: [standard abbreviation, common abbreviations...]} (C1)
     other_street_types  suffixes outside Pub 28 used in Canada and the UK (Close, Crescent...)
     other_abbreviations  {abbreviation: street type} outside Pub 28 (Lp, Cl...)
     unit_designators {name: [abbreviations]} (C2, plus Flat)
     us_states  {code: name} (50 states, DC and the inhabited territories)
     ca_provinces  {code: [name, postal code first letters]}
     uk_postcode_areas  Royal Mail postcode areas (public facts, typed in below)
     us_zip3  {"970": "OR", "834": "ID WY", ...}: states served by a 3-digit ZIP prefix
     us_cities  {state code: "CITY|CITY|..."}: upper-case city names per state

Usage: python scripts/generate_address_words.py            rewrite the JSON file
       python scripts/generate_address_words.py --check    exit 1 if the file is stale (note: the
       zipcodes data changes with the package version; the version used is recorded in the file)
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "rulesets" / "address-words.json"

# Pub 28 Appendix C1: PRIMARY STANDARD [common abbreviations...]
C1 = """
ALLEY ALY ALLEE ALLY
ANEX ANX ANNEX ANNX
ARCADE ARC
AVENUE AVE AV AVEN AVENU AVN AVNUE
BAYOU BYU BAYOO
BEACH BCH
BEND BND
BLUFF BLF BLUF
BLUFFS BLFS
BOTTOM BTM BOT BOTTM
BOULEVARD BLVD BOUL BOULV
BRANCH BR BRNCH
BRIDGE BRG BRDGE
BROOK BRK
BROOKS BRKS
BURG BG
BURGS BGS
BYPASS BYP BYPA BYPAS BYPS
CAMP CP CMP
CANYON CYN CANYN CNYN
CAPE CPE
CAUSEWAY CSWY CAUSWA
CENTER CTR CEN CENT CENTR CENTRE CNTER CNTR
CENTERS CTRS
CIRCLE CIR CIRC CIRCL CRCL CRCLE
CIRCLES CIRS
CLIFF CLF
CLIFFS CLFS
CLUB CLB
COMMON CMN
COMMONS CMNS
CORNER COR
CORNERS CORS
COURSE CRSE
COURT CT
COURTS CTS
COVE CV
COVES CVS
CREEK CRK
CRESCENT CRES CRSENT CRSNT
CREST CRST
CROSSING XING CRSSNG
CROSSROAD XRD
CROSSROADS XRDS
CURVE CURV
DALE DL
DAM DM
DIVIDE DV DIV DVD
DRIVE DR DRIV DRV
DRIVES DRS
ESTATE EST
ESTATES ESTS
EXPRESSWAY EXPY EXP EXPR EXPRESS EXPW
EXTENSION EXT EXTN EXTNSN
EXTENSIONS EXTS
FALL FALL
FALLS FLS
FERRY FRY FRRY
FIELD FLD
FIELDS FLDS
FLAT FLT
FLATS FLTS
FORD FRD
FORDS FRDS
FOREST FRST FORESTS
FORGE FRG FORG
FORGES FRGS
FORK FRK
FORKS FRKS
FORT FT FRT
FREEWAY FWY FREEWY FRWAY FRWY
GARDEN GDN GARDN GRDEN GRDN
GARDENS GDNS GRDNS
GATEWAY GTWY GATEWY GATWAY GTWAY
GLEN GLN
GLENS GLNS
GREEN GRN
GREENS GRNS
GROVE GRV GROV
GROVES GRVS
HARBOR HBR HARB HARBR HRBOR
HARBORS HBRS
HAVEN HVN
HEIGHTS HTS HT
HIGHWAY HWY HIGHWY HIWAY HIWY HWAY
HILL HL
HILLS HLS
HOLLOW HOLW HLLW HOLLOWS HOLWS
INLET INLT
ISLAND IS ISLND
ISLANDS ISS ISLNDS
ISLE ISLE ISLES
JUNCTION JCT JCTION JCTN JUNCTN JUNCTON
JUNCTIONS JCTS JCTNS
KEY KY
KEYS KYS
KNOLL KNL KNOL
KNOLLS KNLS
LAKE LK
LAKES LKS
LAND LAND
LANDING LNDG LNDNG
LANE LN
LIGHT LGT
LIGHTS LGTS
LOAF LF
LOCK LCK
LOCKS LCKS
LODGE LDG LDGE LODG
LOOP LOOP LOOPS
MALL MALL
MANOR MNR
MANORS MNRS
MEADOW MDW
MEADOWS MDWS MEDOWS
MEWS MEWS
MILL ML
MILLS MLS
MISSION MSN MISSN MSSN
MOTORWAY MTWY
MOUNT MT MNT
MOUNTAIN MTN MNTAIN MNTN MOUNTIN MTIN
MOUNTAINS MTNS MNTNS
NECK NCK
ORCHARD ORCH ORCHRD
OVAL OVAL OVL
OVERPASS OPAS
PARK PARK PRK
PARKS PARK
PARKWAY PKWY PARKWY PKWAY PKY
PARKWAYS PKWY PKWYS
PASS PASS
PASSAGE PSGE
PATH PATH PATHS
PIKE PIKE PIKES
PINE PNE
PINES PNES
PLACE PL
PLAIN PLN
PLAINS PLNS
PLAZA PLZ PLZA
POINT PT
POINTS PTS
PORT PRT
PORTS PRTS
PRAIRIE PR PRR
RADIAL RADL RAD RADIEL
RAMP RAMP
RANCH RNCH RANCHES RNCHS
RAPID RPD
RAPIDS RPDS
REST RST
RIDGE RDG RDGE
RIDGES RDGS
RIVER RIV RVR RIVR
ROAD RD
ROADS RDS
ROUTE RTE
ROW ROW
RUE RUE
RUN RUN
SHOAL SHL
SHOALS SHLS
SHORE SHR SHOAR
SHORES SHRS SHOARS
SKYWAY SKWY
SPRING SPG SPNG SPRNG
SPRINGS SPGS SPNGS SPRNGS
SPUR SPUR
SPURS SPUR
SQUARE SQ SQR SQRE SQU
SQUARES SQS SQRS
STATION STA STATN STN
STRAVENUE STRA STRAV STRAVEN STRAVN STRVN STRVNUE
STREAM STRM STREME
STREET ST STRT STR
STREETS STS
SUMMIT SMT SUMIT SUMITT
TERRACE TER TERR
THROUGHWAY TRWY
TRACE TRCE TRACES
TRACK TRAK TRACKS TRK TRKS
TRAFFICWAY TRFY
TRAIL TRL TRAILS TRLS
TRAILER TRLR TRLRS
TUNNEL TUNL TUNEL TUNLS TUNNELS TUNNL
TURNPIKE TPKE TRNPK TURNPK
UNDERPASS UPAS
UNION UN
UNIONS UNS
VALLEY VLY VALLY VLLY
VALLEYS VLYS
VIADUCT VIA VDCT VIADCT
VIEW VW
VIEWS VWS
VILLAGE VLG VILL VILLAG VILLG VILLIAGE
VILLAGES VLGS
VILLE VL
VISTA VIS VIST VST VSTA
WALK WALK
WALKS WALK
WALL WALL
WAY WAY WY
WAYS WAYS
WELL WL
WELLS WLS
"""

# Street types used in Canada and the UK that Pub 28 does not list (Canada Post's street type
# table and Royal Mail usage).
OTHER_STREET_TYPES = ["CLOSE", "CHASE", "RISE", "PARADE", "QUAY", "WYND", "GATE", "ESPLANADE", "CROFT",
                      "CIRCUIT", "CONCESSION", "GROUNDS", "HIGHLANDS", "PROMENADE", "SIDEROAD"]
# Abbreviations of street types that Pub 28 does not list but people write (`Dickens Lp`,
# `Haskins Cl`): abbreviation -> street type.
OTHER_ABBREVIATIONS = {"LP": "LOOP", "CL": "CLOSE", "PDE": "PARADE", "CRT": "COURT", "CCT": "CIRCUIT"}

# Pub 28 Appendix C2: NAME ABBREVIATION (only the designators that take a number or letter).
C2 = """
APARTMENT APT
BUILDING BLDG
DEPARTMENT DEPT
FLOOR FL
HANGAR HNGR
LOT LOT
PIER PIER
ROOM RM
SLIP SLIP
SPACE SPC
STOP STOP
SUITE STE
TRAILER TRLR
UNIT UNIT
FLAT FLAT
"""

# Pub 28 Appendix B: the states, DC and the inhabited territories.
STATES = {
    "AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA",
    "CO": "COLORADO", "CT": "CONNECTICUT", "DE": "DELAWARE", "DC": "DISTRICT OF COLUMBIA",
    "FL": "FLORIDA", "GA": "GEORGIA", "HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS", "IN": "INDIANA",
    "IA": "IOWA", "KS": "KANSAS", "KY": "KENTUCKY", "LA": "LOUISIANA", "ME": "MAINE", "MD": "MARYLAND",
    "MA": "MASSACHUSETTS", "MI": "MICHIGAN", "MN": "MINNESOTA", "MS": "MISSISSIPPI", "MO": "MISSOURI",
    "MT": "MONTANA", "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY",
    "NM": "NEW MEXICO", "NY": "NEW YORK", "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA", "OH": "OHIO",
    "OK": "OKLAHOMA", "OR": "OREGON", "PA": "PENNSYLVANIA", "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA",
    "SD": "SOUTH DAKOTA", "TN": "TENNESSEE", "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT",
    "VA": "VIRGINIA", "WA": "WASHINGTON", "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING",
    "AS": "AMERICAN SAMOA", "GU": "GUAM", "MP": "NORTHERN MARIANA ISLANDS", "PR": "PUERTO RICO",
    "VI": "VIRGIN ISLANDS",
}

# Canada Post: province/territory symbol -> (name, first letters of its postal codes).
PROVINCES = {
    "AB": ("ALBERTA", "T"), "BC": ("BRITISH COLUMBIA", "V"), "MB": ("MANITOBA", "R"),
    "NB": ("NEW BRUNSWICK", "E"), "NL": ("NEWFOUNDLAND AND LABRADOR", "A"), "NS": ("NOVA SCOTIA", "B"),
    "NT": ("NORTHWEST TERRITORIES", "X"), "NU": ("NUNAVUT", "X"), "ON": ("ONTARIO", "KLMNP"),
    "PE": ("PRINCE EDWARD ISLAND", "C"), "QC": ("QUEBEC", "GHJ"), "SK": ("SASKATCHEWAN", "S"),
    "YT": ("YUKON", "Y"),
}

# Royal Mail postcode areas (the letters before the first digit of a UK postcode).
UK_POSTCODE_AREAS = """
AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH
EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME
MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW
SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE
""".split()


def build() -> str:
    import zipcodes  # only the generator needs it; the detector reads the JSON

    suffixes = {}
    for line in C1.strip().splitlines():
        primary, *abbreviations = line.split()
        suffixes[primary] = list(dict.fromkeys(abbreviations))
    units = {}
    for line in C2.strip().splitlines():
        name, abbreviation = line.split()
        units[name] = [abbreviation] if abbreviation != name else []

    cities: dict[str, set[str]] = {code: set() for code in STATES}
    zip3: dict[str, set[str]] = {}
    for entry in zipcodes.list_all():
        state = entry["state"]
        if state not in STATES or entry["country"] not in ("US", ""):
            continue
        zip3.setdefault(entry["zip_code"][:3], set()).add(state)
        for city in [entry["city"], *entry["acceptable_cities"]]:
            name = " ".join(city.upper().replace(".", " ").split())
            if name:
                cities[state].add(name)

    data = {
        "_source": "scripts/generate_address_words.py: USPS Publication 28 (public domain); "
                   f"zipcodes {version('zipcodes')} (MIT); see rulesets/SOURCES.md",
        "street_suffixes": suffixes,
        "other_street_types": OTHER_STREET_TYPES,
        "other_abbreviations": OTHER_ABBREVIATIONS,
        "unit_designators": units,
        "us_states": STATES,
        "ca_provinces": {code: [name, letters] for code, (name, letters) in PROVINCES.items()},
        "uk_postcode_areas": UK_POSTCODE_AREAS,
        "us_zip3": {prefix: " ".join(sorted(states)) for prefix, states in sorted(zip3.items())},
        "us_cities": {state: "|".join(sorted(names)) for state, names in cities.items()},
    }
    return json.dumps(data, indent=0, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    text = build()
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: rerun scripts/generate_address_words.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text):,} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
