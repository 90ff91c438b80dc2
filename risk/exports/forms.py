from django import forms

# The model and version fields offer what the person may see (risk/exports/selectors.py), in lists the page prints
# once (<datalist>); a key can still be typed, and the service checks the scope whatever is sent.
MODELS, ALGORITHMIC_MODELS, VERSIONS = "export-models", "export-algorithmic-models", "export-versions"


def _picker(datalist: str) -> forms.TextInput:
    return forms.TextInput(attrs={"list": datalist, "autocomplete": "off"})


class EvidencePackForm(forms.Form):
    model = forms.CharField(max_length=100, widget=_picker(MODELS), help_text="Pick a model, or type its key.")
    version = forms.CharField(
        max_length=40, widget=_picker(VERSIONS), help_text="Pick one of its versions, or type its label (1.2.0)."
    )


class AuditLogForm(forms.Form):
    since = forms.CharField(max_length=40, help_text="A date (2026-11-01) or a date and time in UTC.")
    until = forms.CharField(max_length=40, help_text="A date alone includes that whole day.")
    model = forms.CharField(
        max_length=100,
        required=False,
        widget=_picker(MODELS),
        help_text="Optional: a model (pick or type its key): its events and its versions'.",
    )
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


class MifidForm(forms.Form):
    model = forms.CharField(
        max_length=100,
        widget=_picker(ALGORITHMIC_MODELS),
        help_text="An algorithmic-trading model (alpha signal or execution): pick it, or type its key.",
    )


class Rts6Form(forms.Form):
    year = forms.IntegerField(min_value=1970, max_value=9999, help_text="The calendar year assessed.")


class PrepareSelfAssessmentForm(forms.Form):
    year = forms.IntegerField(min_value=1970, max_value=9999)
    conclusion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text="How the firm meets RTS 6 for the year, and what it will remedy. The year's figures are frozen now.",
    )


class SignSelfAssessmentForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, help_text="Your password again: this is a signature.")
    otp_token = forms.CharField(required=False, max_length=12, label="One-time code", help_text="If you use one.")
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class AuditTrailFilterForm(forms.Form):
    """The audit trail page's filters (read from the query string): each a choice of what exists, and a period of
    UTC days inside Vigil's range of dates (governance/core/moments.py, hung on every DateField)."""

    model = forms.ChoiceField(required=False, help_text="Its events and its versions'.")
    person = forms.ChoiceField(required=False, help_text="Who acted.")
    action = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}), help_text="Both days included."
    )

    def __init__(self, data, *, models, people, actions, no_one):
        super().__init__(data)
        self.fields["model"].choices = [("", "Any model"), *models]
        self.fields["person"].choices = [("", "Anyone"), (no_one, "No one signed in (Vigil, failed sign-ins)"), *people]
        self.fields["action"].choices = [("", "Any action"), *actions]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "Give a day on or after the first.")
        return data
