"""Errors raised by the Candor protocol (SPEC.md section 10).

Every failure is a ``CryptoError``, so a caller can map all of them to one safe response. The
subclass names are part of the protocol: the browser module raises errors with the same ``name``,
and the test vectors name them. Messages never contain key material or plaintext.
"""


class CryptoError(Exception):
    """Root of every error this package raises on purpose."""


class DecryptionError(CryptoError):
    """Authentication failed: wrong key, tampered ciphertext, or data bound to another context."""


class UnsupportedVersion(CryptoError):
    """A blob starts with a version byte this implementation does not know."""


class MalformedInput(CryptoError):
    """Wrong length, non-canonical encoding, or a field outside its rules."""


class InvalidPadding(MalformedInput):
    """Decrypted content is not canonically padded."""


class UnknownCodenameWord(MalformedInput):
    """A typed codename contains a word that is not in the word list."""


class KdfParametersRejected(CryptoError):
    """Argon2id parameters are below the minimum or above the ceiling."""


class TruncatedStream(CryptoError):
    """An attachment stream ended before its final frame."""


class SignatureInvalid(CryptoError):
    """A directory entry's signature does not verify under the organisation key."""
