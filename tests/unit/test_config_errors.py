"""A broken event file is refused with a message that names the file and the key, and no station is
created half-configured."""

from __future__ import annotations

import re

import pytest

from conftest import EVENT_TOML
from regdesk.cli import main
from regdesk.config import ConfigError, load_event_config, parse_event_config

BASE = EVENT_TOML.read_text(encoding="utf-8")


def edited(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def without_line(start: str) -> str:
    lines = [line for line in BASE.splitlines() if not line.startswith(start)]
    assert len(lines) == len(BASE.splitlines()) - 1, start
    return "\n".join(lines) + "\n"


BAD_CONFIGS = [
    # (what a person got wrong, the TOML, the key the message must name, words it must say)
    ("unclosed quote", edited('code = "GCM-PV-2017"', 'code = "GCM-PV-2017'), "(syntax)", "line 5"),
    ("missing time zone", without_line("timezone ="), "event.timezone", "missing"),
    ("missing collection close", without_line("closes ="), "collection.closes", "missing"),
    (
        "window ends before it opens",
        edited('closes = "2017-12-05T15:00"', 'closes = "2017-11-30T15:00"'),
        "collection.closes",
        "after collection.opens",
    ),
    (
        "window of zero length",
        edited('closes = "2017-12-05T15:00"', 'closes = "2017-12-01T13:00"'),
        "collection.closes",
        "after collection.opens",
    ),
    (
        "unknown time zone",
        edited('"America/Mexico_City"', '"America/Puerto_Vallarta"'),
        "event.timezone",
        "unknown time zone",
    ),
    ("time zone that is a folder", edited('"America/Mexico_City"', '"America"'), "event.timezone", "unknown time zone"),
    ("colour without #", edited('colour = "#1F4E9C"', 'colour = "1F4E9C0"'), "categories[0].colour", "#RRGGBB"),
    (
        "colour with non-hex digits",
        edited('colour = "#2E8B57"', 'colour = "#2E8B5G"'),
        "categories[1].colour",
        "#RRGGBB",
    ),
    ("colour name", edited('colour = "#2E8B57"', 'colour = "green"'), "categories[1].colour", "#RRGGBB"),
    (
        "opening time that is not a time",
        edited('opens = "2017-12-01T13:00"', 'opens = "Friday 1pm"'),
        "collection.opens",
        "not a local date-time",
    ),
    (
        "closing far beyond any calendar",
        edited('closes = "2017-12-05T15:00"', 'closes = "9999-12-31T23:59"'),
        "collection.closes",
        "out of range",
    ),
    (
        "meeting day that is not a date",
        edited('"2017-12-04", "2017-12-05", "2017-12-06"]\n\n[collection]', '"2017-12-04", "5 Dec"]\n\n[collection]'),
        "event.meeting_days",
        "not a date",
    ),
    (
        "valid days given as one number",
        edited('valid_days = ["2017-12-04", "2017-12-05", "2017-12-06"]', "valid_days = 4"),
        "scanning.valid_days",
        "list of dates",
    ),
    ("negative quota", edited("quota = 4", "quota = -1"), "categories[0].quota", "0 (no limit) or more"),
    ("duplicate category", edited('code = "OS"', 'code = "MS"'), "categories[1].code", "duplicate"),
    ("duplicate hotel code", edited('code = "MEL"', 'code = "WES"'), "hotels[1].code", "duplicate"),
    ("bus capacity zero", edited("bus_capacity = 45", "bus_capacity = 0"), "scanning.bus_capacity", "positive"),
    (
        "repeat seconds as text",
        edited("repeat_seconds = 10", 'repeat_seconds = "ten"'),
        "scanning.repeat_seconds",
        "whole number",
    ),
    (
        "short name as a number",
        edited('short_name = "Global Compact for Migration: stocktaking meeting"', "short_name = 2017"),
        "event.short_name",
        "must be text",
    ),
    ("empty event code", edited('code = "GCM-PV-2017"', 'code = "  "'), "event.code", "empty"),
    ("no hotels", BASE.split("[[hotels]]")[0] + BASE[BASE.index("[[checkpoints]]") :], "hotels", "non-empty list"),
]


@pytest.mark.parametrize("what,text,key,words", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_names_file_and_key(what, text, key, words):
    with pytest.raises(ConfigError) as error:
        parse_event_config(text, "event.toml")
    message = str(error.value)
    assert error.value.key == key
    assert message.startswith(f"event.toml: {key}: ")
    assert words in message


def test_the_bundled_event_still_parses():
    config = parse_event_config(BASE, "event.toml")
    assert config.code == "GCM-PV-2017" and len(config.categories) == 11


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: \(file\): does not exist"):
        load_event_config(tmp_path / "nope.toml")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(BASE.replace("Meeting", "Reuni\u00f3n").encode("utf-8").replace(b"Westin", b"W\xe9stin"))
    with pytest.raises(ConfigError, match=r"latin1\.toml: \(file\): is not UTF-8 text"):
        load_event_config(latin1)


def test_cli_init_with_impossible_window_says_which_key_and_creates_nothing(tmp_path, capsys):
    bad = tmp_path / "event.toml"
    bad.write_text(edited('closes = "2017-12-05T15:00"', 'closes = "2017-11-28T15:00"'), encoding="utf-8")
    data_dir = tmp_path / "station"
    code = main(["--data-dir", str(data_dir), "init", "--event", str(bad), "--supervisor", "maria"])
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(r"event\.toml: collection\.closes: must be after collection\.opens", err)
    assert not (data_dir / "station.db").exists()  # nothing half-configured
