"""Staff pages: accounts and the administrator's pages (``routes``) and the case pages
(``case_pages``), both on ``bp``; the deadline pages have a blueprint of their own."""

from app.staff import (  # noqa: F401  (attach their pages)
    case_pages,
    officer_pages,
    passkey_pages,
    routes,
)
from app.staff.blueprint import bp

__all__ = ["bp"]
