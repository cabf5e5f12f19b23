"""Unit tests for deidc.runtime.interpret.dates (format-preserving DA/DT/TM shifts)."""

import pytest

from deidc.runtime.interpret.dates import DateFormatError, shift_da, shift_dt, shift_tm, shift_value

DAY = 86400


@pytest.mark.parametrize(
    "value, seconds, expected",
    [
        ("20200301", -DAY, "20200229"),
        ("20210301", -DAY, "20210228"),
        ("20201231", DAY, "20210101"),
        ("20200101", 0, "20200101"),
        ("20200101", -1, "20191231"),  # floor: any negative offset moves back
        ("20200101", DAY - 1, "20200101"),
        ("20200101", -365 * DAY, "20190101"),
        ("2020.03.01", -DAY, "2020.02.29"),  # legacy ACR-NEMA form kept
        ("20200101 ", DAY, "20200102"),
    ],
)
def test_shift_da(value, seconds, expected):
    assert shift_da(value, seconds) == expected


@pytest.mark.parametrize(
    "value, seconds, expected",
    [
        ("20200101120000", 3600, "20200101130000"),
        ("20201231233000", 3600, "20210101003000"),
        ("20200101120000.123456+0100", -DAY, "20191231120000.123456+0100"),
        ("20200101000000.5-0500", -1, "20191231235959.5-0500"),
        ("202001011200", 90, "202001011201"),
        ("2020010112", 7200, "2020010114"),
        ("20200101", -DAY, "20191231"),
        ("20200101", -3600, "20191231"),
        ("202003", -DAY, "202002"),  # anchored on the 1st of the month
        ("202003", 10 * DAY, "202003"),
        ("2020", -DAY, "2019"),  # anchored on Jan 1st
        ("2020", 100 * DAY, "2020"),
        ("2020+0000", -DAY, "2019+0000"),
        ("20200101120000+1400", 30 * DAY, "20200131120000+1400"),
    ],
)
def test_shift_dt(value, seconds, expected):
    assert shift_dt(value, seconds) == expected


@pytest.mark.parametrize(
    "value, seconds, expected",
    [
        ("233000", 3600, "003000"),
        ("003000", -3600, "233000"),
        ("120000.123", 61, "120101.123"),
        ("1200", 90, "1201"),
        ("12", 3600, "13"),
        ("23", 3600, "00"),
        ("12:30:00", 3600, "13:30:00"),
        ("12:30", -DAY - 60, "12:29"),
        ("23:59:59.999999", 1, "00:00:00.999999"),
    ],
)
def test_shift_tm(value, seconds, expected):
    assert shift_tm(value, seconds) == expected


@pytest.mark.parametrize("days", [1, -1, 365, -3650])
def test_whole_day_shifts_keep_times(days):
    for tm in ("233000", "12:30:00.5", "07", "0000"):
        assert shift_tm(tm, days * DAY) == tm
    out = shift_dt("20200615143015.25+0200", days * DAY)
    assert out.endswith("143015.25+0200")


def test_shift_value_multi_valued_and_padding():
    assert shift_value("DA", "20200101\\20200102", DAY) == "20200102\\20200103"
    assert shift_value("DA", "20200101\\\\20200102 ", DAY) == "20200102\\\\20200103"
    assert shift_value("TM", "233000\\010000", 3600) == "003000\\020000"
    assert shift_value("DT", "2020\\20200101120000", -DAY) == "2019\\20191231120000"
    assert shift_value("DA", "", DAY) == ""
    assert shift_value("DA", "  ", DAY) == ""
    assert shift_value("TM", "1200\x00", 60) == "1201"


def test_shift_value_unknown_vr():
    with pytest.raises(ValueError):
        shift_value("LO", "20200101", DAY)


@pytest.mark.parametrize(
    "vr, value",
    [
        ("DA", "20230230"),  # impossible date
        ("DA", "20231301"),
        ("DA", "2023-01-01"),
        ("DA", "2023.0101"),  # mixed separators
        ("DA", "2023010"),
        ("DA", "20200101-20200131"),  # range matching is for queries only
        ("DA", "２０２００１０１"),  # full-width digits
        ("DA", "UNKNOWN"),
        ("DT", "20230230120000"),
        ("DT", "20200101250000"),
        ("DT", "202001011200001"),
        ("DT", "20200101120000.1234567"),
        ("DT", "20200101120000+01"),
        ("DT", "20200101120000+2500"),
        ("DT", "20200101.5"),  # fraction only after seconds
        ("TM", "240000"),
        ("TM", "126000"),
        ("TM", "235960"),  # leap second: not supported, fail closed
        ("TM", "12:3000"),  # mixed separators
        ("TM", "1"),
        ("TM", "12.5"),
        ("DA", "20200101\\garbage"),  # one bad component fails the element
    ],
)
def test_invalid_values_raise(vr, value):
    with pytest.raises(DateFormatError) as info:
        shift_value(vr, value, DAY)
    assert str(info.value).startswith(f"invalid {vr}")
    assert value.split("\\")[-1] not in str(info.value)  # the message goes into the audit: never the value


def test_out_of_range_results_raise():
    with pytest.raises(DateFormatError, match="out of range once shifted"):
        shift_da("00010101", -DAY)
    with pytest.raises(DateFormatError, match="out of range once shifted"):
        shift_dt("9999", 366 * DAY)


def test_date_format_error_is_value_error():
    assert issubclass(DateFormatError, ValueError)


# ---- shift_da_batch: the numpy path must agree with shift_value value by value ----------------

def test_batch_shift_agrees_with_one_by_one():
    from deidc.runtime.interpret.dates import shift_da_batch

    values = ["20190101", "20200229\\20200301", "2019.01.01", "", "19000101 ", "20191231\\", "00010102"]
    seconds = [3 * 86400, -86400, 86400, 5, -400 * 86400, 86400 + 7, -86400]
    assert shift_da_batch(values, seconds) == [shift_value("DA", v, s) for v, s in zip(values, seconds, strict=True)]


def test_batch_shift_fails_closed_per_value():
    from deidc.runtime.interpret.dates import shift_da_batch

    out = shift_da_batch(["20230230", "20190101", "00010101"], [86400, 86400, -86400])
    assert isinstance(out[0], DateFormatError) and "20230230" not in str(out[0])
    assert out[1] == "20190102"
    assert isinstance(out[2], DateFormatError)  # before year 1: no such date
