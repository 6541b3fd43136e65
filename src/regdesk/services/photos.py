"""Participant photos: imported with the accreditation list, stored small, read after the verdict.

`regdesk import EXPORT.csv --photos DIR|PHOTOS.zip` (or `--photos` alone, for the photos only).
Each file is named by its participant's accreditation id (`A00042.jpg`, `.jpeg`, `.png`,
`.webp`, any case). Every file is checked by Pillow, never trusted by its name:

- it must decode as a JPEG, PNG or WebP image (only those three decoders are tried), whole
  (a truncated file is refused), of at most MAX_SOURCE_BYTES and between MIN_SOURCE_PIXELS and
  MAX_SOURCE_PIXELS pixels (judged from the header, before anything is decoded: no
  decompression bomb is ever inflated);
- its EXIF orientation is applied, then it is cropped to 4:5 around the centre, reduced to
  PHOTO_WIDTH x PHOTO_HEIGHT and encoded again as a JPEG of quality PHOTO_QUALITY; only pixels
  are kept (no EXIF, GPS, camera, ICC or comments survive the new encoding).

All or nothing, like the list import: every file is checked first and every problem is listed
(file name, reason); one bad file means no photo (and, with a list, no list row) is imported.
A photo whose source file is byte-for-byte the one imported before is left alone; a changed
one is replaced. A photo missing from a later import stays as it was.

A ZIP is read in memory, entry by entry, never unpacked to disk: entries with absolute paths or
`..` are refused (the whole archive), as are archives with too many entries, encrypted entries,
or entries that would inflate beyond their limit (judged from the directory, then enforced
while reading).

Each stored photo becomes one `photo_imported` event (domain/photos.py says what every station
checks before accepting one), so photos reach every station by sync like everything else.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import posixpath
import tempfile
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain import photos as rules
from regdesk.domain.authority import Act
from regdesk.domain.events import EventKind
from regdesk.errors import RegdeskError
from regdesk.services import operators
from regdesk.services.station import Station
from regdesk.store.queries import photos as photo_queries

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
FORMATS = ("JPEG", "PNG", "WEBP")  # the only decoders Pillow may try
MAX_SOURCE_BYTES = 15 << 20  # a passport photo from a camera is a few MB
MAX_SOURCE_PIXELS = 50_000_000  # 50 megapixels: any camera; a bomb declares far more
MAX_SOURCE_SIDE = 12_000
MIN_SOURCE_WIDTH, MIN_SOURCE_HEIGHT = 80, 100  # below this a face cannot be recognised
MAX_ZIP_ENTRIES = 250_000
MAX_ZIP_TOTAL = 20 << 30  # declared inflated bytes of all entries
MAX_ZIP_RATIO = 200  # images barely compress in a ZIP; a bomb inflates thousands of times
IGNORED_NAMES = ("thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class PhotoProblem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class PhotoImportError(RegdeskError):
    def __init__(self, problems: list[PhotoProblem], *, list_too: bool = False) -> None:
        self.problems = problems
        nothing = "nothing was imported (neither the list nor any photo)" if list_too else "no photo was imported"
        head = f"{len(problems)} photo problem{'s' if len(problems) != 1 else ''}; {nothing}"
        super().__init__(head + "\n" + "\n".join(str(p) for p in problems))


@dataclass
class PhotoReport:
    source: str
    files: int = 0
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: int = 0
    stored_bytes: int = 0  # JPEG bytes of the photos added or replaced
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "files": self.files,
            "added": len(self.added),
            "replaced": len(self.replaced),
            "unchanged": self.unchanged,
            "stored_bytes": self.stored_bytes,
        }

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "counts": self.counts,
            "added": self.added,
            "replaced": self.replaced,
            "notes": self.notes,
        }


# --- one image -----------------------------------------------------------------------------------


class BadImage(Exception):
    pass


def normalise(raw: bytes) -> tuple[bytes, int, int]:
    """The stored JPEG made from one source file: (bytes, width, height). BadImage says why not."""
    if len(raw) > MAX_SOURCE_BYTES:
        raise BadImage(f"is {len(raw) / (1 << 20):.1f} MB; a photo may be at most {MAX_SOURCE_BYTES >> 20} MB")
    if not raw:
        raise BadImage("is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw), formats=FORMATS)
        except UnidentifiedImageError:
            raise BadImage("is not a JPEG, PNG or WebP image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise BadImage(
                f"declares far too many pixels (a decompression bomb?); a photo may have at most "
                f"{MAX_SOURCE_PIXELS // 1_000_000} megapixels"
            ) from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise BadImage(f"cannot be read as an image ({exc})") from None
        with image:
            width, height = image.size
            if width > MAX_SOURCE_SIDE or height > MAX_SOURCE_SIDE or width * height > MAX_SOURCE_PIXELS:
                raise BadImage(
                    f"is {width} x {height} pixels; a photo may have at most "
                    f"{MAX_SOURCE_PIXELS // 1_000_000} megapixels and {MAX_SOURCE_SIDE} pixels a side"
                )
            if width < MIN_SOURCE_WIDTH or height < MIN_SOURCE_HEIGHT:
                raise BadImage(
                    f"is only {width} x {height} pixels; a photo needs at least "
                    f"{MIN_SOURCE_WIDTH} x {MIN_SOURCE_HEIGHT}"
                )
            if getattr(image, "n_frames", 1) > 1:
                raise BadImage("is an animation, not a photo")
            try:
                image.draft("RGB", (rules.PHOTO_WIDTH, rules.PHOTO_HEIGHT))  # JPEG: decode at 1/2..1/8 size
                image.load()
                upright = ImageOps.exif_transpose(image)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
                raise BadImage(f"is damaged or cut off ({exc})") from None
    if upright.mode not in ("RGB", "L"):
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, "white")
        upright.paste(rgba, mask=rgba.getchannel("A"))
    elif upright.mode == "L":
        upright = upright.convert("RGB")
    small = ImageOps.fit(upright, (rules.PHOTO_WIDTH, rules.PHOTO_HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A new encoding of the pixels alone: no exif=, icc_profile= or comment= is passed on.
    small.save(out, "JPEG", quality=rules.PHOTO_QUALITY, optimize=True)
    return out.getvalue(), small.width, small.height


# --- where the files come from -------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    name: str  # as shown in problems
    participant_id: str
    read: object  # () -> bytes


def _participant_of(name: str) -> str | None:
    """The accreditation id a file name carries (None: not a photo file by its name)."""
    base = posixpath.basename(name)
    stem, ext = os.path.splitext(base)
    return stem if ext.lower() in EXTENSIONS and stem else None


def _skippable(name: str) -> bool:
    base = posixpath.basename(name)
    return (
        not base
        or base.startswith(".")
        or base.lower() in IGNORED_NAMES
        or name.startswith("__MACOSX/")
        or "/__MACOSX/" in name
    )


def _folder_entries(folder: Path, problems: list[PhotoProblem], notes: list[str]) -> list[_Entry]:
    entries: list[_Entry] = []
    skipped = 0
    for path in sorted(folder.iterdir()):
        if _skippable(path.name):
            continue
        if path.is_symlink() or not path.is_file():
            skipped += 1
            continue
        pid = _participant_of(path.name)
        if pid is None:
            skipped += 1
            continue
        entries.append(_Entry(path.name, pid, lambda p=path: _read_file(p)))
    if skipped:
        notes.append(
            f"{skipped} file{'s' if skipped != 1 else ''} or folder{'s' if skipped != 1 else ''} in "
            f"{folder.name} not named like a photo (ID.jpg, .jpeg, .png, .webp) were left out"
        )
    return entries


def _read_file(path: Path) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(MAX_SOURCE_BYTES + 1)
    return data


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return True
    return any(part == ".." for part in name.split("/"))


def _zip_entries(archive: zipfile.ZipFile, label: str, problems: list[PhotoProblem], notes: list[str]) -> list[_Entry]:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        problems.append(PhotoProblem(label, f"holds {len(infos):,} entries; at most {MAX_ZIP_ENTRIES:,} are read"))
        return []
    unsafe = [i.filename for i in infos if _unsafe_name(i.filename)]
    if unsafe:
        problems += [
            PhotoProblem(
                f"{label}:{n[:200]}",
                "a path leaving the archive's folder (absolute or with ..); the archive is refused whole",
            )
            for n in unsafe[:20]
        ]
        return []
    total = sum(i.file_size for i in infos)
    if total > MAX_ZIP_TOTAL:
        problems.append(PhotoProblem(label, f"would inflate to {total / (1 << 30):,.1f} GB"))
        return []
    entries: list[_Entry] = []
    skipped = 0
    for info in infos:
        if info.is_dir() or _skippable(info.filename):
            continue
        pid = _participant_of(info.filename)
        if pid is None:
            skipped += 1
            continue
        where = f"{label}:{info.filename}"
        if info.flag_bits & 0x1:
            problems.append(PhotoProblem(where, "is encrypted"))
            continue
        if info.file_size > MAX_SOURCE_BYTES:
            problems.append(
                PhotoProblem(
                    where, f"is {info.file_size / (1 << 20):.1f} MB; a photo may be at most {MAX_SOURCE_BYTES >> 20} MB"
                )
            )
            continue
        if info.file_size > (1 << 20) and info.file_size > MAX_ZIP_RATIO * max(1, info.compress_size):
            problems.append(
                PhotoProblem(
                    where, f"would inflate {info.file_size // max(1, info.compress_size):,} times (a zip bomb?)"
                )
            )
            continue
        entries.append(_Entry(where, pid, lambda i=info: _read_zip_entry(archive, i)))
    if skipped:
        notes.append(
            f"{skipped} entr{'ies' if skipped != 1 else 'y'} in {label} not named like a photo "
            "(ID.jpg, .jpeg, .png, .webp) were left out"
        )
    return entries


def _read_zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as fh:
        data = fh.read(info.file_size + 1)  # never more than declared (+1 to notice a lie)
    if len(data) != info.file_size:
        raise BadImage("inflates to more bytes than the archive declares")
    return data


# --- the import ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    participant_id: str
    name: str
    source_sha256: str
    offset: int = 0  # in the spool
    length: int = 0
    width: int = 0
    height: int = 0
    sha256: str = ""
    replaces: bool = False


def _stored_hashes(station: Station) -> dict[str, str]:
    with station.sessions() as session:
        return photo_queries.source_hashes(session)


def _known_ids(session: Session) -> set[str]:
    return photo_queries.participant_ids(session)


class _Source:
    """A folder or a ZIP archive of photos, opened for one import."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive: zipfile.ZipFile | None = None

    def entries(self, problems: list[PhotoProblem], notes: list[str]) -> list[_Entry]:
        label = self.path.name
        if self.path.is_dir():
            return _folder_entries(self.path, problems, notes)
        if not self.path.exists():
            problems.append(PhotoProblem(str(self.path), "no such file or folder"))
            return []
        try:
            self.archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            problems.append(PhotoProblem(str(self.path), "is neither a folder nor a ZIP archive of photos"))
            return []
        return _zip_entries(self.archive, label, problems, notes)

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def prepare(station: Station, source: Path) -> tuple[PhotoReport, list[_Prepared], IO[bytes]]:
    """Check every file and make every new or changed photo (spooled to an unnamed temporary
    file, not held in memory). Raises PhotoImportError with every problem."""
    src = _Source(Path(source))
    report = PhotoReport(source=Path(source).name)
    problems: list[PhotoProblem] = []
    spool = tempfile.TemporaryFile(prefix="regdesk-photos-")  # unnamed: gone when closed, even on a crash
    try:
        entries = src.entries(problems, report.notes)
        seen: dict[str, str] = {}
        for entry in entries:
            first = seen.setdefault(entry.participant_id.casefold(), entry.name)
            if first != entry.name:
                problems.append(
                    PhotoProblem(
                        entry.name,
                        f"a second photo for {entry.participant_id} (the first is {posixpath.basename(first)})",
                    )
                )
        report.files = len(entries)
        if not entries and not problems:
            problems.append(
                PhotoProblem(str(source), "holds no photo named by accreditation id (ID.jpg, .jpeg, .png or .webp)")
            )
        stored = _stored_hashes(station)
        prepared: list[_Prepared] = []

        def work(entry: _Entry) -> tuple[_Entry, str, bytes | None, int, int, str | None]:
            try:
                raw = entry.read()  # type: ignore[operator]
                digest = hashlib.sha256(raw).hexdigest()
                if stored.get(entry.participant_id) == digest:
                    return entry, digest, None, 0, 0, None
                jpeg, w, h = normalise(raw)
                return entry, digest, jpeg, w, h, None
            except BadImage as exc:
                return entry, "", None, 0, 0, str(exc)
            except OSError as exc:
                return entry, "", None, 0, 0, f"cannot be read: {exc.strerror or exc}"
            except zipfile.BadZipFile as exc:
                return entry, "", None, 0, 0, f"is damaged in the archive ({exc})"

        workers = max(1, min(4, os.cpu_count() or 1))
        with ThreadPoolExecutor(workers) as pool:  # Pillow decodes and encodes without the GIL
            for entry, digest, jpeg, w, h, problem in pool.map(work, entries, chunksize=1):
                if problem:
                    problems.append(PhotoProblem(entry.name, problem))
                    continue
                item = _Prepared(entry.participant_id, entry.name, digest, replaces=entry.participant_id in stored)
                if jpeg is None:
                    report.unchanged += 1
                    continue
                item.offset, item.length = spool.tell(), len(jpeg)
                item.width, item.height, item.sha256 = w, h, hashlib.sha256(jpeg).hexdigest()
                spool.write(jpeg)
                prepared.append(item)
    except BaseException:
        spool.close()
        raise
    finally:
        src.close()
    if problems:
        spool.close()
        raise PhotoImportError(problems)
    return report, prepared, spool


def record(
    station: Station,
    session: Session,
    report: PhotoReport,
    prepared: list[_Prepared],
    spool: IO[bytes],
    operator: str,
    *,
    list_too: bool = False,
) -> PhotoReport:
    """Record the prepared photos inside the caller's transaction (after a list import in the same
    transaction, so its participants are known). Raises PhotoImportError: the caller rolls back."""
    known = _known_ids(session)
    unknown = [
        PhotoProblem(p.name, f"no participant {p.participant_id} in the accreditation list")
        for p in prepared
        if p.participant_id not in known
    ]
    if unknown:
        raise PhotoImportError(unknown, list_too=list_too)
    for item in prepared:
        spool.seek(item.offset)
        jpeg = spool.read(item.length)
        station.record(
            session,
            EventKind.PHOTO_IMPORTED,
            ep.PhotoImported(
                item.participant_id,
                base64.b64encode(jpeg).decode("ascii"),
                item.sha256,
                item.source_sha256,
                item.width,
                item.height,
                posixpath.basename(item.name)[:300],
            ),
            operator,
        )
        (report.replaced if item.replaces else report.added).append(item.participant_id)
        report.stored_bytes += item.length
    return report


def import_photos(station: Station, source: Path, *, operator: str) -> PhotoReport:
    """`regdesk import --photos DIR|ZIP` alone: check everything, then record all or nothing."""
    report, prepared, spool = prepare(station, source)
    try:
        with station.transaction() as session:
            record(station, session, report, prepared, spool, operator)
    finally:
        spool.close()
    return report


# --- removal ------------------------------------------------------------------------------------


class PhotoRemovalError(RegdeskError, ValueError):
    """A photo that cannot be removed; the message says why."""


def remove_photo(station: Station, participant_id: str, *, operator: str, reason: str) -> str:
    """Take a participant's photo off (a wrong person's, or one they asked to withdraw): desk
    stations, scan points and badges stop showing it once the removal reaches them. Returns the
    event id. A later import of another photo file for them shows that one."""
    try:
        operators.require_act(station, operator, Act.REMOVE_PHOTO)
    except operators.NotAllowed as exc:
        raise PhotoRemovalError(str(exc)) from None
    if not reason.strip():
        raise PhotoRemovalError("--reason: say why the photo is removed (wrong person, withdrawn...)")
    with station.transaction() as session:
        if not photo_queries.has_photo(session, participant_id):
            raise PhotoRemovalError(f"{participant_id} has no photo to remove")
        source = photo_queries.source_hash(session, participant_id)
        event = station.record(
            session,
            EventKind.PHOTO_REMOVED,
            ep.PhotoRemoved(participant_id, reason.strip()[:400], source_sha256=source),
            operator,
        )
    return event.id


# --- reading ------------------------------------------------------------------------------------


def photo_jpeg(session: Session, participant_id: str) -> bytes | None:
    """The stored JPEG of a participant (checked by every station before it was accepted), or None."""
    encoded = photo_queries.jpeg_base64(session, participant_id)
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded)
    except (ValueError, TypeError):
        return None


def load_photo(station: Station, participant_id: str) -> bytes | None:
    with station.sessions() as session:
        return photo_jpeg(session, participant_id)


def has_photo(session: Session, participant_id: str) -> bool:
    return photo_queries.has_photo(session, participant_id)


def decode(jpeg: bytes) -> Image.Image | None:
    """A stored photo as pixels, never larger than the stored size (the header was checked by the
    merge; this checks again before decoding). None when it cannot be shown."""
    try:
        image = Image.open(io.BytesIO(jpeg), formats=("JPEG",))
        if image.width > rules.PHOTO_WIDTH or image.height > rules.PHOTO_HEIGHT:
            return None
        image.load()
        return image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def import_with_list(
    station: Station,
    export: Path | None,
    photos_source: Path,
    *,
    operator: str,
    dry_run: bool = False,
    allow_mass_withdrawal: bool = False,
) -> tuple[object | None, PhotoReport]:
    """`regdesk import EXPORT --photos DIR|ZIP`: the photos are checked first (nothing is recorded
    if one is bad), then the list and the photos are recorded in ONE transaction: both or neither.
    Without an export, the photos alone (a re-import of photos). Returns (list report or None,
    photo report); raises AccreditationImportError or PhotoImportError."""
    from regdesk.services import accreditation

    report, prepared, spool = prepare(station, photos_source)
    try:
        if export is None:
            if dry_run:
                with station.sessions() as session:
                    unknown = [
                        PhotoProblem(p.name, f"no participant {p.participant_id} in the accreditation list")
                        for p in prepared
                        if p.participant_id not in _known_ids(session)
                    ]
                if unknown:
                    raise PhotoImportError(unknown)
                return None, report
            with station.transaction() as session:
                record(station, session, report, prepared, spool, operator)
            return None, report
        if dry_run:
            return accreditation.import_file(
                station, export, operator=operator, dry_run=True, allow_mass_withdrawal=allow_mass_withdrawal
            ), report

        def with_photos(session: Session) -> None:
            record(station, session, report, prepared, spool, operator, list_too=True)

        listed = accreditation.import_file(
            station, export, operator=operator, allow_mass_withdrawal=allow_mass_withdrawal, then=with_photos
        )
        return listed, report
    finally:
        spool.close()
