"""Shared by the pack tests: a version with every kind of signed record, asking for a pack and unzipping it,
and every check of the auditor's guide run with the standard tools (sha256sum, bagit.py, ssh-keygen, the script)."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings

from governance.core import jobs
from risk.exports import bags, signing
from risk.exports.models import Export

URL = "/api/v1/exports/"
ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "docs" / "verify_signature_hashes.py"
BAGIT = Path(sys.executable).parent / "bagit.py"


def request_pack(api, user, **body) -> Export:
    answer = api.as_user(user).post(URL, body, format="json")
    assert answer.status_code == 202, answer.json()
    export = Export.objects.get(pk=answer.json()["id"])
    assert jobs.execute(export.job_id) == "succeeded", Export.objects.get(pk=export.pk).job.error
    return export


def download_pack(api, user, export, tmp_path) -> Path:
    download = api.as_user(user).get(f"{URL}{export.pk}/download/")
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    assert download["X-Vigil-SHA256"] == Export.objects.get(pk=export.pk).sha256
    return bags.extract(content, tmp_path)


def make_pack(api, user, version, tmp_path) -> Path:
    export = request_pack(api, user, kind="evidence_pack", model=version.model.key, version=version.version)
    return download_pack(api, user, export, tmp_path)


def run(*command, cwd=None, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120)


def allowed_signers(tmp_path) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(signing.allowed_signers_line(signing.current()) + "\n")
    return path


def checks(bag: Path, signers: Path) -> dict[str, subprocess.CompletedProcess]:
    """Every verification of the auditor's guide, by name."""
    tag_manifest = (bag / "tagmanifest-sha256.txt").read_text()
    return {
        "ssh-keygen": run(
            "ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", signing.IDENTITY, "-n", signing.NAMESPACE,
            "-s", str(bag / "tagmanifest-sha256.txt.sig"), stdin=tag_manifest,
        ),
        "tagmanifest": run("sha256sum", "--quiet", "-c", "tagmanifest-sha256.txt", cwd=bag),
        "manifest": run("sha256sum", "--quiet", "-c", "manifest-sha256.txt", cwd=bag),
        "manifest-sha512": run("sha512sum", "--quiet", "-c", "manifest-sha512.txt", cwd=bag),
        "bagit": run(str(BAGIT), "--validate", str(bag)),
        "signatures": run(sys.executable, str(SCRIPT), str(bag)),
    }  # fmt: skip


def flip_one_byte(path: Path, at: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
