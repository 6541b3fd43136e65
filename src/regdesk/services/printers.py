"""The station's badge printers: the main one and, optionally, a second one ("the other printer"
the desk can switch a badge to in one key), and how CUPS says each is doing.

Both are station settings (`regdesk printer set NAME [--second]`). Reading a printer's state asks
CUPS (`lpstat`, render/printing.py): callers run it in a worker, never in a UI handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from regdesk.render.printing import PrinterStatus, printer_status
from regdesk.services.station import Station

PRINTER_SETTING = "printer"
SECOND_PRINTER_SETTING = "second_printer"


@dataclass(frozen=True)
class Printers:
    main: str  # "" = none: badges are saved as PDFs
    second: str  # "" = none

    def other(self, printer: str) -> str:
        """The printer that is not `printer` ("" when there is no other)."""
        if printer == self.main:
            return self.second
        return self.main if printer == self.second else ""


def configured(station: Station) -> Printers:
    main = station.setting(PRINTER_SETTING, "")
    second = station.setting(SECOND_PRINTER_SETTING, "")
    return Printers(main, second if second != main else "")


def statuses(station: Station) -> list[PrinterStatus]:
    """How CUPS says each configured printer is doing, main first (empty on a PDF-only station)."""
    printers = configured(station)
    return [printer_status(name) for name in (printers.main, printers.second) if name]


__all__ = ["Printers", "PrinterStatus", "configured", "statuses", "PRINTER_SETTING", "SECOND_PRINTER_SETTING"]
