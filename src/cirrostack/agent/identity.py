"""DIR/agent.json: how a management server reaches and proves itself to this agent.

Written by ``cirrostack agent`` on its first start: ``{"url": ..., "secret": ...}``, the file
mode 0600 in a directory of mode 0700. The secret (256 random bits, URL-safe base64) is kept
across restarts, so a host added with it keeps working; the url is rewritten when the agent
listens elsewhere. The operator gives the secret to addHost as the password.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "agent.json"


@dataclass(frozen=True)
class Identity:
    """An agent's address and secret."""

    url: str
    secret: str


def ensure(data_dir: Path, url: str) -> Identity:
    """The identity in ``data_dir`` with ``url``, creating the directory and secret if new.

    Raises ValueError when an existing file is not an agent file (refusing to start rather
    than replacing a secret servers already hold).
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    path = data_dir / FILE_NAME
    secret = _existing_secret(path) or secrets.token_urlsafe(32)
    identity = Identity(url, secret)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": identity.url, "secret": identity.secret}, handle, indent=2)
        handle.write("\n")
    os.chmod(path, 0o600)
    return identity


def _existing_secret(path: Path) -> str | None:
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable agent file: {exc}") from None
    secret = loaded.get("secret") if isinstance(loaded, dict) else None
    if not isinstance(secret, str) or len(secret) < 32:
        raise ValueError(f"{path} holds no usable secret")
    return secret
