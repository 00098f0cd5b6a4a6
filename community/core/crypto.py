"""Personal data at rest: AES-GCM encryption, HMAC lookup hashes and masking.

The key comes from COMMUNITY_DATA_KEY (32 bytes, url-safe base64). Ciphertext
is stored as url-safe base64 of nonce || ciphertext+tag, prefixed with a key
version so the key can be rotated later.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

_PREFIX = "v1:"


class DataKeyMissing(RuntimeError):
    pass


def _key() -> bytes:
    return _decoded(current_app.config.get("COMMUNITY_DATA_KEY"))


@functools.lru_cache(maxsize=4)
def _decoded(raw: str | None) -> bytes:
    if not raw:
        raise DataKeyMissing(
            "COMMUNITY_DATA_KEY is not set: generate one with "
            "python -c 'import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        )
    key = base64.urlsafe_b64decode(raw)
    if len(key) != 32:
        raise DataKeyMissing("COMMUNITY_DATA_KEY must decode to 32 bytes")
    return key


@functools.lru_cache(maxsize=4)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)


@functools.lru_cache(maxsize=4)
def _lookup_key(key: bytes) -> bytes:
    return hashlib.sha256(b"lookup|" + key).digest()


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(_key()).encrypt(nonce, plaintext.encode("utf-8"), None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("unknown ciphertext format")
    blob = base64.urlsafe_b64decode(token[len(_PREFIX) :])
    return _cipher(_key()).decrypt(blob[:12], blob[12:], None).decode("utf-8")


def lookup_hash(value: str) -> str:
    """Keyed hash (HMAC-SHA256) to find equal values without decrypting them."""
    return hmac.new(
        _lookup_key(_key()), value.strip().upper().encode("utf-8"), hashlib.sha256
    ).hexdigest()


def lookup_hasher() -> Callable[[str], str]:
    """lookup_hash with its key looked up once, for many values (an import's chunk)."""
    key, new, digest = _lookup_key(_key()), hmac.new, hashlib.sha256
    return lambda value: new(key, value.strip().upper().encode("utf-8"), digest).hexdigest()


class EncryptedString(TypeDecorator):
    """A string column stored encrypted; reads give plaintext back."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return None
        return encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str:
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
