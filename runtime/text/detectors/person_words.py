"""Word lists and name data of the `person` detector (matching in person.py and person_*.py).

- the name data (rulesets/person-names.csv, from the 1990 US Census lists and pyspellchecker's
  English word counts; scripts/generate_name_data.py): per token, whether it is a first name, how
  frequent a surname and how common an English word, read once per process on first use;
- cue phrases by kind: `strong` (relation and contact words, labels), `weak`, `title`, `staff`
  and `patient` (a name of the patient's side after a word that also names staff: `referring
  Harvey for ...`);
- the words that keep ordinary text: stop words, clinical abbreviations and words, everyday
  words, eponyms and the words after a name that make it an eponym, institutions and places.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

from deidc.runtime.text.phi import GENERIC_WORDS

DATA = Path(__file__).resolve().parents[3] / "rulesets" / "person-names.csv"

# `word` classes of the data: floor(4 * log10(count in pyspellchecker's English list))
COMMON = 17  # >= 17,783: an everyday word (may, hope, grant, brown, wood)
WORDY = 12  # >= 1,000


class Name(NamedTuple):
    first: int  # 1 common first name, 2 other listed first name, 0 not a first name
    surname: int  # 1 rank <= 1,000, 2 <= 10,000, 3 <= 40,000, 0 not listed
    word: int  # word class, 0 when not in the English list


NOTHING = Name(0, 0, 0)


@cache
def name_data() -> dict[str, Name]:
    """Token (upper case, letters only) → its name and word classes; read once per process."""
    table: dict[str, Name] = {}
    with DATA.open(encoding="utf-8") as fh:
        next(fh)  # header
        for line in fh:
            token, first, surname, word = line.rstrip("\n").split(",")
            table[token] = Name(int(first or 0), int(surname or 0), int(word or 0))
    return table


def token_key(token: str) -> str:
    return token.upper().replace("'", "").replace("’", "")


def lookup(token: str) -> Name:
    """A token's classes; a hyphenated token is a name when every part is, a word when any is."""
    data = name_data()
    parts = [p for p in token_key(token).split("-") if p]
    if len(parts) == 1:
        return data.get(parts[0], NOTHING)
    infos = [data.get(p, NOTHING) for p in parts]
    first = infos[0].first if all(i.first or i.surname for i in infos) else 0
    surname = max(i.surname for i in infos) if all(i.surname or i.first for i in infos) else 0
    return Name(first, surname, max(i.word for i in infos))


def namelike(n: Name) -> bool:
    """A listed name that is not an everyday word (rare surnames: not even a frequent one)."""
    if n.word >= COMMON:
        return False
    return bool(n.first or n.surname in (1, 2) or (n.surname == 3 and n.word < WORDY))


def listed(n: Name) -> bool:
    return bool(n.first or n.surname)


# --- word lists (lower case for cues and connectors, upper case for tokens) -------------------

_STRONG = """
next of kin|next-of-kin|nok|kin|spouse|wife|husband|partner|fiance|fiancee|fiancé|fiancée|
boyfriend|girlfriend|mother|mom|mum|mommy|mama|father|dad|daddy|papa|parent|parents|
stepmother|stepfather|step-mother|step-father|stepson|stepdaughter|stepbrother|stepsister|
mother-in-law|father-in-law|son-in-law|daughter-in-law|brother-in-law|sister-in-law|
son|daughter|child|sister|brother|sibling|twin|aunt|auntie|uncle|niece|nephew|cousin|
grandmother|grandfather|grandma|grandpa|granny|grandparent|grandson|granddaughter|grandchild|
great-grandmother|great-grandfather|godmother|godfather|
guardian|legal guardian|caregiver|care giver|carer|emergency contact|contact person|contact name|
friend|neighbour|neighbor|roommate|housemate|flatmate|landlord|landlady|employer|relative|
family member|proxy|health care proxy|healthcare proxy|hcp|poa|power of attorney|surrogate|
representative|accompanied by|escorted by|brought in by|visited by|discussed with|spoke with|
spoke to|speak with|speak to|talked with|talked to|conversation with|message left with|
left message with|left message for|message for|care of|c/o|attn|attention|
ask for|asked for|asking for|ask to speak with|ask to speak to|call back|callback to|
aide|home aide|health aide|home health aide|case manager|case worker|caseworker|social worker|
interpreter|translator|sitter|guarantor|subscriber|insured|policyholder|policy holder|
responsible party|bill to|billed to|send bill to|statement to|released to|given to|picked up by
"""
_WEAK = """
per|called|informed|notified|contact|pt|patient|re|scheduled by|registered by|booked by|
reported by|observed by|requested by|witnessed by|sent to
"""
# labels: a name when followed by `:`, `-` or `=` (`Name: Kalani Brightwater`)
_LABEL = """
name|full name|patient name|pt name|name of patient|patient|pt|registration|registered to|
account holder|account name
"""
_TITLES = "mr|mrs|ms|miss|mx|mister|madam|mme|mlle"
_STAFF = """
dr|doctor|prof|professor|read by|dictated by|signed by|reviewed by|interpreted by|performed by|
verified by|approved by|transcribed by|referred by|ordered by|referring|referring physician|
attending|radiologist|physician|technologist|tech|sonographer|resident|nurse|rn|np|cc
"""


def _phrases(spec: str) -> set[tuple[str, ...]]:
    return {tuple(p.split()) for p in spec.replace("\n", "").split("|") if p.strip()}


STRONG, WEAK, LABELS, TITLES, STAFF = (_phrases(s) for s in (_STRONG, _WEAK, _LABEL, _TITLES, _STAFF))
CUES: dict[tuple[str, ...], str] = {
    **{p: "strong" for p in STRONG}, **{p: "weak" for p in WEAK},
    **{p: "title" for p in TITLES}, **{p: "staff" for p in STAFF}, **{p: "label" for p in LABELS},
}
# a label without its `:` is the weak cue it also is (`pt Jermaine`), or no cue (`name`)
CUES_UNLABELLED = {p: k for p, k in {**{p: "strong" for p in STRONG}, **{p: "weak" for p in WEAK}}.items() if p in LABELS}
CUE_LENGTH = max(len(p) for p in CUES)
CONNECTORS = frozenset({"is", "was", "named", "name", "names", "the"})

# never a name token
STOP = frozenset("""
A AN AND OR OF TO AT BY IN ON FOR WITH FROM AS BUT NOT NO NOR YES SO IF THAN THEN THERE HERE
HIS HER HERS THEIR THEIRS ITS MY OUR YOUR HE SHE THEY HIM THEM IT WE I YOU ME US WHO WHOM WHOSE
WHICH WHAT WHEN WHERE WHY HOW THIS THAT THESE THOSE IS ARE WAS WERE BE BEEN BEING HAS HAVE HAD
DO DOES DID CAN COULD SHOULD WOULD MUST SHALL ALSO ALL ANY EACH BOTH EITHER NEITHER SOME SAME
OTHER ABOUT AFTER BEFORE DURING UNTIL SINCE VIA PER RE NONE UNKNOWN NA PATIENT PT FAMILY
""".split())

# clinical abbreviations that are also listed names: never a name in capitals
CLINICAL_ABBREV = frozenset("""
AP PA LAT LL RL LLD RLD CT MR MRI MRA MRV CTA PET US XR DX CR DR MG NM OT SC RF XA PT SR KO PR
AX COR SAG OBL TRA CC MLO XCC ML LM SPOT MAG BI BIL BILAT LT RT LEFT RIGHT ANT POST SUP INF
TSE FSE SE GRE DWI ADC STIR SWI FLAIR EPI MIP MPR VR SSD TR TE TI NEX ETL FOV ROI SUV KV KVP
MA MAS MGY MSV MBQ MCI HU DLP CTDI IV IM PO SQ ED ER OR ICU CCU NICU PICU PACU ECG EKG EEG EMG
ALT AST ARB APP CAP DIA SYS HER ION MAX MIN RAD SUM TRI VAL DEC ACC NAC CTAC WB HN ABD PEL
FDG PSMA HR BP RR MI CHF CAD COPD DM HTN CVA TIA PE DVT GI GU ENT OB GYN ORTHO NEURO ONC
LUL LLL RUL RML RLL IVC SVC RV LV RA LA AO PDA LAD LCX RCA SMA SMV IMA CBD PD LN LNS
ADD ALL ANA ARM BAD BIG BOX CAM CAR COX DRY EAR ERA EYE FAN FEE FEW FIX FLY GAP GUM HIP HEM
ICE ION JAW KEY LAB LAW LAY LEG LID LIP LOW MAN MAP MOM NEW OLD PAD PAN PEN PIN POP RED RIB
RIM ROW SAC SEA SEE SIX SON TAN TOE TOP TOY TRY WAX WAY WEE ZOE
""".split())

# clinical words that are also listed first names or surnames: never a name, except in Title
# case right after a relation word or title
CLINICAL_WORDS = frozenset("""
ANGLE IRIS ECHO ALPHA BETA GAMMA DELTA GENE RAY XRAY MANUAL MARINE AIDE CHIN FRANK PATIENCE
LUPUS GOUT SEPSIS ASTHMA CANCER STROKE DIABETES DEMENTIA ARTHRITIS MIGRAINE SEIZURES EPILEPSY
DEPRESSION ANXIETY OBESITY ALCOHOLISM HEALTHY ALIVE DECEASED LIVING UNKNOWN ADOPTED NEGATIVE
MASS BRAIN HEAD HEART KNEE HAND FOOT BACK BODY NECK CHEST BREAST BONE HIP PALM LUNG LIVER
DRAIN SWALLOW POST BAND BANDS CAGE CROSS FLOOD CENTER NURSE DOCTOR GENERAL MAJOR CARDINAL
DOPPLER TESLA GAUSS FOURIER LARMOR BLOCH COMPTON BRAGG NEWTON KELVIN JOULE WATT HERTZ
""".split())
# everyday words, months, days and places that are also names: never a name without a cue or
# after a weak cue; after a relation word in Title case they are (`wife Rose`)
EVERYDAY_WORDS = frozenset("""
GRACE HOPE FAITH JOY DAWN SUMMER AUTUMN WINTER SPRING APRIL JUNE AUGUST MAY MARCH JANUARY
ISLE CHERRY OLIVE CORAL IVORY AMBER JADE PEARL RUBY CRYSTAL SAGE HOLLY IVY LILY ROSE DAISY
VIOLET HAZEL HEATHER GINGER CANDY BRANDY SHERRY CHAMPAGNE TEQUILA LIBERTY TRINITY GENESIS
CONCEPTION AMERICA PARIS LONDON GENEVA BOSTON DENVER DALLAS HOUSTON AUSTIN PHOENIX JACKSON
CHARLOTTE VIRGINIA GEORGIA CAROLINA INDIANA FLORIDA NEVADA DAKOTA MONTANA ALABAMA WASHINGTON
SUNDAY MONDAY TUESDAY WEDNESDAY THURSDAY FRIDAY SATURDAY EASTER CHRISTMAS NOEL
BROWN GRAY GREY GREEN WHITE BLACK BLUE BILL GRANT LONG WOOD WARD DEAN REED HALL HILL
KING BISHOP POPE BARON KNIGHT MARSHAL MARSHALL SHERIFF PRINCE DUKE
BAKER COOK PORTER CARTER TAYLOR SMITH HUNTER FISHER FOWLER MASON TUCKER
STERLING ROMAN EARNEST BLOSSOM PIXIE SUNNY SUNSHINE STORMY RAVEN SPARROW ROBIN WREN
CASH CHASE CLAY COLE DALE FIELD FIELDS GLEN LANE PARK PARKS RIVERS ROCK ROCKY STONE
BELL BLOOM BUSH CANNON DRAKE FOX FROST GATES GOLD SILVER STEEL TEMPLE VANCE WALL WELLS WELL
WEST EAST NORTH SOUTH
""".split())
NOT_ALONE = CLINICAL_WORDS | EVERYDAY_WORDS

# medical eponyms: never a name without a cue (see also EPONYM_CONTEXT)
EPONYMS = frozenset("""
ADDISON ALZHEIMER ALPORT AMPLATZ APERT ARNOLD ASHERMAN BABINSKI BAKER BANKART BARLOW BARRE
BARRETT BARTHOLIN BARTON BECKER BEHCET BELL BENNETT BERNOULLI BERTOLOTTI BINSWANGER BLALOCK
BLOUNT BOCHDALEK BOERHAAVE BOSNIAK BOUVERET BOWEN BRENNER BRESLOW BROCA BRODIE BRUGADA
BUDD BURKITT CAROLI CASTLEMAN CHANCE CHARCOT CHIARI CHILAIDITI CHOPART CLARK COATS COBB
CODMAN COLLES CONN COOPER COUINAUD COURVOISIER COWDEN CREUTZFELDT CROHN CROUZON CULLEN
CUSHING DANDY DANLOS DENONVILLIERS DIGEORGE DOUGLAS DOWN DUCHENNE DUKES DUPUYTREN
EBSTEIN EDWARDS EHLERS EISENMENGER ELLISON ERB ESSEX EWING FABRY FAHR FALLOT FANCONI FEIL
FICK FLEISCHNER FOLEY FONTAN FOWLER FRAUMENI FREIBERG FRIEDREICH GALEAZZI GALEN GANZ GARDNER
GARTNER GAUCHER GEHRIG GERD GEROTA GILBERT GLASGOW GLEASON GLENN GLISSON GOODPASTURE GRAVES
GUILLAIN HAMMAN HAMPTON HANSEN HARRIS HASHIMOTO HAWKINS HENOCH HICKMAN HILL HIRSCHSPRUNG
HODGKIN HOFFA HOLTER HORNER HOUNSFIELD HUNTER HUNTINGTON HURLER JAKOB JEFFERSON JEGHERS
JONES JUDKINS KALLMANN KAPOSI KAWASAKI KEARNS KERLEY KIENBOCK KILLIAN KLATSKIN KLINEFELTER
KLIPPEL KLUMPKE KOHLER KOMMERELL KONNO KORSAKOFF KRABBE KRUKENBERG KUMMELL KUSSMAUL LACHMAN
LANGERHANS LEBER LEDDERHOSE LEGG LEIGH LERICHE LEYDIG LI LISFRANC LITTRE LOEFFLER LUSCHKA
LYNCH MADELUNG MAGENDIE MAISONNEUVE MALLORY MARFAN MARIE MCBURNEY MCMURRAY MECKEL MEIGS
MENETRIER MENIERE MENKES MEYERDING MILROY MIRIZZI MODIC MONDOR MONRO MONTEGGIA MORGAGNI
MORISON MORQUIO MORTON MUNCHAUSEN MURPHY MUSTARD NABOTH NEER NELSON NIEMANN NOONAN NORWOOD
NOTTINGHAM ODDI ORTNER OSGOOD OSLER PAGET PANCOAST PANNER PARKINSON PATAU PELLEGRINI
PERTHES PEUTZ PEYRONIE PFIRRMANN PHALEN PICK PIERRE PLUMMER POLAND POMPE POTT PREISER
RAMSAY RANKIN RASTELLI RATHKE RAYNAUD RECKLINGHAUSEN REITER RENDU RETZIUS RICHTER RIEDEL
RIGLER RISSER ROBIN ROLANDO ROSS ROTOR ROVSING SACHS SALTER SANDERS SANTORINI SAYRE SCARPA
SCHATZKER SCHEUERMANN SCHLATTER SCHMORL SEGOND SELDINGER SENNING SERTOLI SEVER SHEEHAN
SIMPSON SINDING SJOGREN SKENE SMITH SPIGELIAN STARGARDT STEIN STEVENS STIEDA STILL STOKES
STURGE SWAN SYLVIUS TAKAYASU TARLOV TAUSSIG TAY TEICHHOLZ TIETZE TINEL TODD TOURETTE TREITZ
TRENDELENBURG TURNER VALSALVA VATER VIRCHOW VOLKMANN WALDENSTROM WALDEYER WALKER WARTHIN
WEBER WEGENER WEISS WERNICKE WESTERMARK WHIPPLE WILLIS WILMS WILSON WIRSUNG WOLFF ZENKER
ZOLLINGER
""".split())

# a word after a name that makes it an eponym or a thing, not a person
EPONYM_CONTEXT = frozenset("""
disease diseases syndrome syndromes sign signs fracture fractures lymphoma lymphomas dementia
tumor tumour tumors tumours cyst cysts procedure procedures operation repair anastomosis
shunt circulation classification grade grading score scale criteria type stage staging palsy
phenomenon reflex test maneuver manoeuvre lesion lesions deformity esophagus oesophagus node
nodes nodule line lines catheter tube ulcer hernia diverticulum pouch space canal triangle
ligament duct gland glands cell cells bodies murmur effect law number unit units angle index
ratio view projection position sequence anomaly malformation disorder sarcoma carcinoma
cancer contracture neuroma neuralgia aneurysm fistula valve appendix arch artery vein nerve
sinus foramen fossa fat pad point method technique formula equation protocol filter kernel
algorithm reconstruction system catheters needle stent clip coil drain device score index
""".split())

INSTITUTION = GENERIC_WORDS | frozenset("""
FOUNDATION TRUST SCHOOL ASSOCIATES PRACTICE CORPORATION CORP INC LLC LTD COMPANY PAVILION
INFIRMARY SANATORIUM HOSPICE FACILITY PHARMACY LABS HOME HOUSE HALL CAMPUS PLAZA SQUARE PARK
COUNTY PARISH RIVER VALLEY BEACH HEIGHTS SPRINGS FALLS MANOR ESTATES GARDENS TERRACE
""".split())
PLACE_PREFIX = frozenset("""
SAN SANTA SANTO SAO ST STE SAINT FORT FT MOUNT MT LAKE PORT NEW EAST WEST NORTH SOUTH LOS LAS
LA EL DEL DES
""".split())
MONTHS = frozenset("""
JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER
JAN FEB MAR APR JUN JUL AUG SEP SEPT OCT NOV DEC
""".split())

# common English and medical word endings: an unlisted token with one is a word, not a name
_WORDISH = re.compile(
    r"(?:itis|osis|oma|omas|emia|aemia|ectomy|otomy|ostomy|plasty|scopy|graphy|gram|pathy|"
    r"algia|ology|ologic|ological|ism|ment|ments|ness|ity|ous|ive|ary|ory|ance|ence|tion|tions|"
    r"sion|sions|ing|ed|ly|ics|ical|ial|ular|able|ible|iasis|penia|cytosis|uria|trophy|"
    r"plasia|megaly|lysis|esis|ase|ine|ide|ate|um|ae|ii|ema|thorax|pnea|pnoea|rrhea|rrhoea|oid|cele|"
    r"ptosis|ectasis|ectasia)$", re.IGNORECASE)


def wordish(tok: str) -> bool:
    """A common English or medical word ending (an unlisted token with one is a word)."""
    return bool(_WORDISH.search(tok))


def is_eponym(key: str) -> bool:
    """An eponym (`CROHN`), or eponyms joined by hyphens (`OSGOOD-SCHLATTER`, `HILL-SACHS`)."""
    if key in EPONYMS:
        return True
    parts = [p for p in key.split("-") if p]
    return len(parts) > 1 and all(p in EPONYMS for p in parts)
