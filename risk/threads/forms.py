from django import forms

from risk.incidents.forms import FindingForm as IncidentFindingForm
from risk.incidents.models import Incident
from risk.threads.services import BODY_LIMIT, TITLE_LIMIT

BODY_HELP = "Markdown. Mention a person who may see this record with @username: they are told."


class ThreadForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, max_length=20)
    record = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    title = forms.CharField(max_length=TITLE_LIMIT)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=BODY_LIMIT, label="Comment", help_text=BODY_HELP
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=BODY_LIMIT, label="Comment", help_text=BODY_HELP
    )
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class EditForm(forms.Form):
    comment = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=BODY_LIMIT, label="Corrected text")


class SettleForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=BODY_LIMIT)


class IncidentForm(forms.Form):
    severity = forms.ChoiceField(choices=Incident.Severity.choices, initial=Incident.Severity.MEDIUM)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=9000)


class FindingForm(IncidentFindingForm):
    """The incidents page's finding form: the same fields (owner among the model's team)."""
