"""The Candor protocol: end-to-end encryption for reports, messages, notes and attachments.

A pure library (no web framework, no database), specified in ``crypto/SPEC.md``. Import the
submodule you need: ``crypto.kdf``, ``crypto.keys``, ``crypto.directory``, ``crypto.envelope``,
``crypto.stream``, ``crypto.codename``. Every failure raises a subclass of
``crypto.errors.CryptoError``.
"""

PROTOCOL_VERSION = 1
