"""Shift DICOM DA / DT / TM text by an offset in seconds, keeping the format.

In:  the element's text (possibly multi-valued with backslashes, possibly
     padded with trailing spaces / NULs) and an integer offset in seconds.
Out: text of the same shape: same number of values, same precision, same
     separators (legacy ``YYYY.MM.DD`` and ``HH:MM:SS`` are kept), same
     fractional-second digits and timezone suffix. Padding is not re-added.

- DA moves by ``seconds // 86400`` whole days (floor, so a negative offset
  always moves dates backwards).
- DT gets the full offset; components absent from the input are taken as
  their lowest value (month/day 1, time 00:00:00) and absent from the output
  again, so ``YYYY`` / ``YYYYMM`` move by whole days from the 1st of the period.
  The sub-second fraction and the ``&ZZXX`` suffix are copied verbatim.
- TM moves by ``seconds % 86400``, wrapping around midnight.
A whole-day offset therefore never changes a TM value or the time of a DT.

Fail closed: a value that cannot be parsed (wrong shape, impossible date such
as 20230230, leap second 60, result outside years 1..9999) raises
DateFormatError that names the problem, never the value (it goes into the audit); the
runtime then empties the element rather than leaking the original.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import numpy as np

__all__ = ["DateFormatError", "shift_da", "shift_da_batch", "shift_dt", "shift_tm", "shift_value"]

_PAD = " \x00"
# [0-9] rather than \d: \d also matches non-ASCII digits.
_DA_RE = re.compile(r"([0-9]{4})(\.?)([0-9]{2})\2([0-9]{2})")
_DT_RE = re.compile(
    r"([0-9]{4})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})"
    r"(?:([0-9]{2})(\.[0-9]{1,6})?)?)?)?)?)?([+-][0-9]{4})?"
)
_TM_RE = re.compile(r"([0-9]{2})(?:(:?)([0-9]{2})(?:\2([0-9]{2})(\.[0-9]{1,6})?)?)?")


class DateFormatError(ValueError):
    """A DA/DT/TM value that cannot be parsed or shifted (element gets emptied). The message
    names the problem, never the value: it goes into the audit."""


def shift_da(value: str, seconds: int) -> str:
    """Shift a DA value (``YYYYMMDD`` or legacy ``YYYY.MM.DD``) by whole days."""
    text = value.strip(_PAD)
    m = _DA_RE.fullmatch(text)
    if m is None:
        raise DateFormatError("invalid DA value (expected YYYYMMDD)")
    year, sep, month, day = m.groups()
    try:
        d = date(int(year), int(month), int(day)) + timedelta(days=seconds // 86400)
    except (ValueError, OverflowError):
        raise DateFormatError("invalid DA date (no such day), or out of range once shifted") from None
    return f"{d.year:04d}{sep}{d.month:02d}{sep}{d.day:02d}"


def shift_dt(value: str, seconds: int) -> str:
    """Shift a DT value ``YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]`` keeping precision."""
    text = value.strip(_PAD)
    m = _DT_RE.fullmatch(text)
    if m is None:
        raise DateFormatError("invalid DT value (expected YYYYMMDDHHMMSS.FFFFFF&ZZXX)")
    year, month, day, hour, minute, sec, frac, tz = m.groups()
    if tz is not None and (int(tz[1:3]) > 14 or int(tz[3:5]) > 59):
        raise DateFormatError("invalid DT timezone offset")
    try:
        dt = datetime(
            int(year), int(month or 1), int(day or 1),
            int(hour or 0), int(minute or 0), int(sec or 0),
        ) + timedelta(seconds=seconds)
    except (ValueError, OverflowError):
        raise DateFormatError("invalid DT date or time (no such day), or out of range once shifted") from None
    parts = [f"{dt.year:04d}"]
    for present, field in ((month, dt.month), (day, dt.day), (hour, dt.hour),
                           (minute, dt.minute), (sec, dt.second)):
        if present is None:
            break
        parts.append(f"{field:02d}")
    return "".join(parts) + (frac or "") + (tz or "")


def shift_tm(value: str, seconds: int) -> str:
    """Shift a TM value ``HH[MM[SS[.F]]]`` (or ``HH:MM[:SS[.F]]``), wrapping at midnight."""
    text = value.strip(_PAD)
    m = _TM_RE.fullmatch(text)
    if m is None:
        raise DateFormatError("invalid TM value (expected HHMMSS.FFFFFF)")
    hour, sep, minute, sec, frac = m.groups()
    h, mi, s = int(hour), int(minute or 0), int(sec or 0)
    if h > 23 or mi > 59 or s > 59:
        raise DateFormatError("invalid TM value (expected HHMMSS.FFFFFF)")
    total = (h * 3600 + mi * 60 + s + seconds) % 86400
    h, rest = divmod(total, 3600)
    mi, s = divmod(rest, 60)
    out = f"{h:02d}"
    if minute is not None:
        out += f"{sep}{mi:02d}"
    if sec is not None:
        out += f"{sep}{s:02d}" + (frac or "")
    return out


_SHIFTERS = {"DA": shift_da, "DT": shift_dt, "TM": shift_tm}


def shift_value(vr: str, value: str, seconds: int) -> str:
    """Shift every backslash-separated value of a DA/DT/TM element.

    Padding is stripped first; empty components stay empty. Any bad component
    raises DateFormatError for the whole element. Unknown VR -> ValueError.
    """
    shifter = _SHIFTERS.get(vr)
    if shifter is None:
        raise ValueError(f"cannot date-shift VR {vr!r} (expected DA, DT or TM)")
    parts = value.strip(_PAD).split("\\")
    return "\\".join(shifter(p, seconds) if p.strip(_PAD) else "" for p in parts)


_PLAIN_DA = re.compile(r"[0-9]{8}")


def shift_da_batch(values: list[str], seconds: list[int]) -> list[str | Exception]:
    """Shift many DA values (each possibly multi-valued) at once: the plain `YYYYMMDD` components
    go through one numpy datetime64 addition; anything else (legacy dots, empty components) and
    any value numpy refuses is shifted by `shift_value`. A value that cannot be shifted yields its
    DateFormatError instead of a text."""
    parts = [value.strip(_PAD).split("\\") for value in values]
    plain = [(i, j, p) for i, ps in enumerate(parts) for j, p in enumerate(ps) if _PLAIN_DA.fullmatch(p)]
    out: list[str | Exception | None] = [None] * len(values)
    if plain:
        try:
            days = np.array([f"{p[:4]}-{p[4:6]}-{p[6:]}" for _, _, p in plain], dtype="datetime64[D]")
            offsets = np.array([seconds[i] // 86400 for i, _, _ in plain], dtype="timedelta64[D]")
            moved = np.datetime_as_string(days + offsets, unit="D")
        except ValueError:  # an impossible date (20230230) somewhere: value by value below
            moved = None
        if moved is not None and all(len(m) == 10 for m in moved):  # years 1..9999 only
            for (i, j, _), text in zip(plain, moved.tolist(), strict=True):
                parts[i][j] = text.replace("-", "")
            done = {i for i, _, _ in plain}
            for i in done:
                if all(_PLAIN_DA.fullmatch(p) for p in parts[i]):
                    out[i] = "\\".join(parts[i])
    shifted: list[str | Exception] = []
    for i, value in enumerate(values):
        text = out[i]
        if text is None:
            try:
                text = shift_value("DA", value, seconds[i])
            except DateFormatError as err:
                text = err
        shifted.append(text)
    return shifted
