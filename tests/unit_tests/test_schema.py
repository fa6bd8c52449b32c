"""Param: parsing typed text, checking values, and the words of its messages."""

from hypothesis import given, strategies as st

from tui_trainer.schema import Param

LR = Param("lr", "float", 0.001, "learning rate", minimum=0.0, min_exclusive=True)
BATCH = Param("batch_size", "int", 32, "batch", minimum=1, keywords=("full",))
BETAS = Param("betas", "floats", [0.9, 0.999], "betas", length=2, minimum=0.0, maximum=1.0,
              max_exclusive=True)
HIDDEN = Param("hidden", "ints", [64], "sizes", minimum=1)


def test_allowed_words_name_the_range():
    assert LR.allowed() == "must be a number > 0"
    assert BATCH.allowed() == "must be a whole number >= 1 or 'full'"
    assert BETAS.allowed() == "must be 2 numbers each in [0, 1)"


def test_check_refuses_out_of_range_wrong_type_and_non_finite():
    assert LR.check(-1.0) == "must be a number > 0"
    assert LR.check(0.0) is not None
    assert LR.check(float("nan")) is not None
    assert LR.check(True) is not None
    assert LR.check(0.1) is None
    assert BATCH.check("full") is None
    assert BATCH.check("half") is not None
    assert BATCH.check(2.0) is not None
    assert BETAS.check([0.9, 1.0]) is not None
    assert BETAS.check([0.9]) is not None
    assert HIDDEN.check([]) is None
    assert HIDDEN.check([0]) is not None


def test_parse_reads_what_people_type():
    assert LR.parse(" 1e-3 ") == 0.001
    assert BATCH.parse("full") == "full"
    assert BETAS.parse("0.8, 0.99") == [0.8, 0.99]
    assert HIDDEN.parse("128,64") == [128, 64]
    assert HIDDEN.parse("") == []
    assert Param("b", "bool", False, "").parse("yes") is True


def test_parse_error_names_the_value_and_allowed():
    try:
        BATCH.parse("ten")
    except ValueError as exc:
        assert str(exc) == "'ten' is not allowed; must be a whole number >= 1 or 'full'"
    else:
        raise AssertionError("parse accepted 'ten'")


@given(st.lists(st.integers(min_value=1, max_value=10_000), max_size=6))
def test_ints_format_parse_round_trip(sizes):
    assert HIDDEN.parse(HIDDEN.format(sizes)) == sizes


@given(st.floats(min_value=1e-12, max_value=1e6, allow_nan=False))
def test_float_format_parse_round_trip(value):
    assert LR.parse(LR.format(value)) == value


FEATURES = Param("features", "names", ["x1", "x2"], "inputs", choices=("x1", "x2", "sin(x1)"))


def test_names_are_read_as_typed_and_checked_one_by_one():
    assert FEATURES.parse("x1, sin(x1)") == ["x1", "sin(x1)"]  # the parentheses stay
    assert FEATURES.parse("[x2 'x1']") == ["x2", "x1"]
    assert FEATURES.format(["x1", "sin(x1)"]) == "x1,sin(x1)"
    assert FEATURES.allowed() == "must be one or more of x1, x2, sin(x1), comma-separated, each once"
    assert FEATURES.check(["sin(x1)"]) is None
    assert FEATURES.check(["x3"]) == "'x3' is none of x1, x2, sin(x1)"
    assert FEATURES.check(["x1", "x1"]) == "'x1' is given twice; give each once"
    assert FEATURES.check([]) == FEATURES.check(5) == "give one or more of x1, x2, sin(x1), comma-separated"
