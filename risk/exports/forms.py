import datetime as dt
import re

from django import forms
from django.utils import timezone

from risk.dashboards.forms import FiltersForm

# The model and version fields offer what the person may see (risk/exports/selectors.py), in lists the page prints
# once (<datalist>); a key can still be typed, and the service checks the scope whatever is sent.
MODELS, ALGORITHMIC_MODELS, VERSIONS = "export-models", "export-algorithmic-models", "export-versions"
QUARTERS = "export-quarters"


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


_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


def quarter_days(text: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of a quarter written 2026-Q3 (or 2026Q3); None when the text is not one."""
    found = _QUARTER.fullmatch(text.strip())
    if not found:
        return None
    year, quarter = int(found[1]), int(found[2])
    if year < 1970:
        return None
    first = dt.date(year, 3 * quarter - 2, 1)
    following = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, following - dt.timedelta(days=1)


def recent_quarters(today: dt.date, count: int = 8) -> list[tuple[str, str]]:
    """The running quarter and those before it, newest first, as (2026-Q4, "2026-Q4 (to date)")."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(count):
        name = f"{year}-Q{quarter}"
        out.append((name, f"{name} (to date)" if not out else name))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return out


class BoardPackForm(FiltersForm):
    """The board pack's period (a quarter, or its first and last UTC days) and the dashboards' filters, checked as
    the dashboards check them (risk/dashboards/forms.py): each filter a choice of what exists, no day after today,
    the last day on or after the first."""

    quarter = forms.CharField(
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"list": QUARTERS, "autocomplete": "off", "placeholder": "2026-Q3"}),
        help_text="A quarter (2026-Q3) gives both days; the running quarter stops today. Or give the days below.",
    )
    field_order = ["quarter", "since", "until", "desk", "business_unit", "tier", "model_type"]

    def __init__(self, data=None, user=None):
        super().__init__(data, user)
        del self.fields["as_of"]  # a pack shows the firm as it stood at the end of its period
        self.fields["since"].help_text = "The first day of the period (UTC)."
        self.fields["until"].help_text = "Its last day, included; no later than today."

    def clean(self):
        text = (self.cleaned_data.get("quarter") or "").strip()
        if text:
            days = quarter_days(text)
            today = timezone.now().date()
            if days is None:
                self.add_error("quarter", "Give a quarter as 2026-Q3.")
            elif days[0] > today:
                self.add_error("quarter", f"{text.upper()} has not started: give a quarter that has.")
            else:
                first, last = days[0], min(days[1], today)
                given = (self.cleaned_data.get("since"), self.cleaned_data.get("until"))
                if any(given) and given != (first, last):
                    self.add_error("quarter", "Give a quarter or the days of a period, not both.")
                else:
                    self.cleaned_data |= {"quarter": text.upper(), "since": first, "until": last}
        data = super().clean()
        if not self.has_error("quarter"):
            for name in ("since", "until"):
                if not data.get(name) and not self.has_error(name):
                    self.add_error(name, "Give the period's first and last day, or a quarter.")
        return data


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
