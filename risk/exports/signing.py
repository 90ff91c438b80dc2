"""The key Vigil signs exports with: an Ed25519 private key read from VIGIL_SIGNING_KEY_FILE (OpenSSH or PEM,
unencrypted; mount it from the firm's secret store). Without that setting a key is made once in the var folder,
which suits a demo and never production. Rotating is pointing the setting at a new file: each public key is
recorded when first used, so packs signed before a rotation stay verifiable."""

import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from risk.exports import sshsig
from risk.exports.models import SigningKey

NAMESPACE = "vigil-export@vigil"  # the -n of `ssh-keygen -Y verify`: a signature for nothing else verifies here
IDENTITY = "vigil"


def _key_path() -> tuple[Path, bool]:
    configured = getattr(settings, "VIGIL_SIGNING_KEY_FILE", "")
    return (Path(configured), True) if configured else (Path(settings.VAR_DIR) / "signing-key.pem", False)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Ed25519PrivateKey:
    data = Path(path).read_bytes()
    loader = (
        serialization.load_ssh_private_key
        if data.startswith(b"-----BEGIN OPENSSH")
        else serialization.load_pem_private_key
    )
    key = loader(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path} is not an Ed25519 private key.")
    return key


def private_key() -> Ed25519PrivateKey:
    path, configured = _key_path()
    if not path.exists():
        if configured:
            raise ImproperlyConfigured(f"VIGIL_SIGNING_KEY_FILE={path} does not exist.")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Written whole under a temporary name, then linked into place: another process making the key at the
        # same moment (a second web worker, a parallel test worker) either wins or reads the finished file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return _load(str(path), path.stat().st_mtime)


def current() -> SigningKey:
    """The public key in use, recorded the first time it signs."""
    public = private_key().public_key()
    record, _ = SigningKey.objects.get_or_create(
        fingerprint=sshsig.fingerprint(public),
        defaults={"public_key": sshsig.openssh_public_key(public, f"{IDENTITY}@{settings.VIGIL_INSTANCE_NAME}")},
    )
    return record


def sign(data: bytes) -> str:
    """A detached signature over `data` that `ssh-keygen -Y verify -n vigil-export@vigil` checks."""
    current()
    return sshsig.sign(private_key(), data, NAMESPACE)


def allowed_signers_line(record: SigningKey) -> str:
    """The line an auditor puts in an allowed_signers file to verify with `-I vigil`."""
    key_type, blob = record.public_key.split()[:2]
    return f'{IDENTITY} namespaces="{NAMESPACE}" {key_type} {blob}'
