"""Forms of the core: the login form, and choosing a person (shown by full name)."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

from governance.core import access_window
from governance.core.audit import audit_record


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length enforced before authentication.

    AuthenticationForm sets the field's max_length after the field is built, so no validator enforces it: an
    over-long username reached authenticate() and django-axes, whose failed-attempt record overflowed its
    255-character column on PostgreSQL (a 500). It is now a form error and nothing is recorded but the refusal.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        limit = self.fields["username"].max_length or 150
        self.fields["username"].validators.append(MaxLengthValidator(limit))

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        refused = access_window.refusal(user)
        if refused:
            audit_record(
                user, "login.refused", user, object_type="auth.user", object_repr=user.get_username(), reason=refused
            )
            raise forms.ValidationError(refused, code="outside_access_window")


def person_label(user) -> str:
    """A person in a choice list: full name, with the username to tell namesakes apart."""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class AccessWindowForm(forms.Form):
    """An auditor's access window, in UTC; an empty end leaves that side open."""

    access_from = forms.DateTimeField(
        required=False,
        label="From (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    access_until = forms.DateTimeField(
        required=False,
        label="Until (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
