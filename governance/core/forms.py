"""Forms of the core: the login form, enrolling an authenticator, choosing a person (shown by full name), and a new
version of the governance policy."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.validators import MaxLengthValidator
from django_otp import match_token

from governance.core import access_window, second_factor
from governance.core.audit import audit_record
from governance.core.policy import ACKNOWLEDGING_WORDS, SECOND_FACTOR_ROLES, SEVERITIES, TIERS


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


class PolicyForm(forms.Form):
    """A new version of the governance policy, as compliance types it on /policy/: one field per tier and value, per
    severity, role and indicator threshold. The form checks only that each value is of its type (a whole number, a
    box); the rules (ranges, amber no higher than red) are `policy.policy_publish`'s, whose errors `add_publish_errors`
    puts beside the field they are about. Months of live validation and indicator thresholds left out keep those in
    force (a page rendered before they existed posts without them)."""

    PER_TIER = {
        "revalidation_months": "months",
        "approvals_required": "approvals",
        "ongoing_validation_months": "ongoing",
        "ongoing_regression_revalidation": "ongoing_flag",
    }

    profile = forms.CharField(required=False, max_length=40, label="Profile")

    def __init__(self, *args, policy, indicator_rows, **kwargs):
        kwargs.setdefault("auto_id", "%s")  # the ids the page has always had (ongoing_1, kri_<key>_amber)
        super().__init__(*args, **kwargs)
        self.policy, self.indicator_rows = policy, indicator_rows
        self.tiers, self.severities, self.roles = TIERS, SEVERITIES, SECOND_FACTOR_ROLES
        whole = {"invalid": "Enter a whole number."}
        for t in TIERS:
            self.fields[f"months_{t}"] = forms.IntegerField(
                label=f"Tier {t}: months between validations",
                widget=forms.NumberInput(attrs={"min": 1, "max": 120}),
                error_messages=whole,
                initial=policy.revalidation_months[t],
            )
            self.fields[f"approvals_{t}"] = forms.IntegerField(
                label=f"Tier {t}: approvals needed",
                widget=forms.NumberInput(attrs={"min": 1, "max": 5}),
                error_messages=whole,
                initial=policy.approvals_required[t],
            )
            for effect in ("suspend", "revalidation"):
                for v in SEVERITIES:
                    self.fields[f"{effect}_{t}_{v}"] = forms.BooleanField(
                        required=False, label=v, initial=v in policy.incident_response[effect][t]
                    )
            self.fields[f"ongoing_{t}"] = forms.IntegerField(
                required=False,
                label=f"Tier {t}: months between validations on live data (0: none)",
                widget=forms.NumberInput(attrs={"min": 0, "max": 120}),
                error_messages=whole,
                initial=policy.ongoing_months_for(int(t)),
            )
            for party, words in ACKNOWLEDGING_WORDS.items():
                self.fields[f"ack_{party}_{t}"] = forms.BooleanField(
                    required=False, label=words, initial=party in policy.acknowledgements_for(int(t))
                )
            self.fields[f"ongoing_flag_{t}"] = forms.BooleanField(
                required=False,
                label=f"Tier {t}: a test that passed at sign-off and fails on live data requires revalidation",
                initial=policy.regression_requires_revalidation(int(t)),
            )
        for role in SECOND_FACTOR_ROLES:
            self.fields[f"second_factor_{role}"] = forms.BooleanField(
                required=False, initial=role in (policy.second_factor_required or [])
            )
        for row in indicator_rows:
            for level in ("amber", "red"):
                self.fields[f"kri_{row['indicator'].key}_{level}"] = forms.IntegerField(
                    required=False,
                    label=f"{row['indicator'].label}: {level} from",
                    widget=forms.NumberInput(attrs={"min": 1}),
                    error_messages=whole,
                    initial=row[level],
                )
        self.fields["notes"] = forms.CharField(
            required=False, max_length=5000, label="Notes", widget=forms.Textarea(attrs={"rows": 2})
        )

    def as_fields(self) -> dict:
        """What `policy_publish` takes."""
        d, current = self.cleaned_data, self.policy
        return {
            "profile": d["profile"] or None,
            "revalidation_months": {t: d[f"months_{t}"] for t in self.tiers},
            "approvals_required": {t: d[f"approvals_{t}"] for t in self.tiers},
            "notes": d["notes"],
            "incident_response": {
                effect: {t: [v for v in self.severities if d[f"{effect}_{t}_{v}"]] for t in self.tiers}
                for effect in ("suspend", "revalidation")
            },
            "ongoing_validation_months": {
                t: _or_kept(d[f"ongoing_{t}"], current.ongoing_validation_months[t]) for t in self.tiers
            },
            "ongoing_regression_revalidation": {t: d[f"ongoing_flag_{t}"] for t in self.tiers},
            "second_factor_required": [r for r in self.roles if d[f"second_factor_{r}"]],
            "acknowledgement_required": {
                t: [party for party in ACKNOWLEDGING_WORDS if d[f"ack_{party}_{t}"]] for t in self.tiers
            },
            "risk_indicators": {
                row["indicator"].key: {
                    level: _or_kept(d[f"kri_{row['indicator'].key}_{level}"], row[level]) for level in ("amber", "red")
                }
                for row in self.indicator_rows
            },
        }

    def add_publish_errors(self, error) -> None:
        """`policy_publish`'s refusal, each message beside the field it is about: the service names the policy's
        field and, in the error's params, the tier or the indicator and level."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            for one in errors:
                field = self._field_of(name, one.params or {})
                if field is None:
                    for message in one.messages:
                        self.add_error(None, f"{name.replace('_', ' ').capitalize()}: {message}")
                else:
                    self.add_error(field, one)

    def _field_of(self, name: str, params: dict) -> str | None:
        if name in self.PER_TIER:
            field = f"{self.PER_TIER[name]}_{params.get('tier', self.tiers[0])}"
        elif name == "risk_indicators" and "indicator" in params:
            field = f"kri_{params['indicator']}_{params.get('level', 'amber')}"
        elif name == "incident_response":
            field = f"suspend_{self.tiers[0]}_{self.severities[0]}"
        elif name == "acknowledgement_required":
            field = f"ack_{next(iter(ACKNOWLEDGING_WORDS))}_{params.get('tier', self.tiers[0])}"
        elif name == "second_factor_required":
            field = f"second_factor_{self.roles[0]}"
        else:
            field = name  # profile, notes (the model's own checks)
        return field if field in self.fields else None


def _or_kept(typed, in_force):
    """A value left out of the form keeps the one in force."""
    return in_force if typed is None else typed
