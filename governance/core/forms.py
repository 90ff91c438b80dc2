"""Forms of the core: the login form, enrolling an authenticator, and choosing a person (shown by full name)."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.validators import MaxLengthValidator
from django_otp import match_token

from governance.core import access_window, second_factor
from governance.core.audit import audit_record


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length enforced before authentication.

    AuthenticationForm sets the field's max_length after the field is built, so no validator enforces it: an
    over-long username reached authenticate() and django-axes, whose failed-attempt record overflowed its
    255-character column on PostgreSQL (a 500). It is now a form error and nothing is recorded but the refusal.

    A person with a confirmed authenticator (django-otp TOTP device) also gives its current code: a wrong or missing
    one is an error beside the code and a failed login (the `user_login_failed` signal: django-axes counts it
    towards the lockout, the audit trail records it). `otp_device` is the device that matched, for the session.
    """

    otp_token = forms.CharField(
        required=False,
        max_length=12,
        label="One-time code",
        help_text="From your authenticator app, if you have one.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        limit = self.fields["username"].max_length or 150
        self.fields["username"].validators.append(MaxLengthValidator(limit))
        self.otp_device = None

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and second_factor.has_device(user):
            token = (cleaned.get("otp_token") or "").strip()
            self.otp_device = match_token(user, token) if token else None
            if self.otp_device is None:
                user_login_failed.send(
                    sender=__name__, credentials={"username": user.get_username()}, request=self.request
                )
                self.user_cache = None
                raise forms.ValidationError(
                    {"otp_token": "Enter the current code from your authenticator app."}, code="otp_required"
                )
        return cleaned

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        refused = access_window.refusal(user)
        if refused:
            audit_record(
                user, "login.refused", user, object_type="auth.user", object_repr=user.get_username(), reason=refused
            )
            raise forms.ValidationError(refused, code="outside_access_window")


class OTPEnrolForm(forms.Form):
    otp_token = forms.CharField(
        max_length=12,
        label="Code from the app",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


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
