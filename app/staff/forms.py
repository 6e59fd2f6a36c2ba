"""Forms of the staff surface."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.roles import Role
from app.services.staff_accounts import USERNAME_PATTERN


class InviteStaffForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    username = StringField(
        "Username",
        filters=[lambda value: value.strip().lower() if isinstance(value, str) else value],
        validators=[
            DataRequired(message="Enter a username."),
            Length(max=64),
            Regexp(f"^{USERNAME_PATTERN}$",
                   message="Use 2 to 64 lowercase letters, digits, dots, dashes or underscores, "
                           "starting with a letter."),
        ],
    )
    roles = SelectMultipleField(
        "Roles",
        choices=[SelectChoice(role.value, role.value) for role in Role],
        validators=[DataRequired(message="Choose at least one role.")],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )


class PasskeyRolesForm(FlaskForm):  # type: ignore[misc]
    """The roles whose holders must sign in and step up with a passkey."""

    roles = SelectMultipleField(
        "Roles that must use a passkey",
        choices=[SelectChoice(role.value, role.value) for role in Role],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
