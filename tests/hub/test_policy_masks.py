from decimal import Decimal

import pytest

from hub.auth.policy import PersonalValue, amount_band, mask


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (PersonalValue.ID_NUMBER, "11010519491231002X", "110***********002X"),
        (PersonalValue.NAME, "张伟", "张*"),
        (PersonalValue.NAME, "欧阳娜娜", "欧*"),
        (PersonalValue.ADDRESS, "打浦桥街道场中路408弄41号601室", "打浦桥街道"),
        (PersonalValue.ADDRESS, "朱家角镇人民路12号", "朱家角镇"),
        (PersonalValue.ADDRESS, "somewhere unknown", "***"),
        (PersonalValue.AMOUNT, "2232.00", "2000-2500"),
        (PersonalValue.AMOUNT, Decimal("12345.67"), "10000-15000"),
        (PersonalValue.INCOME, "4999.99", "4500-5000"),
        (PersonalValue.ID_NUMBER, ["11010519491231002X"], ["110***********002X"]),
        (PersonalValue.NAME, None, None),
    ],
)
def test_masks_keep_only_what_the_policy_allows(
    kind: PersonalValue, value: object, masked: object
) -> None:
    assert mask(kind, value) == masked


def test_a_date_of_birth_has_no_masked_form_and_must_be_withheld() -> None:
    with pytest.raises(ValueError, match="DATE_OF_BIRTH"):
        mask(PersonalValue.DATE_OF_BIRTH, "1949-12-31")


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        ("0", "0-500"),
        ("499.99", "0-500"),
        ("4999", "4500-5000"),
        ("5000", "5000-10000"),
        ("12345", "10000-15000"),
        ("49999.99", "45000-50000"),
        ("75000", "50000-100000"),
    ],
)
def test_amount_bands_widen_with_the_amount(amount: str, band: str) -> None:
    assert amount_band(Decimal(amount)) == band
