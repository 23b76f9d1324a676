from datetime import date

import pytest

from adapters import idnumber
from adapters.idnumber import InvalidIdNumber, InvalidReason
from adapters.vocabulary import Sex


def test_the_standard_example_is_valid_and_decoded():
    parsed = idnumber.parse("11010519491231002X")
    assert parsed.region_code == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE


def test_a_lowercase_check_character_is_normalised():
    assert idnumber.parse("11010519491231002x").value == "11010519491231002X"


def test_made_numbers_round_trip():
    value = idnumber.make("310115", date(1980, 2, 29), 17)
    parsed = idnumber.parse(value)
    assert parsed.sex is Sex.MALE
    assert parsed.birth_date == date(1980, 2, 29)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("11010519491231002", InvalidReason.LENGTH),
        ("1101051949123100233", InvalidReason.LENGTH),
        ("11010519491231002Y", InvalidReason.FORMAT),
        ("1101051949123A002X", InvalidReason.FORMAT),
        ("110105194912310021", InvalidReason.CHECKSUM),
        ("310104199902300012", InvalidReason.BIRTH_DATE),  # 30 February
        ("310104189912310012", InvalidReason.BIRTH_DATE),  # before 1900
        ("990101198001010012", InvalidReason.REGION),  # no such province
        ("310199198001010012", InvalidReason.REGION),  # no such Shanghai district
        ("320000198001010012", InvalidReason.REGION),  # a province, not a county
    ],
)
def test_invalid_numbers_name_the_rule_they_break(raw, reason):
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(raw)
    assert caught.value.reason is reason


def test_a_birth_date_in_the_future_is_rejected():
    future = idnumber.make("310101", date(2030, 1, 1), 12)
    with pytest.raises(InvalidIdNumber) as caught:
        idnumber.parse(future, today=date(2026, 11, 29))
    assert caught.value.reason is InvalidReason.BIRTH_DATE


def test_former_shanghai_district_codes_are_known():
    assert idnumber.is_valid(idnumber.make("310103", date(1960, 5, 1), 21))  # 卢湾区


def test_mask_keeps_the_region_prefix_and_the_last_four():
    assert idnumber.mask("11010519491231002X") == "110***********002X"
