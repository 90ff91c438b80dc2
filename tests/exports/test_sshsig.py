"""Vigil's detached signatures verify with OpenSSH's own tool, and fail on a changed byte or another key."""

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from risk.exports import sshsig

NAMESPACE = "vigil-export"


def verify(tmp_path, public_line: str, message: bytes, signature: str) -> subprocess.CompletedProcess:
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"vigil {public_line}\n")
    sig = tmp_path / "message.sig"
    sig.write_text(signature)
    return subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "vigil", "-n", NAMESPACE, "-s", str(sig)],
        input=message,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH's ssh-keygen is not installed")
def test_ssh_keygen_verifies_the_signature_and_refuses_a_changed_message_or_another_key(tmp_path):
    key = Ed25519PrivateKey.generate()
    message = b"sha256 manifest line\n" * 50
    signature = sshsig.sign(key, message, NAMESPACE)
    public = sshsig.openssh_public_key(key.public_key(), "vigil@test")
    good = verify(tmp_path, public, message, signature)
    assert good.returncode == 0, good.stderr
    tampered = bytearray(message)
    tampered[7] ^= 1
    assert verify(tmp_path, public, bytes(tampered), signature).returncode != 0
    other = sshsig.openssh_public_key(Ed25519PrivateKey.generate().public_key())
    assert verify(tmp_path, other, message, signature).returncode != 0
    listed = subprocess.run(["ssh-keygen", "-l", "-f", "/dev/stdin"], input=public.encode(), capture_output=True)
    assert sshsig.fingerprint(key.public_key()) in listed.stdout.decode()
