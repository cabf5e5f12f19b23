"""What the structural check (runtime/codec/integrity.py) adds about pixel data: is it stored as its
transfer syntax says, and, for a staged output, can it be decoded?

In: what the walk (runtime/codec/integrity_walk.py) found at the top level — under PIXEL_DATA the pixel
data's length (UNDEFINED if encapsulated), under IMAGE_TAGS the image attributes as (VR, value
bytes) — and the transfer syntax as a known UID (None when unknown or missing). Out: nothing, or
`Malformed` with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydicom.pixels.utils import get_expected_length
from pydicom.uid import UID

from deidc.runtime.codec.integrity_walk import Malformed
from deidc.runtime.codec.rawread import PIXEL_DATA, UNDEFINED

# What the output check reads to know how long native pixel data must be
ROWS, COLUMNS, SAMPLES, BITS = 0x00280010, 0x00280011, 0x00280002, 0x00280100
FRAMES, PHOTOMETRIC = 0x00280008, 0x00280004
IMAGE_TAGS = frozenset({ROWS, COLUMNS, SAMPLES, BITS, FRAMES, PHOTOMETRIC})


def check_encapsulation(length: int | None, syntax: UID | None) -> None:
    """Pixel data encapsulated (undefined length) exactly when the transfer syntax is encapsulated."""
    if length is None or syntax is None or (length == UNDEFINED) == syntax.is_encapsulated:
        return
    found, declared = ("encapsulated", "native") if length == UNDEFINED else ("native", "encapsulated")
    raise Malformed(f"malformed: pixel data is {found} but the transfer syntax {syntax} ({syntax.name}) is {declared}")


@dataclass
class _ImagePixels:
    """The attributes pydicom's `get_expected_length` reads, decoded here from their bytes
    (building a pydicom Dataset for them would cost more than the whole walk)."""
    Rows: int
    Columns: int
    SamplesPerPixel: int
    BitsAllocated: int
    NumberOfFrames: int
    PhotometricInterpretation: str


def check_pixels(image: dict, syntax: UID | None, little: bool) -> None:
    """Pixel data as the transfer syntax says: encapsulated under an encapsulated syntax, native
    otherwise, and native pixel data at least as long as its image attributes make it (readers
    decode the frames and ignore trailing padding, as in pydicom's MR_small_padded.dcm)."""
    length = image.get(PIXEL_DATA)
    if length is None or syntax is None or syntax.is_encapsulated:
        return
    numbers, problems = {}, []
    for tag, name in ((ROWS, "Rows"), (COLUMNS, "Columns"), (SAMPLES, "SamplesPerPixel"), (BITS, "BitsAllocated")):
        vr, value = image.get(tag, (None, b""))
        if not value:
            problems.append(f"no {name}")
        elif vr not in (None, "US", "UN") or len(value) != 2:
            problems.append(f"{name} is not one US value")
        else:
            numbers[name] = int.from_bytes(value, "little" if little else "big")
    frames_text = image.get(FRAMES, (None, b""))[1].strip(b" \x00")
    try:
        frames = int(frames_text) if frames_text else 1
    except ValueError:
        problems.append(f"NumberOfFrames {frames_text!r} is not a number")
    photometric = image.get(PHOTOMETRIC, (None, b""))[1].decode("ascii", "replace").strip(" \x00")
    if not photometric:
        problems.append("no PhotometricInterpretation")
    if problems:
        raise Malformed(f"native pixel data that cannot be decoded: {', '.join(problems)}")
    # _ImagePixels stands in for a Dataset: get_expected_length reads only these attributes
    expected = get_expected_length(_ImagePixels(NumberOfFrames=frames or 1,  # type: ignore[arg-type]
                                                PhotometricInterpretation=photometric, **numbers), "bytes")
    expected += expected & 1
    if length < expected:  # more is decoded as pydicom and dcmtk do: the frames, then padding
        raise Malformed(f"native pixel data of {length} bytes where Rows, Columns, SamplesPerPixel, "
                        f"BitsAllocated and NumberOfFrames make {expected}")
