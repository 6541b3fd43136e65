"""Badge layouts: data files badges/<name>.toml, loaded and validated here.

A badge layout gives the page size and margin and one box per element, in millimetres measured
from the page's top-left corner (as a designer measures a printed card). A sheet layout places
several badges of another layout on one page (four A6 on A4). Any problem is a LayoutError that
names the file, the line and the key; a layout that loads is guaranteed to keep every box inside
the printable area, keep boxes from overlapping, and give the codes scannable sizes.

The layout folder is the repository's badges/ (src layout: three levels above this package), or
$REGDESK_BADGES_DIR.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from regdesk.errors import RegdeskError
from regdesk.render import codes

MM = 72.0 / 25.4  # pt per mm

BOX_KEYS = ("band", "event", "name", "latin", "delegation", "role", "qr", "barcode", "serial")
OPTIONAL_BOX_KEYS = ("photo",)  # the participant's photo, on layouts that have room for it
TEXT_BOXES = ("band", "event", "name", "latin", "delegation", "role", "serial")
ALIGNS = ("center", "start", "left", "right")
WEIGHTS = {"regular": 400, "bold": 700}
# The QR box includes a 4-module quiet zone, so the fewer modules a token needs, the larger that
# zone's share and the smaller the symbol: the shortest token (16 header bytes, a 1-character
# accreditation id, 64-byte signature, base32) must still give `min_symbol` mm.
_SHORTEST_TOKEN = "A" * 130
# Serials that need the most Code128 modules (digit runs make python-barcode switch code sets).
_WIDEST_SERIALS = ("ABCDEFGH", "A2345B67", "22A33B44", "A22B33C4", "2A2A2A2A")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class LayoutError(RegdeskError, ValueError):
    def __init__(self, source: str, key: str, message: str, line: int | None = None) -> None:
        self.source, self.key, self.line = source, key, line
        where = f"{source} line {line}" if line else source
        super().__init__(f"{where}: {key}: {message}")


@dataclass(frozen=True)
class Box:
    x: float  # mm from the left edge
    y: float  # mm from the top edge
    width: float
    height: float
    size: float = 10.0  # largest font size, pt
    lines: int = 1
    align: str = "center"
    weight: int = 700
    colour: str = "#1A1A1A"
    extra: tuple[tuple[str, Any], ...] = ()  # box-specific settings (title_size, dates_size, ...)

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)

    def rect_pt(self, page_height_mm: float) -> tuple[float, float, float, float]:
        """(x, y, w, h) in pt, y from the bottom edge as PDF (and reportlab) measure it."""
        return self.x * MM, (page_height_mm - self.y - self.height) * MM, self.width * MM, self.height * MM


@dataclass(frozen=True)
class BadgeLayout:
    name: str
    source: str
    description: str
    width: float  # mm
    height: float
    margin: float
    boxes: dict[str, Box]

    def box(self, key: str) -> Box:
        return self.boxes[key]

    @property
    def has_photo(self) -> bool:
        return "photo" in self.boxes

    @property
    def page_size_pt(self) -> tuple[float, float]:
        return self.width * MM, self.height * MM


@dataclass(frozen=True)
class SheetLayout:
    name: str
    source: str
    description: str
    width: float
    height: float
    badge: BadgeLayout
    columns: int
    rows: int
    column_pitch: float
    row_pitch: float
    offset_x: float
    offset_y: float
    cut_marks: bool

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def page_size_pt(self) -> tuple[float, float]:
        return self.width * MM, self.height * MM

    def cell_origin_pt(self, index: int) -> tuple[float, float]:
        """Bottom-left corner (pt) of badge `index` (0 = top left, row by row) on its page."""
        row, col = divmod(index % self.per_page, self.columns)
        left = self.offset_x + col * self.column_pitch
        top = self.offset_y + row * self.row_pitch
        return left * MM, (self.height - top - self.badge.height) * MM


Layout = BadgeLayout | SheetLayout


def badges_dir() -> Path:
    env = os.environ.get("REGDESK_BADGES_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "badges"


def layout_path(name: str) -> Path:
    if not _NAME_RE.match(name or ""):
        raise LayoutError(
            str(name),
            "name",
            "a layout name is lower-case letters, digits, '-' or '_' (e.g. a6, cr80, label-4x3, a4-4up)",
        )
    return badges_dir() / f"{name}.toml"


def available_layouts() -> list[str]:
    folder = badges_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_layout(name: str) -> Layout:
    path = layout_path(name)
    if not path.is_file():
        known = ", ".join(available_layouts()) or f"none: {badges_dir()} holds no *.toml"
        raise LayoutError(str(path), "name", f"no layout named {name!r} (available: {known})")
    stat = path.stat()
    return _load_cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _load_cached(path: str, _mtime_ns: int, _size: int) -> Layout:
    text = Path(path).read_text(encoding="utf-8")
    return parse_layout(text, source=path, name=Path(path).stem)


class _Reader:
    """Typed access to the TOML tables that reports file, line and key on any problem."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise LayoutError(source, "(syntax)", str(exc), int(match.group(1)) if match else None) from None

    def line_of(self, section: str, key: str | None) -> int | None:
        current = ""
        header_line = None
        for number, raw in enumerate(self.text.splitlines(), start=1):
            line = raw.strip()
            header = re.match(r"^\[([^\]]+)\]", line)
            if header:
                current = header.group(1).strip()
                if current == section:
                    header_line = number
                continue
            if current == section and key and re.match(rf"^{re.escape(key)}\s*=", line):
                return number
        return header_line

    def fail(self, section: str, key: str | None, message: str) -> LayoutError:
        full = f"{section}.{key}" if key else section
        return LayoutError(self.source, full, message, self.line_of(section, key))

    def table(self, section: str) -> dict[str, Any]:
        value = self.data.get(section)
        if not isinstance(value, dict):
            raise self.fail(section, None, f"table [{section}] is missing")
        return value

    def number(
        self, table: dict[str, Any], section: str, key: str, default: float | None = None, *, positive: bool = True
    ) -> float:
        if key not in table:
            if default is None:
                raise self.fail(section, key, "is missing")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(section, key, f"must be a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise self.fail(section, key, f"must be {'greater than 0' if positive else '0 or more'}, got {value}")
        return float(value)

    def integer(self, table: dict[str, Any], section: str, key: str, default: int | None = None) -> int:
        if key not in table and default is not None:
            return default
        value = self.number(table, section, key)
        if value != int(value):
            raise self.fail(section, key, f"must be a whole number, got {value}")
        return int(value)

    def choice(
        self, table: dict[str, Any], section: str, key: str, options: tuple[str, ...] | list[str], default: str
    ) -> str:
        value = table.get(key, default)
        if value not in options:
            raise self.fail(section, key, f"must be one of {', '.join(options)}, got {value!r}")
        return value

    def colour(self, table: dict[str, Any], section: str, key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise self.fail(section, key, f'must be a colour like "#1A1A1A", got {value!r}')
        return value

    def flag(self, table: dict[str, Any], section: str, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(section, key, f"must be true or false, got {value!r}")
        return value

    def string(self, table: dict[str, Any], section: str, key: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(section, key, "is missing" if value is None else f"must be text, got {value!r}")
        return value


# Box-specific extra settings (pt): name of setting -> default.
_EXTRAS: dict[str, dict[str, float]] = {
    "name": {"title_size": 10.0, "one_line_down_to": 0.0},
    "event": {"dates_size": 7.0},
    "serial": {"issue_size": 7.0},
    "qr": {"min_symbol": 30.0},
    "barcode": {"min_module": 0.19},
}
_BOX_DEFAULT_WEIGHT = {"latin": "regular", "event": "regular", "serial": "bold"}


def _read_box(r: _Reader, key: str) -> Box:
    t = r.table(key)
    known = {"x", "y", "width", "height", "size", "lines", "align", "weight", "colour", "bleed"} | set(
        _EXTRAS.get(key, {})
    )
    for k in t:
        if k not in known:
            raise r.fail(key, k, f"unknown setting; allowed: {', '.join(sorted(known))}")
    x = r.number(t, key, "x", positive=False)
    y = r.number(t, key, "y", positive=False)
    if key == "qr":
        if "width" in t or "height" in t:
            raise r.fail(key, "width" if "width" in t else "height", "the QR box is square: give `size` (mm) only")
        side = r.number(t, key, "size")
        width = height = side
    else:
        width = r.number(t, key, "width")
        height = r.number(t, key, "height")
    extras = tuple(
        (name, r.number(t, key, name, default, positive=name != "one_line_down_to"))
        for name, default in _EXTRAS.get(key, {}).items()
    )
    if key in TEXT_BOXES:
        size = r.number(t, key, "size")
        lines = r.integer(t, key, "lines", 1)
        if lines not in (1, 2):
            raise r.fail(key, "lines", f"must be 1 or 2, got {lines}")
        align = r.choice(t, key, "align", ALIGNS, "center")
        weight = WEIGHTS[r.choice(t, key, "weight", list(WEIGHTS), _BOX_DEFAULT_WEIGHT.get(key, "bold"))]
        colour = r.colour(t, key, "colour", "#1A1A1A")
        return Box(x, y, width, height, size, lines, align, weight, colour, extras)
    return Box(x, y, width, height, extra=extras)


def _check_geometry(r: _Reader, layout: BadgeLayout, bleed: set[str]) -> None:
    for key, box in layout.boxes.items():
        edge = 0.0 if key in bleed else layout.margin
        if (
            box.x < edge
            or box.y < edge
            or box.x + box.width > layout.width - edge + 1e-9
            or box.y + box.height > layout.height - edge + 1e-9
        ):
            raise r.fail(
                key,
                None,
                f"box ({box.x}, {box.y}, {box.width} x {box.height} mm) leaves the printable "
                f"area ({layout.width} x {layout.height} mm, margin {edge} mm)",
            )
    keys = list(layout.boxes)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            p, q = layout.boxes[a], layout.boxes[b]
            if p.x < q.x + q.width and q.x < p.x + p.width and p.y < q.y + q.height and q.y < p.y + p.height:
                raise r.fail(b, None, f"box overlaps [{a}]")
    qr = layout.boxes["qr"]
    total = codes.qr_modules_with_quiet_zone(_SHORTEST_TOKEN)
    symbol = qr.width * (total - 2 * codes.QR_QUIET_MODULES) / total
    if symbol < qr.get("min_symbol"):
        raise r.fail(
            "qr",
            "size",
            f"a {qr.width} mm box gives a {symbol:.1f} mm QR symbol for the shortest token; "
            f"min_symbol is {qr.get('min_symbol')} mm",
        )
    bar = layout.boxes["barcode"]
    widest = max(codes.code128_modules_with_quiet_zone(s) for s in _WIDEST_SERIALS)
    module = bar.width / widest
    if module < bar.get("min_module"):
        raise r.fail(
            "barcode",
            "width",
            f"{bar.width} mm gives {module:.3f} mm bars; min_module is "
            f"{bar.get('min_module')} mm (1D scanners need wider bars)",
        )


def parse_layout(text: str, *, source: str = "<layout>", name: str = "layout") -> Layout:
    r = _Reader(text, source)
    unknown = set(r.data) - {"description", "page", "sheet", *BOX_KEYS, *OPTIONAL_BOX_KEYS}
    if unknown:
        first = sorted(unknown)[0]
        raise r.fail(
            first,
            None,
            f"unknown table; a layout has [page] and either [sheet] or {', '.join(f'[{k}]' for k in BOX_KEYS)}",
        )
    description = r.data.get("description", "")
    if not isinstance(description, str):
        raise LayoutError(source, "description", "must be text")
    page = r.table("page")
    width = r.number(page, "page", "width")
    height = r.number(page, "page", "height")
    margin = r.number(page, "page", "margin", 0.0, positive=False)
    if "sheet" in r.data:
        return _parse_sheet(r, name, description, width, height)
    boxes = {key: _read_box(r, key) for key in BOX_KEYS}
    for key in OPTIONAL_BOX_KEYS:
        if key in r.data:
            boxes[key] = _read_box(r, key)
    bleed = {key for key in BOX_KEYS if r.flag(r.table(key), key, "bleed", False)}
    if bleed - {"band"}:
        raise r.fail(sorted(bleed - {"band"})[0], "bleed", "only the colour band may run to the page edge")
    layout = BadgeLayout(name, source, description, width, height, margin, boxes)
    _check_geometry(r, layout, bleed)
    return layout


def _parse_sheet(r: _Reader, name: str, description: str, width: float, height: float) -> SheetLayout:
    t = r.table("sheet")
    badge_name = r.string(t, "sheet", "badge")
    try:
        badge = load_layout(badge_name)
    except LayoutError as exc:
        raise r.fail("sheet", "badge", str(exc)) from None
    if not isinstance(badge, BadgeLayout):
        raise r.fail("sheet", "badge", f"{badge_name!r} is itself a sheet; name a badge layout")
    sheet = SheetLayout(
        name,
        r.source,
        description,
        width,
        height,
        badge,
        columns=r.integer(t, "sheet", "columns"),
        rows=r.integer(t, "sheet", "rows"),
        column_pitch=r.number(t, "sheet", "column_pitch", badge.width),
        row_pitch=r.number(t, "sheet", "row_pitch", badge.height),
        offset_x=r.number(t, "sheet", "offset_x", 0.0, positive=False),
        offset_y=r.number(t, "sheet", "offset_y", 0.0, positive=False),
        cut_marks=r.flag(t, "sheet", "cut_marks", True),
    )
    if sheet.column_pitch < badge.width or sheet.row_pitch < badge.height:
        raise r.fail(
            "sheet",
            "column_pitch" if sheet.column_pitch < badge.width else "row_pitch",
            "badges on the sheet would overlap",
        )
    right = sheet.offset_x + (sheet.columns - 1) * sheet.column_pitch + badge.width
    bottom = sheet.offset_y + (sheet.rows - 1) * sheet.row_pitch + badge.height
    if right > width + 1e-9 or bottom > height + 1e-9:
        raise r.fail(
            "sheet",
            "columns" if right > width + 1e-9 else "rows",
            f"{sheet.columns} x {sheet.rows} badges of {badge.width} x {badge.height} mm do not fit a "
            f"{width} x {height} mm page",
        )
    return sheet
