"""Reading machine-readable zones (ICAO 9303): the specimen documents, and what a worn passport or a
sloppy reader types."""

from __future__ import annotations

from datetime import date

import pytest
from mrz_helpers import TD1, TD1_LONG, TD2, TD2_LONG, TD3, VISA, passport, typed

from regdesk.domain import icao_states, mrz
from regdesk.domain.document_names import Agreement, compare

DEC_2017 = date(2017, 12, 1)


def problem(text: str) -> mrz.MrzProblem:
    found = mrz.parse(text)
    assert isinstance(found, mrz.MrzProblem), f"expected a problem, got {found!r}"
    return found


def document(text: str) -> mrz.MrzDocument:
    found = mrz.parse(text)
    assert isinstance(found, mrz.MrzDocument), f"expected a document, got {found}"
    return found


def with_char(lines: tuple[str, ...], line: int, column: int, ch: str) -> tuple[str, ...]:
    """The lines with the character at (1-based) line/column replaced."""
    out = list(lines)
    text = out[line - 1]
    out[line - 1] = text[: column - 1] + ch + text[column:]
    return tuple(out)


# --- the specimens ----------------------------------------------------------------------------------


def test_td3_specimen_passport():
    doc = document(typed(TD3))
    assert doc.format is mrz.MrzFormat.TD3
    assert (doc.document_code, doc.issuing_state, doc.nationality) == ("P", "UTO", "UTO")
    assert (doc.surname, doc.given_names, doc.name_truncated) == ("ERIKSSON", "ANNA MARIA", False)
    assert doc.document_number == "L898902C3" and doc.last4 == "02C3"
    assert doc.birth(DEC_2017) == date(1974, 8, 12) and doc.sex == "F"
    assert doc.expiry(DEC_2017) == date(2012, 4, 15) and doc.expired(DEC_2017)
    assert not doc.expired(date(2012, 4, 15))  # valid through its expiry day
    assert doc.optional_data == "ZE184226B" and doc.corrections == ()
    assert doc.document_type == "passport"


@pytest.mark.parametrize("lines", [TD1, TD2], ids=["TD1", "TD2"])
def test_td1_and_td2_specimen_cards(lines):
    doc = document(typed(lines))
    assert doc.format is (mrz.MrzFormat.TD1 if len(lines) == 3 else mrz.MrzFormat.TD2)
    assert (doc.surname, doc.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert doc.document_number == "D23145890" and doc.last4 == "5890"
    assert doc.document_type == "national_id" and doc.nationality == "UTO"
    assert doc.birth(DEC_2017) == date(1974, 8, 12) and doc.expiry(DEC_2017) == date(2012, 4, 15)


@pytest.mark.parametrize("lines", [TD1_LONG, TD2_LONG], ids=["TD1", "TD2"])
def test_a_number_longer_than_its_field_continues_in_the_optional_data(lines):
    doc = document(typed(lines))
    assert doc.document_number == "D23145890734" and doc.last4 == "0734"
    assert (doc.surname, doc.given_names) == ("STEVENSON", "PETER JOHN")
    assert doc.expiry(DEC_2017) == date(1995, 7, 12)  # not 2095: within 50 years of the day it is read


@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n", "\t"], ids=["CR", "LF", "CRLF", "Tab"])
def test_any_line_separator_a_reader_sends(separator):
    assert document(typed(TD3, separator)).last4 == "02C3"


def test_lines_typed_in_one_burst_without_separators():
    assert document("".join(TD3)).last4 == "02C3"
    assert document("".join(TD1)).last4 == "5890"


def test_lower_case_from_caps_lock_is_read():
    assert document(typed(TD3).lower()).surname == "ERIKSSON"


def test_the_full_number_is_not_in_the_repr():
    doc = document(typed(TD3))
    assert "L898902C3" not in repr(doc) and "ZE184226B" not in repr(doc)


# --- damaged readings --------------------------------------------------------------------------------


def test_wrong_document_number_check_digit_names_line_and_field():
    found = problem(typed(with_char(TD3, 2, 10, "5")))
    assert (found.line, found.field) == (2, "document number")
    assert str(found).startswith("line 2, document number:")
    assert "L898902C" not in str(found)  # a problem never quotes the number


@pytest.mark.parametrize(
    "column, field",
    [(20, "date of birth"), (28, "date of expiry"), (43, "personal number"), (44, "composite check digit")],
)
def test_every_check_digit_of_a_passport_is_checked(column, field):
    bad = "1" if TD3[1][column - 1] != "1" else "2"
    found = problem(typed(with_char(TD3, 2, column, bad)))
    assert (found.line, found.field) == (2, field)


# Each format's fields stand in other places (ICAO 9303 parts 4-6): a damaged character in each is named
# by the line and the field where that format has it. (format's lines, line, column, what is put there, field)
DAMAGE = {
    "TD3": (
        TD3,
        [
            (2, 10, "5", "document number"),
            (2, 11, "0", "nationality"),
            (2, 20, "1", "date of birth"),
            (2, 21, "Q", "sex"),
            (2, 28, "1", "date of expiry"),
            (2, 43, "2", "personal number"),
            (2, 44, "1", "composite check digit"),
            (1, 8, "1", "name"),
            (1, 5, "0", "issuing state"),
        ],
    ),
    "TD2": (
        TD2,
        [
            (2, 10, "5", "document number"),
            (2, 11, "0", "nationality"),
            (2, 20, "1", "date of birth"),
            (2, 21, "Q", "sex"),
            (2, 28, "1", "date of expiry"),
            (2, 36, "1", "composite check digit"),
            (1, 8, "1", "name"),
            (1, 5, "0", "issuing state"),
        ],
    ),
    "TD1": (
        TD1,
        [
            (1, 15, "5", "document number"),
            (2, 16, "0", "nationality"),
            (2, 7, "1", "date of birth"),
            (2, 8, "Q", "sex"),
            (2, 15, "1", "date of expiry"),
            (2, 30, "1", "composite check digit"),
            (3, 3, "1", "name"),
            (1, 5, "0", "issuing state"),
        ],
    ),
    # A number longer than its field: its check digit follows its end in the optional data.
    "TD2 long": (TD2_LONG, [(2, 32, "1", "document number"), (2, 10, "5", "document number")]),
    "TD1 long": (TD1_LONG, [(1, 19, "1", "document number"), (1, 15, "5", "document number")]),
}


@pytest.mark.parametrize(
    ("lines", "line", "column", "ch", "field"),
    [(lines, *damage) for lines, damages in DAMAGE.values() for damage in damages],
    ids=[f"{fmt}-{damage[3]}" for fmt, (_, damages) in DAMAGE.items() for damage in damages],
)
def test_each_formats_damaged_field_is_named_by_its_line_and_field(lines, line, column, ch, field):
    assert lines[line - 1][column - 1] != ch  # the character really changes
    found = problem(typed(with_char(lines, line, column, ch)))
    assert (found.line, found.field) == (line, field), str(found)


def test_td1_composite_covers_the_optional_data():
    found = problem(typed(with_char(TD1, 2, 20, "X")))  # optional data 2, covered only by the composite
    assert (found.line, found.field) == (2, "composite check digit")


def test_short_line_says_how_many_characters_were_missing():
    found = problem(typed((TD3[0], TD3[1][:40])))
    assert found.line == 2 and "40 characters read, 44 expected" in found.message


def test_missing_third_line_of_a_card():
    found = problem(typed(TD1[:2]))
    assert found.line == 3


def test_one_line_only():
    assert "only one line" in problem(TD3[0]).message


def test_a_visa_is_not_an_identity_document():
    found = problem(typed(VISA))
    assert found.field == "document code" and "visa" in found.message


def test_foreign_characters_are_refused_with_the_line():
    found = problem(typed((TD3[0], TD3[1][:20] + "é" + TD3[1][21:])))
    assert found.line == 2


# --- OCR confusions: corrected only where a check digit confirms, and said -----------------------


def test_letter_o_in_a_date_is_corrected_because_the_check_digit_agrees():
    doc = document(typed(with_char(TD3, 2, 16, "O")))  # 740812 read as 74O812
    assert doc.birth(DEC_2017) == date(1974, 8, 12)
    [fix] = doc.corrections
    assert (fix.line, fix.field, fix.read, fix.taken_as) == (2, "date of birth", "O", "0")
    assert "line 2, date of birth" in str(fix)


def test_a_confusable_character_of_the_number_is_corrected_when_the_check_digits_agree():
    doc = document(typed(with_char(TD3, 2, 6, "O")))  # L8989O2C3: only 0 for O makes the check digit agree
    assert doc.document_number == "L898902C3"
    [fix] = doc.corrections
    assert (fix.line, fix.field, fix.secret) == (2, "document number", True)
    assert str(fix) == (
        "line 2, document number: one character corrected (a letter read for a digit), confirmed by the check digit"
    )  # which character, and where, is not said


def test_a_number_whose_check_digit_fits_several_corrections_is_refused():
    # L89B902C3: B for 8 here, but swapping another confusable character fits the check digit too.
    found = problem(typed(with_char(TD3, 2, 4, "B")))
    assert found.field == "document number" and "more than one reading" in found.message


def test_i_for_1_and_s_for_5_in_a_birth_date():
    lines = passport("LAUBER", "JUERG", "X1234567", birth="650312")  # birth date at columns 14-19
    doc = document(typed(with_char(with_char(lines, 2, 15, "S"), 2, 18, "I")))
    assert doc.birth(DEC_2017) == date(1965, 3, 12)
    assert [(c.read, c.taken_as) for c in doc.corrections] == [("S", "5"), ("I", "1")]


def test_a_letter_that_resembles_no_digit_is_refused_in_a_date():
    found = problem(typed(with_char(TD3, 2, 16, "X")))
    assert (found.line, found.field) == (2, "date of birth") and "column 16" in found.message


def test_a_wrong_correction_is_never_taken():
    # 'S' for '5' in the expiry date AND a wrong expiry check digit: no reading is confirmed.
    damaged = with_char(with_char(TD3, 2, 25, "S"), 2, 28, "3")
    found = problem(typed(damaged))
    assert found.field == "date of expiry" and "does not confirm" in found.message


def test_digits_in_a_name_or_a_state_code_are_never_corrected():
    found = problem(typed(with_char(TD3, 1, 5, "0")))  # UT0
    assert (found.line, found.field) == (1, "issuing state") and "letter O" in found.message
    found = problem(typed(with_char(TD3, 1, 8, "1")))  # ER1KSSON
    assert (found.line, found.field) == (1, "name")


# --- names and states ------------------------------------------------------------------------------------


def test_names_split_at_double_filler_and_truncation_is_noticed():
    assert mrz.split_name("ERIKSSON<<ANNA<MARIA<<<<") == ("ERIKSSON", "ANNA MARIA", False)
    assert mrz.split_name("GOMEZ<CAMACHO<<JUAN<JOSE") == ("GOMEZ CAMACHO", "JUAN JOSE", True)
    assert mrz.split_name("SUKARNO<<<<<<<") == ("SUKARNO", "", False)


def test_un_laissez_passer_and_germany():
    lines = passport("LAJCAK", "MIROSLAV", "UN1234567", state="UNO", nationality="SVK")
    assert document(typed(lines)).document_type == "un_laissez_passer"
    german = passport("MUELLER", "ANNA", "C01X00T47", state="D", nationality="D")
    doc = document(typed(german))
    assert doc.issuing_state == "D" and icao_states.name_of(doc.nationality) == "Germany"


def test_state_table_holds_every_un_member_and_observer():
    states = {code: name for code, name in icao_states.STATES.items() if len(code) == 3}
    distinct = set(states.values()) - {"Taiwan", "Hong Kong, China", "Macao, China", "Kosovo"}
    assert len(distinct) == 193 + 2
    assert icao_states.names_of_state("SWZ") == ("Eswatini", "Swaziland", "Kingdom of Eswatini")


@pytest.mark.parametrize(
    "document_names, listed, expected",
    [
        (("LAUBER", "JUERG"), [("Lauber", "Jürg")], Agreement.SAME),
        (("LAUBER", "JURG"), [("Lauber", "Jürg")], Agreement.SAME),
        (("LAJCAK", "MIROSLAV"), [("Lajčák", "Miroslav")], Agreement.SAME),
        (("GOMEZ CAMACHO", "JUAN JOSE"), [("Gómez Camacho", "Juan José")], Agreement.SAME),
        (("OBRIEN", "SEAN"), [("O'Brien", "Seán")], Agreement.SAME),
        (("STRAUSS", "UWE"), [("Strauß", "Uwe Lukas")], Agreement.SAME),
        (("KHOURY", "SAMI MAJED"), [("خوري", "سامي ماجد"), ("Khoury", "Sami Majed")], Agreement.SAME),
        (("ERIKSSON", "ANNA MARIA"), [("Eriksson", "Anna")], Agreement.SAME),
        (("VASILYEVA", "TATIANA"), [("Vasilyeva", "Tatyana")], Agreement.CLOSE),
        (("ERIKSSON", "ANNA"), [("Lauber", "Jürg")], Agreement.DIFFERENT),
        (("ERIKSSON", "MARIA"), [("Eriksson", "Anna")], Agreement.DIFFERENT),
    ],
)
def test_names_are_folded_as_the_search_folds_them(document_names, listed, expected):
    result = compare(*document_names, listed)
    assert result.overall is expected
    assert result.matches is (expected is Agreement.SAME)
    assert bool(result.note) is (expected is not Agreement.SAME)


def test_a_truncated_name_agrees_with_the_start_of_the_listed_one():
    result = compare(
        "WOLFESCHLEGELSTEINHAUSEN", "HUBERT BLAINE", [("Wolfeschlegelsteinhausenbergerdorff", "Hubert")], truncated=True
    )
    assert result.matches
