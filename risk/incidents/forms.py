from django import forms

from risk.incidents.models import Incident
from risk.incidents.services import OPEN_STATUSES


class ReportForm(forms.Form):
    model = forms.CharField(
        max_length=100, help_text="The model's key.", widget=forms.TextInput(attrs={"list": "model-keys"})
    )
    severity = forms.ChoiceField(
        choices=Incident.Severity.choices,
        initial=Incident.Severity.MEDIUM,
        help_text="Critical: the gate blocks the model while it is open. The policy may suspend its live version at "
        "once for high or critical incidents, by tier (see Policy).",
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=10000, help_text="What you saw, when, and on what."
    )


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, Incident.Status(s).label) for s in OPEN_STATUSES])
    severity = forms.ChoiceField(choices=Incident.Severity.choices)
    impact_pnl = forms.DecimalField(
        required=False, max_digits=20, decimal_places=2, label="P&L impact", help_text="Losses negative."
    )
    impact_trades = forms.IntegerField(required=False, min_value=0, label="Trades affected")
    impact_clients = forms.IntegerField(required=False, min_value=0, label="Clients affected")
    root_cause = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    corrective_actions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10000, label="Add to the timeline")


class CloseForm(forms.Form):
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    corrective_actions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    post_incident_review = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)
    password = forms.CharField(required=False, widget=forms.PasswordInput, help_text="High or critical: to sign.")
    otp_token = forms.CharField(required=False, max_length=12, label="One-time code")


class RollbackForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, help_text="Why the previous version returns."
    )


class RevalidationForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class FindingForm(forms.Form):
    severity = forms.ChoiceField(choices=[("high", "High"), ("medium", "Medium"), ("low", "Low")])
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    owner = forms.ModelChoiceField(queryset=None, help_text="Who remediates it: the model's owner or a developer.")
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, model=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        team = [model.owner_id, *model.developers.values_list("pk", flat=True)] if model else []
        self.fields["owner"].queryset = get_user_model().objects.filter(pk__in=team, is_active=True)
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
