"""Everything stored, as one searchable byte string: every value of every row of every table."""

from __future__ import annotations

import base64

from flask import Flask
from sqlalchemy import MetaData

from app.extensions import db


def database_dump(app: Flask, leave_out: tuple[str, ...] = ()) -> bytes:
    chunks: list[bytes] = []
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        with db.engine.connect() as connection:
            for table in metadata.sorted_tables:
                if table.name in leave_out:
                    continue
                for row in connection.execute(table.select()):
                    for value in row:
                        if isinstance(value, memoryview):
                            value = value.tobytes()
                        if isinstance(value, bytes):
                            chunks += [value, value.hex().encode(), base64.b64encode(value)]
                        else:
                            chunks.append(str(value).encode())
    return b"\n".join(chunks)


def encodings(secret: bytes) -> list[bytes]:
    """The forms a secret could take in storage: raw, hex, base64 (both alphabets)."""
    return [secret, secret.hex().encode(), base64.b64encode(secret),
            base64.urlsafe_b64encode(secret), base64.b64encode(secret).rstrip(b"=")]
