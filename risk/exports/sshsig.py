"""Detached signatures that OpenSSH checks (`ssh-keygen -Y verify`): the SSHSIG format (OpenSSH's PROTOCOL.sshsig)
over an Ed25519 key.

Hand-written: the format is a few length-prefixed fields around one Ed25519 signature, and what matters to an
auditor is that the standard tool verifies it with nothing from Vigil; `cryptography` does the signing.
"""

import base64
import hashlib
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAGIC = b"SSHSIG"
VERSION = 1
HASH = "sha512"
KEY_TYPE = b"ssh-ed25519"


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def public_blob(public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(KEY_TYPE) + _string(raw)


def openssh_public_key(public_key: Ed25519PublicKey, comment: str = "") -> str:
    """`ssh-ed25519 AAAA... comment`, the line an allowed_signers file or authorized_keys takes."""
    line = f"ssh-ed25519 {base64.b64encode(public_blob(public_key)).decode()}"
    return f"{line} {comment}".strip()


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """As `ssh-keygen -l` prints it: SHA256:<base64 without padding>."""
    digest = hashlib.sha256(public_blob(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def sign(private_key: Ed25519PrivateKey, message: bytes, namespace: str) -> str:
    """The armored signature `ssh-keygen -Y verify -n <namespace>` accepts for `message`."""
    digest = hashlib.sha512(message).digest()
    signed = MAGIC + _string(namespace.encode()) + _string(b"") + _string(HASH.encode()) + _string(digest)
    signature = _string(KEY_TYPE) + _string(private_key.sign(signed))
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + _string(public_blob(private_key.public_key()))
        + _string(namespace.encode())
        + _string(b"")
        + _string(HASH.encode())
        + _string(signature)
    )
    encoded = base64.b64encode(blob).decode()
    lines = [encoded[i : i + 70] for i in range(0, len(encoded), 70)]
    return "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"
