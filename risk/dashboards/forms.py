"""A dashboard page's filters, read from its address (so a view can be bookmarked and shared)."""

from django import forms
from django.utils import timezone

from governance.core.widgets import Filters
from models_registry.choices import ModelType, RiskTier
from risk.dashboards import selectors

FIELDS = ("desk", "business_unit", "tier", "model_type", "since", "until")


class FiltersForm(forms.Form):
    """Each filter a choice of what exists (an unknown value is an error beside its field, and the page a 400), and a
    time range of UTC days for the widgets that count events."""

    desk = forms.ChoiceField(required=False)
    business_unit = forms.ChoiceField(required=False, label="Business unit")
    tier = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "Any tier"), *RiskTier.choices]
    )
    model_type = forms.ChoiceField(required=False, label="Model type", choices=[("", "Any type"), *ModelType.choices])
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="Events from this day."
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}), help_text="Both days included."
    )

    def __init__(self, data):
        super().__init__({name: value for name, value in data.items() if name in FIELDS})
        self.fields["desk"].choices = [("", "Any desk"), *selectors.desk_choices()]
        self.fields["business_unit"].choices = [("", "Any business unit"), *selectors.business_unit_choices()]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        today = timezone.now().date()
        if since and since > today:
            self.add_error("since", "Give a day no later than today.")
        if until and until > today:
            self.add_error("until", "Give a day no later than today.")
        if since and until and until < since:
            self.add_error("until", "Give a day on or after the first.")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            as_of=timezone.now().date(),
            desk=data.get("desk") or "",
            business_unit=data.get("business_unit") or "",
            tier=data.get("tier"),
            model_type=data.get("model_type") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
