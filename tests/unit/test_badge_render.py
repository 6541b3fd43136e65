"""Badge PDFs decoded the way a scanner and a reader see them.

Badges are issued through the desk service on a real station, rendered in every layout,
rasterised with pdfium, and the codes read back with zxing-cpp: the QR must verify as a signed
token, the Code128 must be the serial. Names must be real glyphs: the text layer must hold them,
and no character of any embedded font may map to .notdef (the "tofu" box).
"""

from __future__ import annotations

import ctypes
import io
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from meeting import init_station
from reportlab.pdfbase.ttfonts import shapeStr
from reportlab.pdfgen.canvas import Canvas

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.domain import token as tokens
from regdesk.render import fonts, text
from regdesk.render.badge import plan_badge, render_badge_pdf, render_badge_sheet
from regdesk.render.layouts import MM, BadgeLayout, LayoutError, SheetLayout, available_layouts, load_layout
from regdesk.services import desk

LAYOUTS = ["a6", "cr80", "label-4x3", "a4-4up"]
DPI = 200


@dataclass(frozen=True)
class Person:
    aid: str
    given: str
    family: str
    given_latin: str
    family_latin: str
    category: str
    delegation: str
    face: str  # the badge font that must draw the passport-script name


PEOPLE = {
    "latin": Person("MS-CZ-1", "František", "Ružička", "František", "Ružička", "MS", "Czechia", "latin"),
    "cyrillic": Person("MS-RU-1", "Иван", "Петров", "Ivan", "Petrov", "MS", "Russian Federation", "latin"),
    "arabic": Person(
        "NGO-AR-1", "محمد", "العلي", "Mohammed", "Al-Ali", "NGO", "Arab Network for Migrants' Rights", "arabic"
    ),
    "chinese": Person(
        "UN-CN-1", "小明", "王", "Xiaoming", "Wang", "UN", "International Organization for Migration", "sc"
    ),
}


@dataclass(frozen=True)
class Issued:
    person: Person
    badge: desk.IssuedBadge
    content: object


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    st = init_station(
        tmp_path_factory.mktemp("badges") / "desk",
        EVENT_TOML,
        role="desk",
        name="Westin desk 1",
        clock=FixedClock(local("2017-12-01T13:05")),
    )
    seed_participants(
        st,
        [
            participant_row(
                p.aid,
                p.family,
                p.given,
                family_latin=p.family_latin,
                given_latin=p.given_latin,
                category=p.category,
                delegation=p.delegation,
                role="head" if key == "latin" else "member",
                title="H.E. Mr." if key == "latin" else "",
            )
            for key, p in PEOPLE.items()
        ]
        + [participant_row(f"MS-XX-{i}", f"Family{i}", "Given", delegation="Testland") for i in range(1, 5)],
    )
    yield st
    st.close()


def _issue(station, aid: str) -> desk.IssuedBadge:
    desk.record_identity_check(station, aid, "passport", "X1234567", "clerk")
    return desk.issue_badge(station, aid, operator="clerk")


@pytest.fixture(scope="module")
def issued(station) -> dict[str, Issued]:
    out = {}
    for key, person in PEOPLE.items():
        badge = _issue(station, person.aid)
        out[key] = Issued(person, badge, desk.badge_content(station, badge.serial))
    return out


# --- reading PDFs back --------------------------------------------------------------------------


def rasterise(pdf: bytes, dpi: int = DPI) -> list:
    doc = pdfium.PdfDocument(pdf)
    return [page.render(scale=dpi / 72).to_pil() for page in doc]


def read_codes(image) -> tuple[list, list]:
    results = zxingcpp.read_barcodes(image)
    qrs = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    bars = [r for r in results if r.format == zxingcpp.BarcodeFormat.Code128]
    return qrs, bars


def side_mm(result, dpi: int) -> float:
    p = result.position
    return min(abs(p.top_right.x - p.top_left.x), abs(p.bottom_left.y - p.top_left.y)) / dpi * 25.4


def text_layer(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in doc)


def embedded_fonts(pdf: bytes) -> dict[str, bytes]:
    """Base font name -> font program, for every font a text object on any page uses."""
    doc = pdfium.PdfDocument(pdf)
    found: dict[str, bytes] = {}
    for page in doc:
        for obj in page.get_objects():
            if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
                continue
            font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
            n = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
            name_buf = ctypes.create_string_buffer(n)
            pdfium_c.FPDFFont_GetBaseFontName(font, name_buf, n)
            size = ctypes.c_size_t()
            pdfium_c.FPDFFont_GetFontData(font, None, 0, ctypes.byref(size))
            data = (ctypes.c_uint8 * size.value)()
            if size.value:
                pdfium_c.FPDFFont_GetFontData(font, data, size.value, ctypes.byref(size))
            found[name_buf.value.decode()] = bytes(data)
    return found


def _cmap_glyph_ids(program: bytes) -> dict[int, int]:
    """Raw code -> glyph id of every cmap subtable (format 0/6 as reportlab writes subsets), read
    from the bytes: parsers like fontTools drop the entries that point at glyph 0, the ones we want."""
    data = TTFont(io.BytesIO(program)).getTableData("cmap")
    found: dict[int, int] = {}
    (n_tables,) = struct.unpack_from(">H", data, 2)
    for i in range(n_tables):
        _, _, offset = struct.unpack_from(">HHI", data, 4 + 8 * i)
        (fmt,) = struct.unpack_from(">H", data, offset)
        if fmt == 6:
            first, count = struct.unpack_from(">HH", data, offset + 6)
            gids = struct.unpack_from(f">{count}H", data, offset + 10)
            found.update({first + k: gid for k, gid in enumerate(gids)})
        elif fmt == 0:
            found.update(enumerate(data[offset + 6 : offset + 6 + 256]))
        else:
            raise AssertionError(f"unexpected cmap format {fmt}")
    return found


def notdef_codes(pdf: bytes) -> dict[str, int]:
    """Font -> number of codes drawn as .notdef (glyph 0, the box). Empty dict: only real glyphs.

    Code 0 is left out: reportlab keeps it for U+0000 and draws characters a font lacks with it,
    which leaves them out of the text layer, where the name checks catch them."""
    missing = {}
    for name, program in embedded_fonts(pdf).items():
        assert program, f"font {name} is not embedded"
        codes = _cmap_glyph_ids(program)
        bad = sum(1 for code, gid in codes.items() if code and gid == 0)
        if bad or len(codes) < 2:
            missing[name] = bad
    return missing


# --- every script, every layout -----------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("script", list(PEOPLE))
def test_badge_codes_decode_and_names_are_real_glyphs(station, issued, script, layout):
    item = issued[script]
    pdf = render_badge_pdf(item.content, layout)
    assert pdf.startswith(b"%PDF")

    [image] = rasterise(pdf)
    qrs, bars = read_codes(image)
    assert len(qrs) == 1 and len(bars) == 1
    with station.sessions() as s:
        check = tokens.read_token(qrs[0].text, event_code=station.config.code, public_keys=station.public_keys(s))
    assert qrs[0].text == item.badge.token
    assert check.ok and check.claims.serial == item.badge.serial and check.claims.participant_id == item.person.aid
    assert bars[0].text == item.badge.serial
    assert side_mm(qrs[0], DPI) >= (22.0 if layout == "cr80" else 30.0)

    layer = text_layer(pdf).casefold()
    person = item.person
    assert tokens.format_serial(item.badge.serial).casefold() in layer
    assert person.delegation.casefold()[:20] in " ".join(layer.split())
    if person.face == "arabic":
        # Shaped Arabic comes out as contextual glyph forms; the Latin line must be there.
        assert f"{person.given_latin} {person.family_latin}".casefold() in layer
    else:
        assert person.given.casefold() in layer and person.family.casefold() in layer
    if person.face == "sc":
        assert "wang xiaoming" in layer
    if script == "cyrillic":
        assert "ivan petrov" in layer

    used = embedded_fonts(pdf)
    assert any(name.startswith(f"RD-{person.face}-") or f"+RD-{person.face}-" in name for name in used), used
    assert notdef_codes(pdf) == {}


def test_glyph_checks_catch_a_font_without_the_script():
    """The checks above must fail when a name is drawn with a font that lacks its script: shaped
    (Arabic) text turns into .notdef boxes, unshaped text drops out of the text layer."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    latin_only = fonts.font_name("latin", fonts.BOLD, "")
    canvas.setFont(latin_only, 30)
    canvas.drawString(50, 700, shapeStr("محمد العلي", latin_only, 30))
    canvas.drawString(50, 600, "王小明")
    canvas.save()
    pdf = buffer.getvalue()
    assert sum(notdef_codes(pdf).values()) >= 1
    assert "王小明" not in text_layer(pdf)


def test_name_without_any_font_falls_back_to_latin(issued):
    from dataclasses import replace

    content = replace(
        issued["latin"].content,
        given_names="\U00012000",
        family_name="\U00012001",
        given_names_latin="Ninsun",
        family_name_latin="Gilgamesh",
    )  # cuneiform: no font here
    pdf = render_badge_pdf(content, "a6")
    assert "Ninsun GILGAMESH".casefold() in text_layer(pdf).casefold()
    assert notdef_codes(pdf) == {}


# --- fitting ------------------------------------------------------------------------------------

LONG_NAME = ("María de los Ángeles Guadalupe", "Fernández-Castellanos y Villalobos de la Santísima Trinidad")


@pytest.mark.parametrize("layout", ["a6", "cr80", "label-4x3"])
def test_very_long_name_shrinks_and_stays_inside_its_box(issued, layout):
    from dataclasses import replace

    content = replace(
        issued["latin"].content,
        given_names=LONG_NAME[0],
        family_name=LONG_NAME[1],
        given_names_latin=LONG_NAME[0],
        family_name_latin=LONG_NAME[1],
    )
    chosen = load_layout(layout)
    plan = plan_badge(content, chosen)
    name = plan.texts["name"]
    x, y, w, h = name.rect
    assert name.fitted.size < chosen.box("name").size  # it had to shrink
    assert len(name.fitted.lines) == 2
    assert name.fitted.width() <= w + 0.01 and name.fitted.height() <= h + 0.01

    # In the PDF, every character drawn in the name's band lies inside the name box.
    pdf = render_badge_pdf(content, layout)
    page = pdfium.PdfDocument(pdf)[0]
    tp = page.get_textpage()
    inside = []
    for i in range(tp.count_chars()):
        left, bottom, right, top = tp.get_charbox(i)
        if right <= left:
            continue  # generated spaces
        if y <= (bottom + top) / 2 <= y + h:
            assert left >= x - 0.5 and right <= x + w + 0.5, (left, right, x, x + w)
            inside.append(tp.get_text_range(i, 1))
    drawn = "".join(inside).replace(" ", "").replace("\ufffe", "-")  # pdfium marks a line-end hyphen
    expected = (LONG_NAME[0] + LONG_NAME[1].upper()).replace(" ", "")
    assert unicodedata.normalize("NFC", drawn) == unicodedata.normalize("NFC", expected)


def test_short_name_stays_on_one_line_at_full_size():
    fitted = text.fit("Ana LI", 93 * MM, 30 * MM, max_size=34.0, weight=fonts.BOLD, max_lines=2)
    assert len(fitted.lines) == 1 and fitted.size == 34.0


def test_arabic_line_is_right_to_left_and_shaped():
    line = text.layout_line("محمد العلي", fonts.BOLD)
    assert line.rtl and [run.face for run in line.runs] == ["arabic"]
    # Shaping joins the letters: HarfBuzz picks contextual forms, which are other glyphs than
    # the isolated letters a naive renderer would draw.
    shaped = line.runs[0].draw
    assert getattr(shaped, "__shapeData__", None)


# --- sheets -------------------------------------------------------------------------------------


def test_sheet_of_four_different_badges_all_qr_codes_decode(station, issued):
    contents = [issued[key].content for key in ("latin", "cyrillic", "arabic", "chinese")]
    pdf = render_badge_sheet(contents, "a4-4up")
    pages = rasterise(pdf, dpi=200)
    assert len(pages) == 1
    qrs, bars = read_codes(pages[0])
    assert sorted(q.text for q in qrs) == sorted(c.token for c in contents)
    assert sorted(b.text for b in bars) == sorted(c.serial for c in contents)
    assert notdef_codes(pdf) == {}


def test_sheet_with_five_badges_takes_two_pages(station, issued):
    extra = [desk.badge_content(station, _issue(station, f"MS-XX-{i}").serial) for i in (1,)]
    contents = [issued[key].content for key in PEOPLE] + extra
    pdf = render_badge_sheet(contents, "a4-4up")
    pages = rasterise(pdf, dpi=150)
    assert len(pages) == 2
    assert [q.text for q in read_codes(pages[1])[0]] == [extra[0].token]


def test_sheet_on_a_badge_layout_puts_one_badge_per_page(issued):
    pdf = render_badge_sheet([issued["latin"].content, issued["chinese"].content], "cr80")
    assert len(pdfium.PdfDocument(pdf)) == 2


# --- layout files -------------------------------------------------------------------------------


def test_shipped_layouts_load():
    assert set(LAYOUTS) <= set(available_layouts())
    for name in LAYOUTS:
        layout = load_layout(name)
        assert isinstance(layout, SheetLayout if name == "a4-4up" else BadgeLayout)
    sheet = load_layout("a4-4up")
    assert sheet.per_page == 4 and sheet.badge.name == "a6"


def _write_layout(tmp_path: Path, name: str, text_: str) -> None:
    (tmp_path / f"{name}.toml").write_text(text_, encoding="utf-8")


@pytest.fixture
def layout_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDESK_BADGES_DIR", str(tmp_path))
    return tmp_path


def _a6_text() -> str:
    return (Path(__file__).resolve().parents[2] / "badges" / "a6.toml").read_text(encoding="utf-8")


def test_bad_layout_value_names_file_line_and_key(layout_dir):
    broken = _a6_text().replace("size = 34.0", 'size = "big"')
    _write_layout(layout_dir, "mine", broken)
    with pytest.raises(LayoutError) as err:
        load_layout("mine")
    message = str(err.value)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if text.startswith('size = "big"'))
    assert "mine.toml" in message and "name.size" in message and f"line {line}" in message


def test_layout_missing_box_is_refused(layout_dir):
    text_ = _a6_text()
    start = text_.index("[role]")
    end = text_.index("[qr]")
    _write_layout(layout_dir, "norole", text_[:start] + text_[end:])
    with pytest.raises(LayoutError, match=r"norole\.toml.*role.*\[role\] is missing"):
        load_layout("norole")


def test_layout_with_overlapping_boxes_is_refused(layout_dir):
    text_ = _a6_text().replace(
        "[barcode]           # Code128 of the serial, quiet zones included\nx = 47.0", "[barcode]\nx = 30.0"
    )
    _write_layout(layout_dir, "overlap", text_)
    with pytest.raises(LayoutError, match=r"overlap\.toml.*barcode.*overlaps \[qr\]"):
        load_layout("overlap")


def test_layout_with_too_small_qr_is_refused(layout_dir):
    _write_layout(layout_dir, "tinyqr", _a6_text().replace("size = 38.0", "size = 25.0"))
    with pytest.raises(LayoutError, match=r"tinyqr\.toml.*qr\.size.*min_symbol"):
        load_layout("tinyqr")


def test_layout_box_outside_the_printable_area_is_refused(layout_dir):
    _write_layout(layout_dir, "offpage", _a6_text().replace("y = 122.0", "y = 126.0"))
    with pytest.raises(LayoutError, match=r"offpage\.toml.*band.*printable area"):
        load_layout("offpage")


def test_layout_syntax_error_gives_line(layout_dir):
    _write_layout(layout_dir, "syntax", "[page]\nwidth = 105\nheight = = 3\n")
    with pytest.raises(LayoutError, match=r"syntax\.toml line 3"):
        load_layout("syntax")


def test_unknown_or_unsafe_layout_names(layout_dir):
    with pytest.raises(LayoutError, match="no layout named 'nope'"):
        load_layout("nope")
    with pytest.raises(LayoutError, match="layout name"):
        load_layout("../etc/passwd")


def test_sheet_that_does_not_fit_its_page_is_refused(layout_dir):
    _write_layout(layout_dir, "a6", _a6_text())
    _write_layout(
        layout_dir, "sheet", '[page]\nwidth = 210.0\nheight = 297.0\n\n[sheet]\nbadge = "a6"\ncolumns = 3\nrows = 2\n'
    )
    with pytest.raises(LayoutError, match=r"sheet\.toml.*sheet\.columns.*do not fit"):
        load_layout("sheet")


# --- codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 2, 9, 77, 130, 140, 157, 231, 400])
def test_fast_qr_codewords_equal_the_qrcode_package(length):
    """The badge encodes QR data codewords itself (speed); they must be exactly qrcode's."""
    import random

    import qrcode
    from qrcode.util import MODE_ALPHA_NUM, QRData, create_data

    from regdesk.render import codes

    text_ = "".join(random.Random(length).choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(length))
    version = codes._qr_version(length, MODE_ALPHA_NUM)
    expected = create_data(version, qrcode.constants.ERROR_CORRECT_M, [QRData(text_.encode(), mode=MODE_ALPHA_NUM)])
    assert codes.alphanumeric_codewords(text_, version) == expected


@pytest.mark.parametrize(
    "given, family, face",
    [("太郎", "山田", "sc"), ("たろう", "やまだ", "jp"), ("민준", "김", "kr"), ("Ελένη", "Παπαδοπούλου", "latin")],
)
def test_more_scripts_render_as_real_glyphs(issued, given, family, face):
    from dataclasses import replace

    content = replace(
        issued["latin"].content,
        given_names=given,
        family_name=family,
        given_names_latin="Latin",
        family_name_latin="Rendering",
    )
    pdf = render_badge_pdf(content, "a6")
    layer = text_layer(pdf).casefold()
    assert given.casefold() in layer and family.casefold() in layer
    assert any(f"RD-{face}-" in name for name in embedded_fonts(pdf))
    assert notdef_codes(pdf) == {}
