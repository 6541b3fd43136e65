"""The QR codes a PDF shows, read back from its rendered pages as a scanner would read the paper."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp


def qr_texts(pdf: bytes, dpi: int = 300) -> list[str]:
    """The text of every QR code on every page, page by page."""
    texts = []
    for page in pdfium.PdfDocument(pdf):
        image = page.render(scale=dpi / 72).to_pil()
        texts += [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return texts
