from django import forms
from django_celery_beat.models import PeriodicTask

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = monitoring_schedules()
        self.fields["schedule"].label_from_instance = lambda task: task.name.removeprefix("Monitoring: ")


class ScheduleChangeForm(forms.Form):
    """When a monitoring schedule fires: every N minutes or hours, or at a time of day on weekdays."""

    KIND = [("interval", "Every ..."), ("daily", "Each weekday at ...")]
    PERIODS = [("minutes", "minutes"), ("hours", "hours")]
    kind = forms.ChoiceField(choices=KIND, widget=forms.RadioSelect)
    every = forms.IntegerField(min_value=1, max_value=1440, required=False)
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
