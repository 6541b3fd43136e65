"""The QR code (signed token) and the Code128 (badge serial), drawn as vector rectangles.

Vectors stay crisp at whatever resolution the badge printer has (300 dpi card printers, 203 dpi
label printers) where a bitmap would be resampled and blur the module edges.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

import qrcode
from barcode.codex import Code128
from qrcode import base as qr_base
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData
from reportlab.pdfgen.canvas import Canvas

QR_QUIET_MODULES = 4  # ISO/IEC 18004 minimum
CODE128_QUIET_MODULES = 10  # ISO/IEC 15417 minimum
# The token is ~75% signature bytes, so all eight masks score within a few percent of each other
# on the ISO penalty rules; evaluating them costs ~18 ms per badge for no gain in readability.
QR_MASK = 2
_QR_ALPHANUMERIC = set(string.ascii_uppercase + string.digits + " $%*+-./:")


def _qr_data(text: str) -> QRData:
    if set(text) <= _QR_ALPHANUMERIC:
        return QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM)
    return QRData(text.encode("utf-8"), mode=MODE_8BIT_BYTE)


@lru_cache(maxsize=512)
def _qr_version(length: int, mode: int) -> int:
    """Smallest version holding `length` characters in `mode` at level M. Every token of a given
    length needs the same version, and searching for it costs as much as placing the modules."""
    probe = "A" * length if mode == MODE_ALPHA_NUM else "a" * length
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(_qr_data(probe))
    return code.best_fit()


_ALNUM_VALUES = {ch: i for i, ch in enumerate(string.digits + string.ascii_uppercase + " $%*+-./:")}


@lru_cache(maxsize=64)
def _rs_generator(ec_count: int) -> tuple[int, ...]:
    """Coefficients of prod(x - a^i), i < ec_count, over GF(256), leading 1 first."""
    gen = [1]
    for i in range(ec_count):
        root = qr_base.gexp(i)
        nxt = gen + [0]
        for j, coef in enumerate(gen):
            if coef:
                nxt[j + 1] ^= qr_base.gexp(qr_base.glog(coef) + qr_base.glog(root))
        gen = nxt
    return tuple(gen)


def _rs_remainder(data: list[int], ec_count: int) -> list[int]:
    gen = _rs_generator(ec_count)
    exp, log = qr_base.EXP_TABLE, qr_base.LOG_TABLE
    gen_logs = [log[g] for g in gen[1:]]
    rem = data + [0] * ec_count
    for i in range(len(data)):
        coef = rem[i]
        if coef:
            lc = log[coef]
            for j, gl in enumerate(gen_logs, start=i + 1):
                rem[j] ^= exp[(gl + lc) % 255]
    return rem[len(data) :]


def alphanumeric_codewords(text: str, version: int) -> list[int]:
    """Final codeword sequence (data + error correction, interleaved; ISO/IEC 18004 7.4-7.6) of
    `text` in alphanumeric mode at level M. Same bytes as qrcode's util.create_data, ~10x faster:
    that one builds its bit buffer bit by bit and divides polynomials recursively, which was half
    the time of a badge."""
    values = [_ALNUM_VALUES[ch] for ch in text]
    count_bits = 9 if version < 10 else 11 if version < 27 else 13
    bits = ["0010", format(len(values), f"0{count_bits}b")]
    bits += [format(values[i] * 45 + values[i + 1], "011b") for i in range(0, len(values) - 1, 2)]
    if len(values) % 2:
        bits.append(format(values[-1], "06b"))
    blocks = qr_base.rs_blocks(version, qrcode.constants.ERROR_CORRECT_M)
    capacity = sum(b.data_count for b in blocks)
    stream = "".join(bits)
    stream += "0" * min(4, capacity * 8 - len(stream))  # terminator
    stream += "0" * (-len(stream) % 8)
    data = [int(stream[i : i + 8], 2) for i in range(0, len(stream), 8)]
    data += [0xEC, 0x11] * ((capacity - len(data)) // 2) + [0xEC] * ((capacity - len(data)) % 2)
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        chunk = data[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_rs_remainder(chunk, block.total_count - block.data_count))
    out = []
    for group in (data_blocks, ec_blocks):
        for i in range(max(len(b) for b in group)):
            out.extend(b[i] for b in group if i < len(b))
    return out


@lru_cache(maxsize=64)  # reprints and sheets draw the same token again
def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """QR modules without quiet zone, error correction M. Base32 tokens use alphanumeric mode."""
    data = _qr_data(text)
    version = _qr_version(len(text), data.mode)
    code = qrcode.QRCode(
        version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK
    )
    code.add_data(data)
    if data.mode == MODE_ALPHA_NUM:
        code.data_cache = alphanumeric_codewords(text, version)  # qrcode places and masks them
    code.make(fit=False)
    return tuple(map(tuple, code.get_matrix()))


def qr_modules_with_quiet_zone(text: str) -> int:
    return len(qr_matrix(text)) + 2 * QR_QUIET_MODULES


_DARK_RUN = re.compile(rb"\x01+")


def _qr_path_operators(matrix: tuple[tuple[bool, ...], ...]) -> str:
    """PDF rectangle operators in module units (x right, y down from the top-left module), one per
    horizontal run of dark modules: integers only, so the path is exact and cheap to emit."""
    return "\n".join(
        f"{m.start()} {r} {m.end() - m.start()} 1 re"
        for r, row in enumerate(matrix)
        for m in _DARK_RUN.finditer(bytes(row))
    )


@lru_cache(maxsize=64)
def _qr_ops(text: str) -> tuple[int, str]:
    matrix = qr_matrix(text)
    return len(matrix), _qr_path_operators(matrix)


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> float:
    """Draw the QR with its quiet zone filling the square (x, y, size) in pt; returns the symbol's side."""
    n, ops = _qr_ops(text)
    module = size / (n + 2 * QR_QUIET_MODULES)
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)  # the quiet zone must be light whatever is behind
    canvas.setFillColorRGB(0, 0, 0)
    # Module grid: origin at the top-left module, one unit per module, y pointing down.
    canvas.transform(module, 0, 0, -module, x + QR_QUIET_MODULES * module, y + size - QR_QUIET_MODULES * module)
    canvas.addLiteral(ops + "\nf")
    canvas.restoreState()
    return n * module


@lru_cache(maxsize=64)
def code128_pattern(text: str) -> str:
    """Bar/space modules ('1' = bar) incl. start, check and stop characters (python-barcode)."""
    return Code128(text).build()[0]


def code128_modules_with_quiet_zone(text: str) -> int:
    return len(code128_pattern(text)) + 2 * CODE128_QUIET_MODULES


@lru_cache(maxsize=64)
def _code128_ops(text: str) -> tuple[int, str]:
    pattern = code128_pattern(text)
    ops = "\n".join(f"{m.start()} 0 {m.end() - m.start()} 1 re" for m in re.finditer("1+", pattern))
    return len(pattern), ops


def draw_code128(canvas: Canvas, text: str, x: float, y: float, width: float, height: float) -> float:
    """Draw the Code128 of `text` with quiet zones filling the box (pt); returns the module width."""
    n, ops = _code128_ops(text)
    module = width / (n + 2 * CODE128_QUIET_MODULES)
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, width, height, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.transform(module, 0, 0, height, x + CODE128_QUIET_MODULES * module, y)  # bar units, full height
    canvas.addLiteral(ops + "\nf")
    canvas.restoreState()
    return module
