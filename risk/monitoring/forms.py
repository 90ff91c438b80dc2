from django import forms
from django_celery_beat.models import PeriodicTask

from risk.monitoring.measures import PERCENT_UNITS, as_percent
from risk.monitoring.monitors import MIN_REASON, monitoring_schedules


class MonitorChangeForm(forms.Form):
    """A governed change to a monitor: every field prefilled with its current value, and the reason."""

    warn = forms.FloatField(label="Warn threshold")
    breach = forms.FloatField(label="Breach threshold")
    window = forms.IntegerField(min_value=1, max_value=10_000_000)
    min_rows = forms.IntegerField(label="Minimum rows to judge", min_value=0, max_value=10_000_000)
    schedule = forms.ModelChoiceField(queryset=PeriodicTask.objects.none(), empty_label=None)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=MIN_REASON,
        help_text=f"Why this change is right (at least {MIN_REASON} characters); it goes into the audit trail.",
    )

    # Thresholds are typed in the unit the pages show them in: shares and percentiles in per cent.
    PERCENT_UNITS = PERCENT_UNITS
    UNIT_NAMES = {"ratio": "times", "hours": "trading hours", "level": "share of the decision limit"}

    def __init__(self, *args, unit: str = "number", currency: str = "", **kwargs):
        self.unit = unit
        initial = dict(kwargs.pop("initial", None) or {})
        if unit in self.PERCENT_UNITS:
            for name in ("warn", "breach"):
                if initial.get(name) is not None:
                    initial[name] = as_percent(initial[name])
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["schedule"].queryset = monitoring_schedules()
        self.fields["schedule"].label_from_instance = lambda task: task.name.removeprefix("Monitoring: ")
        suffix = "%" if unit in self.PERCENT_UNITS else currency if unit == "money" else self.UNIT_NAMES.get(unit)
        if suffix:
            for name in ("warn", "breach"):
                self.fields[name].label = f"{self.fields[name].label} ({suffix})"
        if unit in self.PERCENT_UNITS:
            for name in ("warn", "breach"):
                self.fields[name].min_value = 0
                self.fields[name].max_value = 100
                self.fields[name].widget.attrs.update(min=0, max=100, step="any")
                self.fields[name].validators.extend(forms.FloatField(min_value=0, max_value=100).validators)
                self.fields[name].help_text = "In per cent: 55 means 55 %."

    def clean(self):
        data = super().clean()
        if self.unit in self.PERCENT_UNITS:
            for name in ("warn", "breach"):
                if data.get(name) is not None:
                    data[name] = data[name] / 100
        return data


class ScheduleChangeForm(forms.Form):
    """When a monitoring schedule fires: every N minutes or hours, or at a time of day on weekdays."""

    KIND = [("interval", "Every few minutes or hours"), ("daily", "Once each weekday (Monday to Friday)")]
    PERIODS = [("minutes", "minutes"), ("hours", "hours")]
    kind = forms.ChoiceField(label="Runs", choices=KIND, widget=forms.RadioSelect)
    every = forms.IntegerField(label="Every", min_value=1, max_value=1440, required=False)
    period = forms.ChoiceField(choices=PERIODS, required=False)
    at = forms.TimeField(label="At (UTC)", required=False, help_text="HH:MM, UTC.")
    enabled = forms.BooleanField(required=False, help_text="A disabled schedule starts no cycles.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), min_length=MIN_REASON)

    def clean(self):
        data = super().clean()
        if data.get("kind") == "interval" and not data.get("every"):
            self.add_error("every", "Say how often.")
        if data.get("kind") == "interval" and not data.get("period"):
            self.add_error("period", "Choose minutes or hours.")
        if data.get("kind") == "daily" and data.get("at") is None:
            self.add_error("at", "Give the time of day (UTC).")
        return data
