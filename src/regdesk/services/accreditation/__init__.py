"""Importing the UN accreditation export into the local mirror.

The export is a CSV (UTF-8, with or without BOM, comma / semicolon / tab separated; UTF-16 with a
byte-order mark is decoded too, as Excel's "Unicode text" produces it) or an XLSX workbook (first
sheet). The format is decided from the file's content, never from its name.

All or nothing: every row is validated first and every problem is reported (file, line, field);
one bad row means nothing is imported. A valid file becomes ONE `accreditation_imported` event
carrying only the rows that differ from the mirror; the projection applies them. Participants
missing from a newer export are withdrawn. Badges, scans and other events are never touched.

Decisions (documented for the desk supervisor):
- Required columns: accreditation_id, family_name, given_names, category, delegation,
  delegation_role, status. Optional: title, family_name_latin, given_names_latin,
  confirmation_code. Unknown extra columns are ignored and named in the report's notes.
- given_names may be empty (people with a single name); family_name may not.
- A name in a non-Latin script needs its Latin rendering in the *_latin column (badges and the
  international staff need it); a Latin-script name without one gets itself as rendering.
- A cell beginning with = + - @ in a text field is refused: it is a spreadsheet formula (or a
  formula-injection attempt), never a name.
- An export that would silently withdraw a large part of the list (missing rows) is refused
  unless `allow_mass_withdrawal=True`: a cut-off file must not withdraw half the meeting.

The package, one job per module: read.py (CSV/XLSX into a table of text), validate.py (the field rules;
field definitions in domain/payloads.py), importing.py (the use case: diff against the mirror, record one
event; its queries in store/queries/accreditation.py), problems.py (what the import reports).
"""

from regdesk.services.accreditation.importing import MASS_WITHDRAWAL_MIN, MASS_WITHDRAWAL_SHARE, import_file
from regdesk.services.accreditation.problems import (
    AccreditationImportError,
    FieldChange,
    ImportProblem,
    ImportReport,
)
from regdesk.services.accreditation.read import MAX_EXPORT_BYTES
from regdesk.services.accreditation.validate import (
    DEFAULT_MAX_LENGTH,
    FORMULA_STARTS,
    KNOWN_COLUMNS,
    MAX_LENGTH,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ROLES,
    STATUSES,
    TEXT_FIELDS,
)

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "FORMULA_STARTS",
    "KNOWN_COLUMNS",
    "MASS_WITHDRAWAL_MIN",
    "MASS_WITHDRAWAL_SHARE",
    "MAX_EXPORT_BYTES",
    "MAX_LENGTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ROLES",
    "STATUSES",
    "TEXT_FIELDS",
    "AccreditationImportError",
    "FieldChange",
    "ImportProblem",
    "ImportReport",
    "import_file",
]
