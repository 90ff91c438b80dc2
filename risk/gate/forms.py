from django import forms
from django.core.exceptions import ValidationError

from governance.core.models import Desk
from risk.gate import killswitch
from risk.gate.models import KillSwitch


class SignatureFields(forms.Form):
    """The signer proves it is them, as at every signing action."""

    password = forms.CharField(widget=forms.PasswordInput, help_text="Your password, to sign.")
    otp_token = forms.CharField(
        required=False, max_length=12, label="One-time code", help_text="Only if you set up an authenticator."
    )


class EngageForm(SignatureFields):
    scope = forms.ChoiceField(choices=KillSwitch.Scope.choices, widget=forms.RadioSelect, initial="model")
    model = forms.CharField(
        required=False,
        max_length=100,
        help_text="The model's key (with scope: one model).",
        widget=forms.TextInput(attrs={"list": "model-keys", "autocomplete": "off"}),
    )
    desk = forms.ModelChoiceField(
        queryset=Desk.objects.order_by("name"),
        required=False,
        to_field_name="code",
        empty_label="Choose a desk",
        help_text="With scope: every model of a desk.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, help_text="Kept as evidence; 20 characters or more."
    )
    field_order = ["scope", "model", "desk", "reason", "password", "otp_token"]

    def clean(self):
        data = super().clean()
        if data.get("scope"):
            try:
                data["model"], data["desk"] = killswitch.scope_targets(
                    data["scope"], data.get("model"), data.get("desk")
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data


class ReleaseForm(SignatureFields):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        help_text="Why trading may resume; kept as evidence (20 characters or more).",
    )
    field_order = ["reason", "password", "otp_token"]


class AcknowledgeForm(SignatureFields):
    """The comprehension check of a card (a yes/no field per question) and the signature over its hash."""

    card_hash = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.question_ids = [q["id"] for q in questions]
        for q in questions:
            self.fields[q["id"]] = forms.ChoiceField(
                label=q["text"], choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect
            )
        self.order_fields([*self.question_ids, "password", "otp_token", "card_hash"])

    def answers(self) -> dict:
        return {q: self.cleaned_data[q] for q in self.question_ids}
