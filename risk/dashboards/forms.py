"""A dashboard page's filters, read from its address (so a view can be bookmarked and shared)."""

from django import forms
from django.utils import timezone

from governance.core.widgets import Filters
from models_registry.choices import ModelType, RiskTier
from risk.dashboards import access, selectors

FIELDS = ("as_of", "desk", "business_unit", "tier", "model_type", "since", "until")


def _offered(any_label: str, choices: list[tuple[str, str]], whole_firm: bool) -> list[tuple[str, str]]:
    """A filter offers only choices that can change what the person sees. "Any" is one of them for whoever reads
    the whole firm, and for anyone else when they see more than one: a person who sees one desk (a trader, their
    own) is offered that desk alone, which is what "any" would show them; another value stays an error (400)."""
    return [("", any_label), *choices] if whole_firm or len(choices) != 1 else choices


class FiltersForm(forms.Form):
    """Each filter a choice of what exists (an unknown value is an error beside its field, and the page a 400), a
    time range of UTC days for the widgets that count events, and the day the whole page shows: today, or a past day
    rebuilt from the audit trail (governance/core/history.py) no earlier than its first record."""

    as_of = forms.DateField(
        required=False,
        label="As of",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The page as it stood at the end of this day (UTC); today when empty.",
    )
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

    def __init__(self, data, user=None):
        # Only the form's own fields are read (a subclass's too): the page's address carries other names.
        super().__init__(None if data is None else {k: v for k, v in data.items() if k in self.base_fields})
        # The desks and business units of the models `user` may see: a trader is offered their own desk only.
        whole_firm = access.filters_the_whole_firm(user)
        self.fields["desk"].choices = _offered("Any desk", selectors.desk_choices(user), whole_firm)
        self.fields["business_unit"].choices = _offered(
            "Any business unit", selectors.business_unit_choices(user), whole_firm
        )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        today = timezone.now().date()
        as_of = data.get("as_of")
        if as_of and as_of > today:
            self.add_error("as_of", "Give a day no later than today: the future has no record yet.")
        elif as_of and as_of < today:
            first = selectors.first_recorded_day()
            if first is None or as_of < first:
                start = f"starts on {first.isoformat()}" if first else "is empty"
                self.add_error("as_of", f"The audit trail {start}: give a day it covers.")
        last = min(as_of or today, today)
        limit = "the page's day (as of)" if last < today else "today"
        if since and since > last:
            self.add_error("since", f"Give a day no later than {limit}.")
        if until and until > last:
            self.add_error("until", f"Give a day no later than {limit}.")
        if since and until and until < since:
            self.add_error("until", "Give a day on or after the first.")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            as_of=data.get("as_of") or timezone.now().date(),
            desk=data.get("desk") or "",
            desk_name=dict(self.fields["desk"].choices).get(data.get("desk") or "", ""),
            business_unit=data.get("business_unit") or "",
            tier=data.get("tier"),
            model_type=data.get("model_type") or "",
            since=data.get("since"),
            until=data.get("until"),
        )


class LayoutForm(forms.Form):
    """A page's arrangement: for each widget the person may see, whether it is shown and its place."""

    def __init__(self, data, *, shown, hidden):
        super().__init__(data)
        self.widgets = [*shown, *hidden]
        hidden_keys = {w.key for w in hidden}
        for place, widget in enumerate(self.widgets, start=1):
            self.fields[f"show_{widget.key}"] = forms.BooleanField(
                required=False, label=widget.title, initial=widget.key not in hidden_keys
            )
            self.fields[f"place_{widget.key}"] = forms.IntegerField(
                min_value=1, max_value=len(self.widgets), initial=place, label=f"Place of {widget.title}"
            )

    def rows(self):
        return [(w, self[f"show_{w.key}"], self[f"place_{w.key}"]) for w in self.widgets]

    def clean(self):
        data = super().clean()
        if self.widgets and not any(data.get(f"show_{w.key}") for w in self.widgets):
            raise forms.ValidationError("Keep at least one widget on the page.")
        return data

    def arrangement(self) -> tuple[list[str], list[str]]:
        """(order, hidden) as widget keys; equal places keep the page's current order."""
        data = self.cleaned_data
        ranked = sorted(enumerate(self.widgets), key=lambda item: (data[f"place_{item[1].key}"], item[0]))
        order = [w.key for _index, w in ranked]
        return order, [key for key in order if not data[f"show_{key}"]]
