"""Database models, one module per domain, gathered here so that ``from app.models import ...``
and the migrations see one metadata. Content is never stored in plain form: only ciphertext,
public keys, wrapped private keys and the metadata workflow needs."""

from app.models.attachments import *  # noqa: F403
from app.models.audit import *  # noqa: F403
from app.models.cases import *  # noqa: F403
from app.models.clock import *  # noqa: F403
from app.models.deadlines import *  # noqa: F403
from app.models.disclosures import *  # noqa: F403
from app.models.governance import *  # noqa: F403
from app.models.limits import *  # noqa: F403
from app.models.officer_shares import *  # noqa: F403
from app.models.passkeys import *  # noqa: F403
from app.models.reporter_data import *  # noqa: F403
from app.models.reporter_sessions import *  # noqa: F403
from app.models.staff import *  # noqa: F403
