from decimal import Decimal

from build_scripts import units


def test_money_converts_to_wan_yuan():
    assert units.convert("6.909亿元", "亿元", "万元") == Decimal("69090")
    assert units.convert("3000元", "元", "万元") == Decimal("0.3")
    assert units.convert("885万元", "万元", "万元") == Decimal("885")


def test_scaled_counts_and_thousands_separators():
    assert units.convert("0.38万", "万人", "人") == Decimal("3800")
    assert units.convert("1,234户", "户", "户") == Decimal("1234")
    assert units.convert("9.6兆瓦", "兆瓦", "千瓦") == Decimal("9600")


def test_unknown_pair_and_non_number_give_none():
    assert units.convert("5亿元", "亿元", "人") is None
    assert units.convert("约5", "个", "个") is None


def test_canonical_units():
    assert units.is_canonical("万元") and units.is_canonical("%")
    assert not units.is_canonical("亿元") and not units.is_canonical("万人")
    assert units.canonical_for("亿元") == "万元"


def test_decimals_of_printed_numbers():
    assert units.decimals("6.909") == 3
    assert units.decimals("45.58%") == 2
    assert units.decimals("14177人") == 0


def test_english_units_count_one_in_the_singular():
    """1 person per household, 2 persons per household: every count word has its singular (none is left plural)."""
    from build_scripts.units import ONE_EN, UNIT_WORDS_EN, unit_en

    assert unit_en("人/户", one=True) == "person per household" and unit_en("人/户") == "persons per household"
    plural = {w for w in UNIT_WORDS_EN.values() if w.endswith("s") and w not in ("Mbps",)} - {"10k persons"}
    assert plural <= set(ONE_EN), sorted(plural - set(ONE_EN))
