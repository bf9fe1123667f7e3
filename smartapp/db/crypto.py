"""Encryption of secrets at rest (OAuth tokens, private JWKs) with Fernet keys from config."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(ValueError):
    """A configured key is not a Fernet key, or no configured key opens a stored secret."""


class SecretCipher:
    """Encrypts with the first key and decrypts with any, so keys can be rotated.

    Keys are url-safe base64 32-byte Fernet keys (`SecretCipher.generate_key()`); the app
    reads them from its configuration, newest first.
    """

    def __init__(self, keys: str | bytes | Sequence[str | bytes]) -> None:
        key_list = [keys] if isinstance(keys, str | bytes) else list(keys)
        if not key_list:
            raise SecretKeyError("no encryption key configured")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in key_list])
        except (ValueError, TypeError):
            raise SecretKeyError(
                "an encryption key is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    @staticmethod
    def generate_key() -> str:
        """A new random key, as text for a config file or environment variable."""
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext (a Fernet token, ASCII) of the text."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The text back; SecretKeyError when none of the keys opens it (or it was altered)."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError("no configured encryption key opens a stored secret") from None
