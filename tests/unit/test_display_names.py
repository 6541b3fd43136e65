"""One rule for how a name is shown, on every screen, list and report."""

from __future__ import annotations

import pytest

from regdesk.domain.names import display_name, latin_display_name, written_family_first


@pytest.mark.parametrize(
    ("given", "family", "shown"),
    [
        ("Jürg", "Lauber", "Jürg Lauber"),
        ("  Miroslav ", "Lajčák", "Miroslav Lajčák"),
        ("", "Obama", "Obama"),
        ("Louise", "", "Louise"),
        ("小明", "王", "王小明"),  # Chinese: family first, unspaced
        ("太郎", "山田", "山田太郎"),  # Japanese kanji
        ("민준", "김", "김민준"),  # Korean hangul
        ("Анна", "Иванова", "Анна Иванова"),  # Cyrillic keeps the given-first order
    ],
)
def test_a_name_is_shown_as_its_holder_writes_it(given, family, shown):
    assert display_name(given, family) == shown


def test_the_latin_line_follows_the_order_of_the_name_it_renders():
    assert latin_display_name("Xiaoming", "Wang", given="小明", family="王") == "Wang Xiaoming"
    assert latin_display_name("Anna", "Ivanova", given="Анна", family="Иванова") == "Anna Ivanova"
    assert latin_display_name("", "", given="小明", family="王") == ""


def test_only_chinese_japanese_and_korean_letters_put_the_family_first():
    assert written_family_first("王")
    assert written_family_first("カタカナ")
    assert not written_family_first("Lajčák")
    assert not written_family_first("محمد")  # Arabic is given-first in the UN lists
    assert not written_family_first("〜")  # CJK punctuation alone is no name


def test_the_desk_shows_a_chinese_name_family_first_in_search_and_on_the_card(desk_station):
    from conftest import participant_row, seed_participants
    from regdesk.services import desk_view, lookup

    seed_participants(
        desk_station,
        [
            participant_row("CN-1", "王", "小明", delegation="China", family_latin="Wang", given_latin="Xiaoming"),
            participant_row("CH-1", "Lauber", "Jürg"),
        ],
    )
    (hit,) = lookup.search(desk_station, "wang xiaoming")
    assert (hit.name, hit.name_latin) == ("王小明", "Wang Xiaoming")
    card = desk_view.participant_card(desk_station, "CN-1")
    assert card is not None and (card.name, card.name_latin) == ("王小明", "Wang Xiaoming")
    swiss = desk_view.participant_card(desk_station, "CH-1")
    assert swiss is not None and swiss.name == "Jürg Lauber"
