from django import forms

from governance.core.models import Desk
from risk.alerts.models import Kind
from risk.alerts.routing import MUTABLE


class MuteForm(forms.Form):
    muted = forms.MultipleChoiceField(
        choices=[(k.value, k.label) for k in MUTABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Do not tell me about",
    )


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What receives it, e.g. 'Rates desk incident bot'.")
    url = forms.CharField(
        max_length=500,
        label="URL",
        help_text="http:// or https://; Vigil POSTs signed JSON to it. A public address, or one in a network the "
        "deployment allows. Credentials and query values in it are never shown again.",
    )
    desk = forms.ModelChoiceField(
        queryset=Desk.objects.all(),
        required=False,
        empty_label="Every desk",
        help_text="Only alerts about this desk's models (and firm-wide ones).",
    )
    kinds = forms.MultipleChoiceField(
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind.",
    )


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
