from django import forms


class EvidencePackForm(forms.Form):
    model = forms.CharField(max_length=100, help_text="The model's key.")
    version = forms.CharField(max_length=40, help_text="The version's label, e.g. 1.2.0.")


class AuditLogForm(forms.Form):
    since = forms.CharField(max_length=40, help_text="A date (2026-11-01) or a date and time in UTC.")
    until = forms.CharField(max_length=40, help_text="A date alone includes that whole day.")
    model = forms.CharField(max_length=100, required=False, help_text="A model's key: its events and its versions'.")
    actor = forms.CharField(max_length=150, required=False, help_text="A username.")
    action = forms.CharField(max_length=60, required=False, help_text="An action or its start, e.g. 'incident.'.")


class InventoryForm(forms.Form):
    as_of = forms.CharField(
        max_length=40,
        required=False,
        label="As of",
        help_text="Empty: today. A date (its end) or a date and time in UTC: the inventory as it stood then.",
    )
    format = forms.ChoiceField(choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV")])
