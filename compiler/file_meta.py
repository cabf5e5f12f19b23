"""The file meta group (0002, PS3.10 Table 7.1-1): which elements deidc writes itself, and which
identify where a file came from. One home for both: the compiler refuses rules on the first, the
walk and `explain` leave them to the writer, and the shipped rulesets' generators remove the second.
"""
from __future__ import annotations

from pydicom.datadict import tag_for_keyword

from deidc.dicom import format_tag

# File meta elements (group 0002) that deidc writes itself, so no rule may decide them: the
# writer computes the group length, keeps the header version, sets the Media Storage SOP Class
# and Instance UIDs from the dataset's SOPClassUID and SOPInstanceUID, writes the output in the
# input's transfer syntax, and keeps the implementation UID and name it read (or writes its own
# when there are none). Tag -> (keyword, why), for the compiler's message.
FILE_META_OWNED: dict[int, tuple[str, str]] = {
    0x00020000: ("FileMetaInformationGroupLength", "it is the length of the group as written"),
    0x00020001: ("FileMetaInformationVersion", "it is the version of the file meta header format"),
    0x00020002: ("MediaStorageSOPClassUID", "it is set from SOPClassUID"),
    0x00020003: ("MediaStorageSOPInstanceUID", "it is set from the new SOPInstanceUID"),
    0x00020010: ("TransferSyntaxUID", "it states the transfer syntax the output is written in, the input's"),
    0x00020012: ("ImplementationClassUID", "it names the implementation that wrote the file"),
    0x00020013: ("ImplementationVersionName", "it names the implementation that wrote the file"),
}

# File meta elements (all Type 3) that name the applications and network addresses a file came
# from or went to, or carry an application's private data: both shipped rulesets remove them.
# (Table E.1-1 and TCIA's table list only MediaStorageSOPInstanceUID of group 0002.)
IDENTIFYING_FILE_META: dict[str, str] = {
    "SourceApplicationEntityTitle": "the AE title of the application that created the file",
    "SendingApplicationEntityTitle": "the AE title of the application that sent it",
    "ReceivingApplicationEntityTitle": "the AE title of the application that received it",
    "SourcePresentationAddress": "the network address of the source",
    "SendingPresentationAddress": "the network address of the sender",
    "ReceivingPresentationAddress": "the network address of the receiver",
    "PrivateInformationCreatorUID": "who wrote the private information",
    "PrivateInformation": "private data of the application that wrote the file",
}


def identifying_meta_rules() -> list[tuple[str, str]]:
    """(rule, comment) removing each identifying file meta element, as the generators write them."""
    rules = []
    for keyword, what in IDENTIFYING_FILE_META.items():
        tag = tag_for_keyword(keyword)
        if tag is None or tag >> 16 != 0x0002:
            raise ValueError(f"{keyword} is not a file meta element of the data dictionary")
        rules.append((f"{keyword} -> remove", f"{format_tag(tag)} {what}"))
    return rules
