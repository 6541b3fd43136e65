"""Send a badge PDF to a CUPS printer with `lp`, or leave it in the output folder.

Printer trouble never raises: the badge is already issued (its events are committed before
printing), so the clerk gets a clear message and can reprint once the printer is back.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LP_TIMEOUT_SECONDS = 20.0
# CUPS queue names: printable characters except space, tab, "/", "\\", "'", '"', "#"; we also
# refuse a leading "-" so a name can never be read as an lp option.
_PRINTER_NAME = re.compile(r"^[^\s/\\'\"#-][^\s/\\'\"#]{0,126}$")


@dataclass(frozen=True)
class DeliveryResult:
    printed: bool
    message: str
    request_id: str = ""
    problem: str = ""  # why a configured printer did not take the job, in a few words ("" otherwise)


def valid_printer_name(name: str) -> bool:
    return bool(_PRINTER_NAME.match(name))


def lp_command(path: Path, printer: str, options: Sequence[str] = ()) -> list[str]:
    """The argv we run. Badges are laid out at their true size: never let CUPS scale them."""
    cmd = ["lp", "-d", printer, "-t", f"regdesk {path.stem}", "-o", "print-scaling=none"]
    for option in options:
        cmd += ["-o", option]
    # An absolute path never starts with "-" (older CUPS lp has no "--" end-of-options marker).
    cmd.append(str(path.resolve()))
    return cmd


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def deliver(path: Path, printer: str | None, *, options: Sequence[str] = (),
            timeout: float = LP_TIMEOUT_SECONDS) -> DeliveryResult:
    path = Path(path)
    if not printer:
        return DeliveryResult(False, f"Badge PDF saved to {path} (no printer configured; "
                                     f"set one with `regdesk printer set NAME`)")
    if not valid_printer_name(printer):
        return DeliveryResult(False, f"Printer name {printer!r} is not a valid CUPS queue name; "
                                     f"badge PDF saved to {path}", problem="not a valid CUPS queue name")
    if shutil.which("lp") is None:
        return DeliveryResult(False, f"Cannot print: the `lp` command (CUPS client) is not installed. "
                                     f"Badge PDF saved to {path}",
                              problem="the `lp` command (CUPS client) is not installed")
    try:
        done = subprocess.run(lp_command(path, printer, options), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return DeliveryResult(False, f"Printer {printer} did not answer within {timeout:g} s; "
                                     f"badge PDF saved to {path}. Check the printer, then reprint.",
                              problem=f"did not answer within {timeout:g} s")
    except OSError as exc:
        return DeliveryResult(False, f"Cannot run lp for printer {printer}: {exc.strerror or exc}; "
                                     f"badge PDF saved to {path}", problem=f"cannot run lp: {exc.strerror or exc}")
    if done.returncode != 0:
        reason = _first_line(done.stderr) or _first_line(done.stdout) or f"lp exited with status {done.returncode}"
        return DeliveryResult(False, f"Printer {printer} refused the badge: {reason}. "
                                     f"Badge PDF saved to {path}; fix the printer, then reprint.", problem=reason)
    match = re.search(r"request id is (\S+)", done.stdout)
    request = match.group(1) if match else ""
    suffix = f" (job {request})" if request else ""
    return DeliveryResult(True, f"Badge sent to printer {printer}{suffix}", request)
