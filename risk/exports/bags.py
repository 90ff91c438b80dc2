"""Signed BagIt packs (RFC 8493): the form every evidence and supervisor pack takes.

A pack is laid out in a scratch folder (payload files under their names), bagged by the `bagit` library
(payload moved under data/, manifest-sha256/-sha512, tag manifests, bag-info), then Vigil signs
tagmanifest-sha256.txt with its Ed25519 key (a detached OpenSSH signature beside it) and the folder is zipped.
An auditor checks it outside Vigil in a chain: the signature over the tag manifest, the tag manifest over the
manifests and bag-info, the manifests over every payload file (docs/auditors-guide.md).
"""

import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

import bagit
from django.conf import settings
from django.utils import timezone

from governance.core import cells
from risk.exports import signing

SIGNED_TAG_MANIFEST = "tagmanifest-sha256.txt"
SIGNATURE_FILE = f"{SIGNED_TAG_MANIFEST}.sig"


class MissingFile(Exception):
    """A file the pack must carry is not on storage, or is not the file that was recorded."""


class Pack:
    """A pack being laid out: records as JSON and CSV, files copied in (and checked), a PDF."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True)

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def add_bytes(self, name: str, data: bytes) -> None:
        self._path(name).write_bytes(data)

    def add_json(self, name: str, value) -> None:
        # Indented, keys as recorded: an auditor reads it, and json.load gives back exactly the signed values.
        self._path(f"records/{name}.json").write_text(json.dumps(value, indent=2, default=str) + "\n")

    def add_table(self, name: str, rows: list[dict], columns: list[str]) -> None:
        """The same records as JSON and as CSV (nested values as JSON text in their cell)."""
        self.add_json(name, rows)
        with self._path(f"records/{name}.csv").open("w", newline="") as out:
            writer = cells.writer(out)  # text a spreadsheet could run as a formula is neutralised
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(column)) for column in columns])

    def add_stored_file(self, name: str, opener, sha256: str, what: str) -> None:
        """Copy a file from storage, refusing a missing file or one whose SHA-256 is not the recorded one."""
        digest = hashlib.sha256()
        try:
            source = opener()
        except (FileNotFoundError, OSError) as error:
            raise MissingFile(f"{what} is missing from storage ({error.__class__.__name__}).") from error
        with source, self._path(name).open("wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise MissingFile(f"{what} on storage is not the file recorded (its SHA-256 differs).")


def _cell(value):
    """A CSV cell: nested values as JSON text; numbers stay numbers (cells.writer neutralises text only)."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def build(name: str, lay_out, bag_info: dict, out) -> None:
    """Lay out a pack with `lay_out(pack)`, bag it, sign it and write it as a ZIP (one folder `name`) to `out`."""
    with tempfile.TemporaryDirectory(prefix="vigil-pack-") as scratch:
        root = Path(scratch) / name
        lay_out(Pack(root))
        key = signing.current()
        info = {
            "Source-Organization": settings.VIGIL_INSTANCE_NAME,
            "Bag-Software-Agent": "Vigil (bagit-python)",
            "Vigil-Signing-Key-Fingerprint": key.fingerprint,
            "Vigil-Signature": f"{SIGNATURE_FILE} (ssh-keygen -Y verify -n {signing.NAMESPACE} -I {signing.IDENTITY})",
        } | bag_info
        bagit.make_bag(str(root), bag_info=info, checksums=["sha256", "sha512"])
        signed = (root / SIGNED_TAG_MANIFEST).read_bytes()
        (root / SIGNATURE_FILE).write_text(signing.sign(signed))
        _zip(root, name, out)


def _zip(root: Path, name: str, out) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            archive.write(path, f"{name}/{path.relative_to(root).as_posix()}")


def stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S")


def hash_file(raw) -> tuple[str, int]:
    """SHA-256 and size of a written binary file (read from the start)."""
    raw.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: raw.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def extract(archive: bytes | io.BytesIO | str, into: Path) -> Path:
    """Unzip a pack (tests and the bench); answers the bag's folder."""
    with zipfile.ZipFile(archive if not isinstance(archive, bytes) else io.BytesIO(archive)) as zipped:
        zipped.extractall(into)
        top = {n.split("/", 1)[0] for n in zipped.namelist()}
    (folder,) = top
    return into / folder
