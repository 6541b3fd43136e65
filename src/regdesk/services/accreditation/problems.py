"""What an accreditation import reports: each problem (file, line, field), the refusal, and the summary of
what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from regdesk.errors import RegdeskError


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int  # 0 = the file as a whole
    field: str  # "" = not about one field
    message: str

    def __str__(self) -> str:
        if self.line <= 0 and not self.field:
            return f"{self.file}: {self.message}"
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where}: field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"


class AccreditationImportError(RegdeskError):
    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        head = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported"
        super().__init__(head + "\n" + "\n".join(str(p) for p in problems))


@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class ImportReport:
    source: str
    total_rows: int
    added: list[str]
    changed: dict[str, list[FieldChange]]
    withdrawn: list[str]  # accredited before, withdrawn now (includes `dropped`)
    reinstated: list[str]  # withdrawn before, accredited now
    unchanged: int
    event_id: str | None  # None for a dry run
    notes: list[str] = field(default_factory=list)  # non-blocking remarks (ignored columns, quotas...)
    dropped: list[str] = field(default_factory=list)  # in the mirror but missing from this export
    file_format: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.total_rows,
            "added": len(self.added),
            "changed": len(self.changed),
            "withdrawn": len(self.withdrawn),
            "reinstated": len(self.reinstated),
            "unchanged": self.unchanged,
            "dropped": len(self.dropped),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.file_format,
            "event_id": self.event_id,
            "counts": self.counts,
            "added": self.added,
            "withdrawn": self.withdrawn,
            "reinstated": self.reinstated,
            "dropped": self.dropped,
            "changed": {
                aid: [{"field": c.field, "old": c.old, "new": c.new} for c in changes]
                for aid, changes in self.changed.items()
            },
            "notes": self.notes,
        }


class FileRefused(Exception):
    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems


def refuse(file: str, message: str, line: int = 0, field_name: str = "") -> FileRefused:
    return FileRefused([ImportProblem(file, line, field_name, message)])
