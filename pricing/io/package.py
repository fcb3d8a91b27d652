"""Which part of a workbook is which: the very part the workbook reader (calamine) will read
for a sheet or its shared strings, found as the reader finds it, so that the part checked
(:mod:`pricing.io.sheet_scan`) is the part read.

It stands apart from the zip directory's checks (:mod:`pricing.io.bounded`) and the sheet scan
because resolving a package (its relationships, names that differ only in case or slashes, two
sheets of one name) is a concern of its own: each ambiguity is refused, and the parts read
whole to resolve them are bounded and read as a stream.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field

from pricing.errors import InputError
from pricing.io.bounded import megabytes
from pricing.limits import XLSX_DEPTH, XLSX_PART

_RELATIONSHIPS = "relationships"
_NOT_CHECKED = "; open it in Excel or LibreOffice and save it again as .xlsx; nothing was stored"


def part_key(name: str) -> str:
    """A part's name as zip readers match it: the workbook reader (calamine) takes names
    case-insensitively and ``\\`` for ``/``; ``./`` and ``..`` resolved."""
    return posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/").casefold()


@dataclass
class Package:
    """A workbook's parts, to find the very part the workbook reader will read for a sheet or
    its shared strings, and check that one: what is read is what was checked.

    A workbook can name its parts in ways readers resolve differently: two parts whose names
    differ only in case or slashes, two sheets of one name, two relationships of one id, two
    workbooks. Each such ambiguity is refused (no program writes them); a part that cannot be
    found is refused too, rather than left to the reader unchecked. The parts read whole (the
    package's and the workbook's relationships, the workbook part, the styles) are bounded by
    :data:`XLSX_PART` and :data:`XLSX_DEPTH`, and read here as a stream (no tree is built).
    """

    archive: zipfile.ZipFile
    source: str
    parts: dict[str, zipfile.ZipInfo]
    workbook: zipfile.ZipInfo | None = None
    _relations: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, archive: zipfile.ZipFile, source: str) -> Package:
        """The package of an open archive, its workbook part found and its whole-read parts
        checked."""
        parts: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            key = part_key(info.filename)
            seen = parts.get(key)
            if seen is not None and seen.filename != info.filename:
                raise InputError(
                    f"{source}: holds two parts that readers take for one ({seen.filename!r} "
                    f"and {info.filename!r}){_NOT_CHECKED}"
                )
            parts[key] = info  # the same name twice: the last, as zipfile and calamine take it
        package = cls(archive, source, parts)
        package.workbook = package._workbook()
        package._relations = package._relationships_of(package.workbook)
        for style in [*package._targets("/styles"), package.find("xl/styles.xml")]:
            if style is not None:
                XLSX_PART.check(
                    style.file_size,
                    f"{source}, part {style.filename!r}",
                    megabytes(style.file_size),
                )
        return package

    def find(self, name: str) -> zipfile.ZipInfo | None:
        return self.parts.get(part_key(name))

    def sheet(self, name: str) -> zipfile.ZipInfo:
        """The part holding the sheet ``name``, as the workbook's relationships name it."""
        assert self.workbook is not None
        sheets = self._elements(self.workbook, "sheet")
        names = [element.get("name", "").casefold() for element in sheets]
        if len(set(names)) != len(names):
            raise InputError(f"{self.source}: names two sheets alike{_NOT_CHECKED}")
        rel_id = next((e.get(":id") for e in sheets if e.get("name") == name), None)
        target = next((r.get("Target") for r in self._relations if r.get("Id") == rel_id), None)
        part = self._resolve(self.workbook, target) if rel_id and target else None
        if part is None:
            raise InputError(
                f"{self.source}: the part of sheet {name!r} cannot be found{_NOT_CHECKED}"
            )
        return part

    def shared_strings(self) -> list[zipfile.ZipInfo]:
        """Every part that may be read as the shared strings: the workbook's relationship to
        them, and any part named like them (``xl/sharedStrings.xml``, in any case or folder)."""
        named = [info for key, info in self.parts.items() if key.endswith("sharedstrings.xml")]
        related = self._targets("/sharedstrings")
        return list({info.filename: info for info in [*named, *related]}.values())

    def _workbook(self) -> zipfile.ZipInfo:
        rels = self.find("_rels/.rels")
        targets = [] if rels is None else [
            relation.get("Target", "") for relation in self._elements(rels, "Relationship")
            if relation.get("Type", "").casefold().endswith("/officedocument")
        ]  # fmt: skip
        if len(targets) > 1:
            raise InputError(f"{self.source}: names {len(targets)} workbooks in it{_NOT_CHECKED}")
        part = self.find(targets[0] if targets else "xl/workbook.xml")  # from the root
        if part is not None:  # read whole by the reader as soon as it opens the workbook
            where = f"{self.source}, part {part.filename!r}"
            XLSX_PART.check(part.file_size, where, megabytes(part.file_size))
        if part is None:
            raise InputError(
                f"{self.source}: holds no workbook part: it is not an xlsx workbook (an "
                f"OpenDocument .ods or another package?){_NOT_CHECKED}"
            )
        return part

    def _relationships_of(self, part: zipfile.ZipInfo) -> list[dict[str, str]]:
        folder, base = posixpath.split(part.filename.replace("\\", "/"))
        rels = self.find(posixpath.join(folder, "_rels", base + ".rels"))
        relations = [] if rels is None else self._elements(rels, "Relationship")
        ids = [relation.get("Id") for relation in relations]
        if len(set(ids)) != len(ids):
            raise InputError(f"{self.source}: gives two relationships one id{_NOT_CHECKED}")
        return relations

    def _targets(self, kind: str) -> list[zipfile.ZipInfo]:
        assert self.workbook is not None
        found = [
            self._resolve(self.workbook, relation.get("Target"))
            for relation in self._relations
            if relation.get("Type", "").casefold().endswith(kind)
        ]
        return [part for part in found if part is not None]

    def _resolve(self, source: zipfile.ZipInfo, target: str | None) -> zipfile.ZipInfo | None:
        """A relationship's target, relative to the part that names it (or absolute)."""
        if not target:
            return None
        if target.startswith("/"):
            return self.find(target)
        folder = posixpath.dirname(source.filename.replace("\\", "/"))
        return self.find(posixpath.join(folder, target))

    def _elements(self, part: zipfile.ZipInfo, wanted: str) -> list[dict[str, str]]:
        """The attributes of each element ``wanted`` (its local name, in any namespace) of a
        part read whole, by local name (a namespaced one as ``:id``); the part is bounded by
        :data:`XLSX_PART` and its nesting by :data:`XLSX_DEPTH`, and read as a stream."""
        from xml.parsers import expat

        where = f"{self.source}, part {part.filename!r}"
        XLSX_PART.check(part.file_size, where, megabytes(part.file_size))
        found: list[dict[str, str]] = []
        depth = 0

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal depth
            depth += 1
            if depth > XLSX_DEPTH.value:
                raise InputError(XLSX_DEPTH.message(where))
            if name.rpartition(" ")[2] == wanted:
                found.append({
                    (":" if " " in key else "") + key.rpartition(" ")[2]: value
                    for key, value in attributes.items()
                })  # fmt: skip

        def end(_name: str) -> None:
            nonlocal depth
            depth -= 1

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            with self.archive.open(part) as stream:
                parser.ParseFile(stream)
        except expat.ExpatError as exc:
            raise InputError(f"{where}: is not readable XML ({exc}){_NOT_CHECKED}") from None
        except (NotImplementedError, RuntimeError) as exc:
            raise unreadable_part(self.source, part, exc) from None
        return found


def unreadable_part(source: str, part: zipfile.ZipInfo, exc: Exception) -> InputError:
    """A part zipfile cannot open: encrypted, or compressed in a way Excel never writes (the
    workbook reader might read it, unchecked: refused)."""
    why = "it is encrypted" if part.flag_bits & 1 else f"compression method {part.compress_type}"
    return InputError(
        f"{source}, part {part.filename!r}: cannot be read ({why}: {type(exc).__name__})"
        f"{_NOT_CHECKED}"
    )
