"""Finding participants at the desk, against the bundled 900-row export imported into a real station."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from meeting import init_station

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.domain import token as t
from regdesk.domain.names import alternate_words, fold, search_words, words
from regdesk.services import desk, index_build, lookup
from regdesk.services.accreditation import import_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "accreditation.csv"
ROWS = list(csv.DictReader(FIXTURE.open(encoding="utf-8")))


def aid_of(given: str, family: str) -> str:
    (row,) = [r for r in ROWS if (r["given_names"], r["family_name"]) == (given, family)]
    return row["accreditation_id"]


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    """The bundled export, imported once; tests here only read it."""
    st = init_station(
        tmp_path_factory.mktemp("lookup") / "desk", EVENT_TOML, role="desk", clock=FixedClock(local("2017-12-01T13:05"))
    )
    import_file(st, FIXTURE, operator="ana")
    yield st
    st.close()


@pytest.fixture
def imported(desk_station):
    """A station of its own with the bundled export, for tests that issue badges."""
    import_file(desk_station, FIXTURE, operator="ana")
    return desk_station


def first(station, query: str) -> str:
    hits = lookup.search(station, query)
    assert hits, f"nothing found for {query!r}"
    return hits[0].accreditation_id


@pytest.mark.parametrize(
    "query, given, family",
    [
        ("jurg lauber", "Jürg", "Lauber"),
        ("LAUBER J", "Jürg", "Lauber"),
        ("Jürg Lauber", "Jürg", "Lauber"),
        ("juerg lauber", "Jürg", "Lauber"),  # ü typed as ue
        ("lajcak", "Miroslav", "Lajčák"),
        ("Lajčák Miroslav", "Miroslav", "Lajčák"),
        ("H.E. Lajčák", "Miroslav", "Lajčák"),
        ("gomez camacho", "Juan José", "Gómez Camacho"),
        ("Camacho Gómez", "Juan José", "Gómez Camacho"),
        ("Gómez-Camacho", "Juan José", "Gómez Camacho"),
        ("Ruzicka", "František", "Ružička"),
        ("frantisek ruzicka", "František", "Ružička"),
        ("louise arbour", "Louise", "Arbour"),
        ("william lacy swing", "William Lacy", "Swing"),
        ("Swing", "William Lacy", "Swing"),
        ("marta foresti", "Marta", "Foresti"),
        ("Ms Newland", "Kathleen", "Newland"),
        ("gibril faal", "Gibril", "Faal"),
    ],
)
def test_the_people_from_the_letters_come_first(station, query, given, family):
    assert first(station, query) == aid_of(given, family)


@pytest.mark.parametrize(
    "query, given, family",
    [
        ("laj", "Miroslav", "Lajčák"),  # prefixes, as the clerk types
        ("jur laub", "Jürg", "Lauber"),
        ("kath new", "Kathleen", "Newland"),
        ("lajcka", "Miroslav", "Lajčák"),  # one typo in a word of 5+ letters: transposed letters
        ("ruzika", "František", "Ružička"),  # a letter missing
        ("laubber", "Jürg", "Lauber"),  # a letter too many
        ("newlamd", "Kathleen", "Newland"),  # a wrong letter
        ("camacjo gomez", "Juan José", "Gómez Camacho"),
    ],
)
def test_prefixes_and_small_typos_still_find_the_person(station, query, given, family):
    assert first(station, query) == aid_of(given, family)


def test_short_words_need_no_typo_tolerance_to_stay_precise(station):
    # "jrug" (4 letters) is not taken as a typo of "jurg": no false friends for short words.
    assert lookup.search(station, "jrug lauber") == []


def test_delegation_name_lists_the_delegation_head_first(station):
    hits = lookup.search(station, "switzerland")
    swiss = [r for r in ROWS if r["delegation"] == "Switzerland"]
    assert {h.accreditation_id for h in hits} == {r["accreditation_id"] for r in swiss}
    assert hits[0].accreditation_id == aid_of("Jürg", "Lauber") and hits[0].delegation_role == "head"
    opga = lookup.search(station, "office of the president general assembly")
    assert {h.name for h in opga} == {"Miroslav Lajčák", "František Ružička"}


def test_names_in_other_scripts_by_latin_rendering_and_by_script(station):
    arabic = next(r for r in ROWS if r["family_name"] == "خوري" and r["given_names"] == "سامي ماجد")
    assert first(station, "sami majed khoury") == arabic["accreditation_id"]
    assert first(station, "خوري سامي") == arabic["accreditation_id"]
    cyrillic = next(r for r in ROWS if r["family_name"] == "Лебедева")
    assert first(station, "Лебедева") == cyrillic["accreditation_id"]
    assert first(station, "lyudmila lebedeva") == cyrillic["accreditation_id"]
    chinese = next(r for r in ROWS if r["family_name"] == "张" and r["given_names"] == "玉兰")
    assert first(station, "张玉兰") == chinese["accreditation_id"]  # typed without a space
    assert first(station, "zhang yulan") == chinese["accreditation_id"]
    hit = lookup.search(station, "zhang yulan")[0]
    assert (hit.name, hit.name_latin) == ("张玉兰", "Zhang Yulan")  # family first, as on the badge


@pytest.mark.parametrize("typed", ["GCM17-000361", "gcm17-000361", "GCM17'000361", " GCM17-000361\r\n"])
def test_accreditation_id_finds_exactly_that_record(station, typed):
    hits = lookup.search(station, typed)
    assert [h.accreditation_id for h in hits] == ["GCM17-000361"]


def test_confirmation_code_from_the_email_finds_exactly_that_record(station):
    row = ROWS[234]
    for typed in (row["confirmation_code"], row["confirmation_code"].lower() + "\n"):
        assert [h.accreditation_id for h in lookup.search(station, typed)] == [row["accreditation_id"]]


def test_exact_full_name_ranks_before_longer_names_and_prefixes(desk_station):
    seed_participants(
        desk_station,
        [
            participant_row("P-1", "Garcia Lopez", "Maria", delegation="Spain"),
            participant_row("P-2", "Garcia", "Mariana", delegation="Spain"),
            participant_row("P-3", "Garcia", "Maria", delegation="Chile"),
            participant_row("P-4", "Lima", "Ana", delegation="Peru"),
            participant_row("P-5", "Li", "Wei", delegation="China"),
            participant_row("P-6", "Maria", "Garcia", delegation="Peru"),  # given and family the other way round
        ],
    )
    ranked = [h.accreditation_id for h in lookup.search(desk_station, "maria garcia")]
    # Both exact two-word names first (word order is free), then the longer name, then the prefix.
    assert sorted(ranked[:2]) == ["P-3", "P-6"] and ranked[2:] == ["P-1", "P-2"]
    assert [h.accreditation_id for h in lookup.search(desk_station, "li")][:2] == ["P-5", "P-4"]
    # Family name outranks given name for a single word.
    assert [h.accreditation_id for h in lookup.search(desk_station, "garcia")][0] in ("P-3", "P-2")


def test_badge_serial_finds_the_holder_and_status_is_fresh(imported, clock):
    pid = aid_of("Jürg", "Lauber")
    assert lookup.search(imported, "jurg lauber")[0].status == "accredited"
    desk.record_identity_check(imported, pid, "passport", "X1234567", "clerk")
    badge = desk.issue_badge(imported, pid, operator="clerk")
    (hit,) = lookup.search(imported, "jurg lauber")  # the index was not rebuilt; the status still moved
    assert (hit.status, hit.badge_serial) == ("badge_collected", badge.serial)
    printed = t.format_serial(badge.serial)
    for typed in (badge.serial, printed, printed.lower(), printed.replace("-", "'")):
        assert [h.accreditation_id for h in lookup.search(imported, typed)] == [pid]
    # Scanning the badge's QR code at the desk finds the holder too.
    assert [h.accreditation_id for h in lookup.search(imported, badge.token)] == [pid]

    clock.advance(hours=2)  # lost; back at the desk
    desk.record_identity_check(imported, pid, "passport", "X1234567", "clerk")
    replacement = desk.issue_badge(imported, pid, operator="clerk", replace=True)
    (hit,) = lookup.search(imported, "LAUBER J")
    assert (hit.status, hit.badge_serial) == ("badge_replaced", replacement.serial)
    # The lost badge's serial still leads to the person, showing the badge that is valid now.
    (old,) = lookup.search(imported, t.format_serial(badge.serial))
    assert old.badge_serial == replacement.serial


def test_withdrawn_participants_are_found_and_marked(station):
    row = next(r for r in ROWS if r["status"] == "withdrawn")
    (hit,) = lookup.search(station, row["accreditation_id"])
    assert hit.status == "withdrawn" and hit.badge_serial == ""


def test_new_import_and_new_participants_are_searchable_at_once(imported):
    assert lookup.search(imported, "Thériault Stéphanie") == []
    import_file(imported, ROOT / "fixtures" / "accreditation-update.csv", operator="ana")
    assert lookup.search(imported, "theriault stephanie")[0].accreditation_id == "GCM17-000906"
    assert lookup.search(imported, "GCM17-000124")[0].status == "withdrawn"  # dropped from the newer export
    # Rows arriving by another path (sync of another desk's import) are noticed too.
    seed_participants(
        imported,
        [participant_row("X-1", "Quispe", "Yupanqui", delegation="Peru")],
        revision="2017-12-02T00:00:00.000000Z",
    )
    assert first(imported, "yupanqui quispe") == "X-1"


def test_limit_empty_and_unmatched_queries(station):
    assert len(lookup.search(station, "a", limit=7)) == 7
    assert lookup.search(station, "") == [] and lookup.search(station, "   ") == []
    assert lookup.search(station, "zzzzqqq") == []
    assert lookup.search(station, "lauber xyzzyq") == []  # every word must match


def test_hit_contract_for_the_tui_and_cli(station):
    hit = lookup.search(station, "lajcak")[0]
    assert set(hit.as_json()) == {
        "accreditation_id",
        "name",
        "name_latin",
        "delegation",
        "category",
        "status",
        "delegation_role",
        "badge_serial",
        "badge_delivered",
    }
    assert hit.status in lookup.STATUSES and hit.category == "UN"


def test_name_folding_helpers():
    assert fold("Lajčák") == fold("LAJCAK") == "lajcak"
    assert words("Gómez-Camacho") == ["gomez", "camacho"]
    assert words("O'Brien") == ["obrien"] and "brien" in alternate_words("O'Brien")
    assert "juerg" in alternate_words("Jürg") and "bjoern" in alternate_words("Bjørn")
    assert search_words("王小明") == ["王", "小", "明"]
    assert fold("İbrahim Yıldız") == "ibrahim yildiz" and fold("Þórður") == "thordur"


def test_cli_search_json(station, capsys):
    station.engine.dispose()
    assert cli.main(["--data-dir", str(station.data_dir), "search", "LAUBER", "J", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["accreditation_id"] == aid_of("Jürg", "Lauber")
    assert {"accreditation_id", "name", "delegation", "category", "status"} <= set(hits[0])
    assert cli.main(["--data-dir", str(station.data_dir), "search", "switzerland"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(aid_of("Jürg", "Lauber")) and "(head)" in out


@pytest.mark.parametrize("typed", ["361", "000361", "0361", " 361 "])
def test_the_number_of_an_accreditation_id_finds_the_participant(station, typed):
    assert [h.accreditation_id for h in lookup.search(station, typed)] == ["GCM17-000361"]


def test_a_number_no_id_ends_with_finds_nobody(station):
    assert lookup.search(station, "999999") == []


def _restarted(station) -> None:
    """As a new process after a restart: no index in memory (the saved one may be read)."""
    lookup.invalidate(station)


def test_a_restart_searches_at_once_with_the_saved_index_and_finds_the_same_people(imported):
    """The index built by the last search is saved beside the database, and a restart reads it
    instead of building it again; it must answer exactly as the index built from the database."""
    built = [lookup.search(imported, q) for q in ("jurg lauber", "lauber", "switzerland", "laubr")]
    assert "build_seconds" in lookup.index_for(imported).stats
    _restarted(imported)
    assert "loaded_seconds" in lookup.index_for(imported).stats  # read, not built
    assert [lookup.search(imported, q) for q in ("jurg lauber", "lauber", "switzerland", "laubr")] == built


def test_a_saved_index_of_another_mirror_is_never_used(imported):
    """A mirror changed behind the index's back with the same fingerprint (a rebuild, a restored
    backup: same rows, same newest import) is searched as it is now, not as the saved index says."""
    aid = aid_of("Jürg", "Lauber")
    assert first(imported, "jurg lauber") == aid
    with imported.transaction() as session:
        from sqlalchemy import text

        session.execute(
            text(
                "UPDATE participants SET family_name = 'Zollinger', family_name_latin = 'Zollinger' "
                "WHERE accreditation_id = :a"
            ),
            {"a": aid},
        )
    _restarted(imported)
    assert first(imported, "jurg zollinger") == aid
    assert aid not in [h.accreditation_id for h in lookup.search(imported, "jurg lauber")]


def test_a_damaged_saved_index_is_ignored_and_built_again(imported):
    lookup.search(imported, "lauber")
    saved = imported.data_dir / "search-index.npz"
    saved.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    _restarted(imported)
    assert first(imported, "jurg lauber") == aid_of("Jürg", "Lauber")
    assert "build_seconds" in lookup.index_for(imported).stats


QUERIES = ("jurg lauber", "lauber", "switzerland", "laubr", "361", "GCM17-000361")


def test_a_large_mirror_is_indexed_by_a_child_process_and_searches_the_same(imported, monkeypatch):
    """A large mirror's index is built in a child process (the desk's screen keeps the interpreter,
    and the build's garbage goes with the child); the desk reads what it saved."""
    built_here = [lookup.search(imported, q) for q in QUERIES]
    assert "build_seconds" in lookup.index_for(imported).stats
    (imported.data_dir / "search-index.npz").unlink()
    _restarted(imported)
    monkeypatch.setattr(index_build, "CHILD_BUILD_MIN_PARTICIPANTS", 100)  # the 900-row list counts as large
    index = lookup.index_for(imported)
    assert "child_build_seconds" in index.stats and "build_seconds" not in index.stats
    assert [lookup.search(imported, q) for q in QUERIES] == built_here


def test_a_child_that_cannot_run_leaves_the_desk_to_build_its_index_itself(imported, monkeypatch, tmp_path):
    expected = [lookup.search(imported, q) for q in QUERIES]
    (imported.data_dir / "search-index.npz").unlink()
    _restarted(imported)
    monkeypatch.setattr(index_build, "CHILD_BUILD_MIN_PARTICIPANTS", 100)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    assert [lookup.search(imported, q) for q in QUERIES] == expected
    assert "build_seconds" in lookup.index_for(imported).stats


@pytest.mark.parametrize(
    "damage",
    [
        "by_id_values_out_of_range",
        "by_key_unsorted",
        "deletes_point_past_the_vocabulary",
        "a_record_one_field_short",
        "a_record_missing",
        "by_number_negative",
    ],
)
def test_a_saved_index_whose_tables_do_not_hold_together_is_built_again(imported, damage):
    """The saved index is a file beside the database: one whose lookups point outside what they
    index, or cannot be searched, is never used (it would find the wrong person or crash)."""
    expected = [lookup.search(imported, q) for q in QUERIES]
    saved = imported.data_dir / "search-index.npz"
    with np.load(saved, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    if damage == "by_id_values_out_of_range":
        arrays["by_id_values"] = arrays["by_id_values"] + 1
    elif damage == "by_key_unsorted":
        arrays["by_key_keys"] = arrays["by_key_keys"][::-1].copy()
    elif damage == "deletes_point_past_the_vocabulary":
        arrays["deletes_values"] = arrays["deletes_values"] * 1000
    elif damage == "a_record_one_field_short":  # two fields of one record run together
        records = arrays["records"].copy()
        records[int(np.flatnonzero(records == 0x1F)[3])] = ord("x")
        arrays["records"] = records
    elif damage == "a_record_missing":
        arrays["records"] = arrays["records"][: int(np.flatnonzero(arrays["records"] == 0x1E)[-1])]
    else:
        arrays["by_number_values"] = arrays["by_number_values"] - 5
    np.savez(saved, **arrays)  # same name: savez keeps it (it ends in .npz)
    _restarted(imported)
    assert [lookup.search(imported, q) for q in QUERIES] == expected
    assert "build_seconds" in lookup.index_for(imported).stats


def test_a_child_killed_mid_build_leaves_the_desk_to_build_and_nothing_half_written(imported, monkeypatch):
    """The child is stopped (here by its time limit, as a kill would) before it saves: the desk
    builds the index itself and searches as before; no half-written index is ever read."""
    expected = [lookup.search(imported, q) for q in QUERIES]
    saved = imported.data_dir / "search-index.npz"
    saved.unlink()
    _restarted(imported)
    monkeypatch.setattr(index_build, "CHILD_BUILD_MIN_PARTICIPANTS", 100)
    monkeypatch.setattr(index_build, "CHILD_TIMEOUT_S", 0.05)  # killed long before it can finish
    assert [lookup.search(imported, q) for q in QUERIES] == expected
    assert "build_seconds" in lookup.index_for(imported).stats  # built by the desk, not read
    assert [p.name for p in imported.data_dir.iterdir() if "search-index" in p.name] == [saved.name]
