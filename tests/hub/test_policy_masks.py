from decimal import Decimal

import pytest

from hub.auth.policy import Mask, amount_band, mask


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (Mask.ID_NUMBER, "11010519491231002X", "110***********002X"),
        (Mask.NAME, "张伟", "张*"),
        (Mask.NAME, "欧阳娜娜", "欧*"),
        (Mask.ADDRESS, "打浦桥街道场中路408弄41号601室", "打浦桥街道"),
        (Mask.ADDRESS, "朱家角镇人民路12号", "朱家角镇"),
        (Mask.ADDRESS, "somewhere unknown", "***"),
        (Mask.AMOUNT, "2232.00", "2000-2500"),
        (Mask.ID_NUMBER, ["11010519491231002X"], ["110***********002X"]),
        (Mask.NAME, None, None),
    ],
)
def test_masks_keep_only_what_the_policy_allows(kind, value, masked):
    assert mask(kind, value) == masked


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        ("0", "0-500"),
        ("499.99", "0-500"),
        ("4999", "4500-5000"),
        ("12345", "10000-15000"),
        ("75000", "50000-100000"),
    ],
)
def test_amount_bands_widen_with_the_amount(amount, band):
    assert amount_band(Decimal(amount)) == band
