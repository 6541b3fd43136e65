"""The compact tables behind the desk's search: strings in one buffer, sorted byte keys. They are
also read back from a file the desk saved, so each refuses what does not hold together."""

from __future__ import annotations

import numpy as np
import pytest

from regdesk.services.search_tables import KeyTable, NumberTable, RecordTable, TextColumn, byte_keys

NAMES = ["Lauber", "", "Lajčák", "王小明", "Иванов", "O'Neil", ""]


def test_a_column_gives_back_every_string_as_it_was():
    column = TextColumn.of(NAMES)
    assert len(column) == len(NAMES)
    assert [column[i] for i in range(len(NAMES))] == NAMES
    assert column.all() == NAMES
    again = TextColumn.from_bytes(column.data, len(NAMES))
    assert [again[i] for i in range(len(NAMES))] == NAMES


def test_a_column_gives_back_many_strings_at_once_in_the_order_asked():
    column = TextColumn.of(NAMES)
    order = [6, 0, 3, 3, 2, 1, 5]
    assert column.take(order) == [NAMES[i] for i in order]
    assert column.take([]) == []


def test_records_give_back_their_fields_one_by_one_or_many_at_once():
    rows = [("GCM17-000361", "Lauber", "Jürg"), ("GCM17-000001", "", "王小明"), ("X", "Иванов", "")]
    table = RecordTable.of(rows, 3)
    assert len(table) == 3 and [table[i] for i in range(3)] == rows
    assert table.take([2, 0, 2]) == [rows[2], rows[0], rows[2]]
    assert RecordTable.from_bytes(table.records.data, 3, 3).take([1]) == [rows[1]]


@pytest.mark.parametrize(("count", "fields"), [(2, 3), (4, 3), (3, 2), (3, 4)])
def test_records_read_with_another_count_or_another_number_of_fields_are_refused(count, fields):
    data = RecordTable.of([("a", "b", "c"), ("d", "e", "f"), ("g", "h", "i")], 3).records.data
    with pytest.raises(ValueError):
        RecordTable.from_bytes(data, count, fields)


@pytest.mark.parametrize("count", [0, 5, 6, 8])
def test_a_column_read_with_the_wrong_count_is_refused(count):
    with pytest.raises(ValueError):
        TextColumn.from_bytes(TextColumn.of(["a", "b", "c", "d", "e", "f", "g"]).data, count)


def test_an_empty_column():
    assert len(TextColumn.of([])) == 0 and TextColumn.of([]).all() == []


def test_keys_look_up_like_a_dict_where_the_last_value_given_wins():
    keys = ["gcm17000361", "ab12cd", "gcm17000362", "ab12cd", "x"]
    table = KeyTable.build(byte_keys(keys), np.arange(len(keys)), last_wins=True)
    expected = {k: i for i, k in enumerate(keys)}
    assert {k: table.get(k.encode()) for k in keys} == expected
    assert table.get(b"nobody") is None
    assert table.get_many([k.encode() for k in [*keys, "nobody"]]) == [*(expected[k] for k in keys), None]


def test_a_longer_key_never_matches_a_stored_key_it_begins_with():
    """Keys are stored at the width of the longest: a query must not be cut to that width."""
    table = KeyTable.build(byte_keys(["abc", "abd"]), np.arange(2))
    assert table.get(b"abcd") is None
    assert table.get_many([b"abcd", b"abc", b"ab", b"abdzzzzz"]) == [None, 0, None, None]


def test_several_values_for_one_key_come_back_in_the_order_given():
    table = KeyTable.build(byte_keys(["lauer", "lauer", "auber", "lauer"]), np.array([7, 2, 5, 9]))
    assert table.get_all(b"lauer").tolist() == [7, 2, 9]
    assert table.get_all(b"auber").tolist() == [5]
    assert table.get_all(b"zzz").tolist() == []


def test_numbers_with_several_records():
    table = NumberTable.build(np.array([361, 5, 361, 12]), np.array([0, 1, 2, 3]))
    assert table.get_all(361).tolist() == [0, 2]
    assert table.get_all(4).tolist() == []


def test_tables_that_do_not_hold_together_are_refused():
    good = KeyTable.build(byte_keys(["a", "b", "c"]), np.arange(3))
    assert good.valid(3)
    assert not good.valid(2)  # a value past the end of what it points into
    assert not KeyTable(good.keys[::-1].copy(), good.values).valid(3)  # unsorted: a lookup would miss
    assert not KeyTable(good.keys, good.values[:2]).valid(3)
    assert not KeyTable(good.keys, np.array([0, -1, 2])).valid(3)
    assert not KeyTable(np.array([1, 2, 3]), good.values).valid(3)  # not byte keys
    numbers = NumberTable.build(np.array([3, 1]), np.array([0, 1]))
    assert numbers.valid(2)
    assert not NumberTable(numbers.keys[::-1].copy(), numbers.values).valid(2)
    assert not NumberTable(numbers.keys, np.array([0, 2])).valid(2)
