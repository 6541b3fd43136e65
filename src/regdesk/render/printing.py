"""Send a badge PDF to a CUPS printer with `lp`, or leave it in the output folder; read a printer's
state with `lpstat` (the CUPS client: it talks to whatever server CUPS_SERVER or client.conf names).

Printer trouble never raises: the badge is already issued (its events are committed before
printing), so the clerk gets a clear message and can reprint once the printer is back.
A printer CUPS reports as stopped (`cupsdisable`, or a backend that stopped the queue: paper out,
offline) is not sent the job: CUPS would accept it and keep it waiting, and the desk would say
"printed" for a badge nobody can hand over.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LP_TIMEOUT_SECONDS = 20.0
LPSTAT_TIMEOUT_SECONDS = 5.0
# CUPS queue names: printable characters except space, tab, "/", "\\", "'", '"', "#"; we also
# refuse a leading "-" so a name can never be read as an lp option.
_PRINTER_NAME = re.compile(r"^[^\s/\\'\"#-][^\s/\\'\"#]{0,126}$")


@dataclass(frozen=True)
class DeliveryResult:
    printed: bool
    message: str
    request_id: str = ""
    problem: str = ""  # why a configured printer did not take the job, in a few words ("" otherwise)


# What a printer is doing, in the desk's words (from IPP printer-state, printer-is-accepting-jobs).
IDLE, PRINTING, STOPPED, REJECTING = "idle", "printing", "stopped", "not accepting jobs"
NOT_FOUND, NO_SERVER, UNKNOWN = "no such printer", "CUPS not running", "state unknown"

# IPP printer-state-reasons keywords (RFC 8011 / PWG 5100.x) in a few words, most telling first.
# The keyword may carry a severity suffix (-error, -warning, -report).
REASON_WORDS: tuple[tuple[str, str], ...] = (
    ("media-empty", "paper out"),
    ("media-needed", "paper out"),
    ("media-jam", "paper jam"),
    ("offline", "offline"),
    ("timed-out", "offline"),
    ("connecting-to-device", "offline"),
    ("shutdown", "offline"),
    ("cover-open", "cover open"),
    ("door-open", "door open"),
    ("input-tray-missing", "tray missing"),
    ("marker-supply-empty", "ribbon/ink out"),
    ("toner-empty", "toner out"),
    ("output-area-full", "output tray full"),
    ("media-low", "paper low"),
    ("marker-supply-low", "ribbon/ink low"),
    ("toner-low", "toner low"),
)
# Conditions under which a printing job does not come out.
BLOCKING = frozenset(
    {
        "paper out",
        "paper jam",
        "offline",
        "cover open",
        "door open",
        "tray missing",
        "ribbon/ink out",
        "toner out",
        "output tray full",
    }
)
_SEVERITY = re.compile(r"-(error|warning|report)$")
_LONG_FIELDS = (
    "Form mounted:",
    "Content types:",
    "Printer types:",
    "Description:",
    "Alerts:",
    "Location:",
    "Connection:",
    "Interface:",
    "On fault:",
    "After fault:",
    "Users allowed:",
    "Users denied:",
    "Forms allowed:",
    "Banner required",
    "Charset sets:",
    "Default pitch:",
    "Default page size:",
    "Default port settings:",
)
_JOB_LINE = re.compile(r"^(\S+)-(\d+)\s")


@dataclass(frozen=True)
class PrinterStatus:
    """One CUPS queue as `lpstat -l -p NAME -a NAME -o NAME` describes it."""

    name: str
    state: str  # IDLE | PRINTING | STOPPED | REJECTING | NOT_FOUND | NO_SERVER | UNKNOWN
    reasons: tuple[str, ...] = ()  # IPP printer-state-reasons ("paused", "media-empty-error"...), "none" dropped
    message: str = ""  # printer-state-message: why it stopped (the cupsdisable -r text, the backend's error)
    queued: int = 0  # jobs waiting or printing
    job_problem: str = ""  # what CUPS says about the first waiting job ("Out of paper")
    detail: str = ""  # NOT_FOUND / NO_SERVER / UNKNOWN: what lpstat said

    @property
    def condition(self) -> str:
        """The device's trouble in a word or two ("paper out", "offline"), "" when none is reported."""
        for reason in self.reasons:
            keyword = _SEVERITY.sub("", reason)
            for prefix, words in REASON_WORDS:
                if keyword == prefix:
                    return words
        return ""

    @property
    def ready(self) -> bool:
        """Worth sending a badge to: CUPS would print it now, or after the job printing unless that
        job is stuck (the device says offline, paper out...). An idle queue is ready whatever reason
        an earlier job left (paper out, then paper loaded and the queue enabled): CUPS sends it the
        next job, and the job that succeeds clears the reason."""
        if self.state == IDLE:
            return True
        return self.state == PRINTING and self.condition not in BLOCKING

    @property
    def known(self) -> bool:
        return self.state not in (NO_SERVER, UNKNOWN)

    def problem(self) -> str:
        """Why a badge should not go to this printer now, in a few words ("" when it may)."""
        if self.ready or not self.known:
            return ""
        if self.state == NOT_FOUND:
            return "no such printer in CUPS"
        words = [self.state]
        if self.condition:
            words.append(self.condition)
        why = self.message or self.job_problem
        text = " – ".join(words)
        return f"{text} ({why})" if why and why.lower() != self.condition else text

    def summary(self) -> str:
        """One short line for the desk: state, trouble, queue length."""
        if self.state in (NOT_FOUND, NO_SERVER, UNKNOWN):
            return self.state
        head = self.state.upper() if not self.ready else self.state
        if self.condition:
            head += f" – {self.condition}"
        why = self.message or self.job_problem
        if why and not self.ready and why.lower() != self.condition:
            head += f" ({why})"
        return f"{head} · {self.queued} queued"


def _lpstat(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    # The C locale: lpstat's words ("is idle", "disabled since", "Alerts:") are what we read.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(LANG="C", LC_ALL="C")
    return subprocess.run(
        ["lpstat", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
        env=env,
    )


def parse_lpstat(name: str, stdout: str) -> PrinterStatus:
    """Read `lpstat -l -p NAME -a NAME -o NAME` (C locale) for the queue NAME."""
    state, message, accepting = UNKNOWN, "", True
    reasons: tuple[str, ...] = ()
    queued, job_problem, in_job = 0, "", False
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"printer {name} "):
            in_job = False
            rest = line[len(f"printer {name} ") :]
            if rest.startswith("disabled"):
                state = STOPPED
            elif rest.startswith("now printing"):
                state = PRINTING
            elif rest.startswith("is idle"):
                state = IDLE
            # A stopped printer's state message is the indented line right after (CUPS prints it
            # only when there is one); the long form's fields ("Form mounted:", ...) follow.
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith("\t") and not following.strip().startswith(_LONG_FIELDS):
                message = following.strip()
                if message == "reason unknown":  # lpstat's words for a stopped printer without a message
                    message = ""
        elif line.startswith(f"{name} not accepting requests"):
            accepting, in_job = False, False
        elif line.strip().startswith("Alerts:") and not in_job:
            reasons = tuple(r for r in line.split(":", 1)[1].split() if r != "none")
        elif (job := _JOB_LINE.match(line)) and job.group(1) == name:
            queued += 1
            in_job = queued == 1
        elif in_job and line.strip().startswith("Status:") and not job_problem:
            job_problem = line.split(":", 1)[1].strip()
    if state in (IDLE, PRINTING) and not accepting:
        state = REJECTING
    return PrinterStatus(name, state, reasons, message, queued, job_problem)


def printer_status(name: str, *, timeout: float = LPSTAT_TIMEOUT_SECONDS) -> PrinterStatus:
    """Ask CUPS how the queue NAME is doing. Never raises: trouble is a status."""
    if not valid_printer_name(name):
        return PrinterStatus(name, NOT_FOUND, detail="not a valid CUPS queue name")
    if shutil.which("lpstat") is None:
        return PrinterStatus(name, UNKNOWN, detail="the `lpstat` command (CUPS client) is not installed")
    try:
        done = _lpstat(["-l", "-p", name, "-a", name, "-o", name], timeout)
        if done.returncode == 0:
            return parse_lpstat(name, done.stdout)
        said = _first_line(done.stderr) or _first_line(done.stdout)
        # lpstat says "Invalid destination" both for a missing queue and an unreachable server.
        running = _lpstat(["-r"], timeout)
    except subprocess.TimeoutExpired:
        return PrinterStatus(name, UNKNOWN, detail=f"CUPS did not answer within {timeout:g} s")
    except OSError as exc:
        return PrinterStatus(name, UNKNOWN, detail=f"cannot run lpstat: {exc.strerror or exc}")
    if "scheduler is running" in running.stdout:
        return PrinterStatus(name, NOT_FOUND, detail=said)
    return PrinterStatus(name, NO_SERVER, detail=_first_line(running.stdout) or said)


class StateCheck:
    """`printer_status(name)`, asked now in a thread of its own and read when the job is about to
    go: CUPS answers while the badge is recorded and its PDF rendered, instead of after."""

    def __init__(self, name: str, *, timeout: float = LPSTAT_TIMEOUT_SECONDS) -> None:
        self.name = name
        self._status: PrinterStatus | None = None
        self._thread = threading.Thread(target=self._ask, args=(timeout,), name="lpstat", daemon=True)
        self._thread.start()

    def _ask(self, timeout: float) -> None:
        try:
            self._status = printer_status(self.name, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - never raises, as printer_status itself
            self._status = PrinterStatus(self.name, UNKNOWN, detail=f"{type(exc).__name__}: {exc}")

    def result(self) -> PrinterStatus:
        self._thread.join()
        assert self._status is not None
        return self._status


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


def deliver(
    path: Path,
    printer: str | None,
    *,
    options: Sequence[str] = (),
    timeout: float = LP_TIMEOUT_SECONDS,
    check_state: bool = True,
    state: StateCheck | None = None,
) -> DeliveryResult:
    """Send `path` to `printer` with lp, once CUPS says the printer can print it (`state`: that
    question already asked, for this printer)."""
    path = Path(path)
    if not printer:
        return DeliveryResult(
            False, f"Badge PDF saved to {path} (no printer configured; set one with `regdesk printer set NAME`)"
        )
    if not valid_printer_name(printer):
        return DeliveryResult(
            False,
            f"Printer name {printer!r} is not a valid CUPS queue name; badge PDF saved to {path}",
            problem="not a valid CUPS queue name",
        )
    if shutil.which("lp") is None:
        return DeliveryResult(
            False,
            f"Cannot print: the `lp` command (CUPS client) is not installed. Badge PDF saved to {path}",
            problem="the `lp` command (CUPS client) is not installed",
        )
    if check_state:
        if state is not None and state.name == printer:
            status = state.result()
        else:
            status = printer_status(printer, timeout=min(timeout, LPSTAT_TIMEOUT_SECONDS))
        problem = "" if status.state == NOT_FOUND else status.problem()  # lp says "does not exist" itself
        if problem:
            return DeliveryResult(
                False,
                f"Printer {printer} is {problem}: the badge was not sent. "
                f"Badge PDF saved to {path}; fix the printer, then reprint.",
                problem=problem,
            )
    try:
        done = subprocess.run(
            lp_command(path, printer, options),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return DeliveryResult(
            False,
            f"Printer {printer} did not answer within {timeout:g} s; "
            f"badge PDF saved to {path}. Check the printer, then reprint.",
            problem=f"did not answer within {timeout:g} s",
        )
    except OSError as exc:
        return DeliveryResult(
            False,
            f"Cannot run lp for printer {printer}: {exc.strerror or exc}; badge PDF saved to {path}",
            problem=f"cannot run lp: {exc.strerror or exc}",
        )
    if done.returncode != 0:
        said = _first_line(done.stderr) or _first_line(done.stdout)
        # "lp: Error - The printer or class does not exist." -> "The printer or class does not exist"
        said = re.sub(r"^lp:\s*(Error\s*-\s*)?", "", said).rstrip(".")
        reason = said or f"lp exited with status {done.returncode}"
        return DeliveryResult(
            False,
            f"Printer {printer} refused the badge: {reason}. Badge PDF saved to {path}; fix the printer, then reprint.",
            problem=reason,
        )
    match = re.search(r"request id is (\S+)", done.stdout)
    request = match.group(1) if match else ""
    suffix = f" (job {request})" if request else ""
    return DeliveryResult(True, f"Badge sent to printer {printer}{suffix}", request)
