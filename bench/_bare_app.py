"""The baseline for ``bench/submit_throughput.py``: the least a Flask + SQLAlchemy app can do to
accept a submission (parse the JSON body, insert one row, commit, answer 201), on the same
database engine with the same settings, served by the same server as Candor (app/server.py).

The server loads it as ``bench._bare_app:create()``; ``BARE_DATABASE_URL`` names the database,
whose table the benchmark creates before the workers start (``create_table``).
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.extensions import use_sqlite_settings


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareSubmission(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bare_submission"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text)


def create_table(url: str) -> None:
    engine = create_engine(url)
    use_sqlite_settings(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


def create() -> Flask:
    app = Flask(__name__)
    # The same engine options as Candor (app/config.py).
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BARE_DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)
    with app.app_context():
        use_sqlite_settings(db.engine)  # and the same SQLite settings (WAL, synchronous=FULL)

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(ok=True)

    @app.post("/insert")
    def insert():  # type: ignore[no-untyped-def]
        data = request.get_json()
        row = BareSubmission(case_ref=data["case_ref"], category=data["category"],
                             body=request.get_data(as_text=True))
        db.session.add(row)
        db.session.flush()
        # Read before the commit, which would expire the row and cost a query to read it back
        # (Candor answers from what it wrote too).
        row_id = row.id
        db.session.commit()
        return jsonify(id=row_id), 201

    return app
