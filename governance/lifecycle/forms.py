"""Forms of the lifecycle pages. They shape input; the rules are in workflow and revalidation."""

from django import forms

from governance.lifecycle.workflow import ELEMENTS
from risk.validation.models import Evidence
from risk.validation.plans import label_for_test

ELEMENT_LABELS = {
    "conceptual_soundness": "Conceptual soundness",
    "ongoing_monitoring": "Ongoing monitoring",
    "outcomes_analysis": "Outcomes analysis",
}


class TransitionForm(forms.Form):
    """One lifecycle action; signing actions add the password (and sign-off or pilot fields)."""

    action = forms.CharField(widget=forms.HiddenInput)
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your password again: this is an electronic signature.",
    )
    otp_token = forms.CharField(
        required=False, max_length=12, label="One-time code", help_text="Only if you have an authenticator device."
    )


class SignOffForm(forms.Form):
    """SR 11-7's three core elements, each with evidence or a justification, plus the tier."""

    tier_confirmed = forms.TypedChoiceField(
        choices=[(1, "Tier 1"), (2, "Tier 2"), (3, "Tier 3")], coerce=int, label="Tier confirmed"
    )
    no_findings_justification = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), label="If no findings: what was reviewed"
    )
    conditions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Conditions of use (validated with conditions)"
    )

    def __init__(self, *args, version, runs=(), cited=None, failed=(), warned=(), action="", **kwargs):
        """`runs`: the version's succeeded runs; `cited`: the one the sign-off rests on (the latest by default);
        `failed`, `warned`: that run's tests a finding does not cover yet, which the sign-off must address."""
        super().__init__(*args, **kwargs)
        choices = [
            (e.pk, f"{e.get_kind_display()}: {e.original_name}") for e in Evidence.objects.filter(version=version)
        ]
        if runs:
            self.fields["run"] = forms.TypedChoiceField(
                choices=[(r.pk, _run_label(r)) for r in runs],
                coerce=int,
                initial=cited.pk if cited else None,
                label="Validation run this sign-off rests on",
                help_text="The latest succeeded run unless you choose another.",
            )
        self.failed, self.warned = list(failed), list(warned)
        for i, test in enumerate(self.failed):
            self.fields[f"disposition_{i}"] = forms.CharField(
                required=False,
                max_length=5000,
                label=f"{label_for_test(test)} failed: why it does not stand in the way (or raise a finding from it)",
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        for i, test in enumerate(self.warned):
            self.fields[f"acknowledge_{i}"] = forms.BooleanField(
                required=False, label=f"I acknowledge the warning on {label_for_test(test)}"
            )
        for element in ELEMENTS:
            self.fields[f"{element}_evidence"] = forms.TypedMultipleChoiceField(
                choices=choices,
                coerce=int,
                required=False,
                label=f"{ELEMENT_LABELS[element]}: evidence",
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"{element}_na"] = forms.CharField(
                required=False,
                max_length=5000,
                label=f"{ELEMENT_LABELS[element]}: not applicable because",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.initial.setdefault("tier_confirmed", version.model.risk_tier)
        if action and action != "validate_with_conditions":
            del self.fields["conditions"]  # each signing form asks only for what its meaning needs

    def signoff(self) -> dict:
        data = self.cleaned_data
        out = {
            element: {
                "evidence": data.get(f"{element}_evidence") or [],
                "not_applicable": data.get(f"{element}_na", ""),
            }
            for element in ELEMENTS
        }
        out.update(
            tier_confirmed=data.get("tier_confirmed"),
            conditions=data.get("conditions", ""),
            no_findings_justification=data.get("no_findings_justification", ""),
            run=data.get("run"),
            dispositions={test: data.get(f"disposition_{i}", "") for i, test in enumerate(self.failed)},
            acknowledged_warnings=[test for i, test in enumerate(self.warned) if data.get(f"acknowledge_{i}")],
        )
        return out


def _run_label(run) -> str:
    counts = {"fail": 0, "warn": 0}
    for row in run.results:
        if row["outcome"] in counts:
            counts[row["outcome"]] += 1
    when = run.finished_at.strftime("%Y-%m-%d %H:%M UTC") if run.finished_at else ""
    return f"Run #{run.pk} on {run.dataset.original_name}, {when}: {counts['fail']} failed, {counts['warn']} warned"


class PilotForm(forms.Form):
    max_notional = forms.DecimalField(max_digits=20, decimal_places=2, min_value=0)
    instruments = forms.CharField(required=False, help_text="Comma-separated identifiers.")
    venues = forms.CharField(required=False, help_text="Comma-separated venue codes (MIC).")
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def pilot(self) -> dict:
        data = self.cleaned_data
        split = lambda text: [part.strip() for part in (text or "").split(",") if part.strip()]  # noqa: E731
        return {
            "max_notional": str(data["max_notional"]),
            "instruments": split(data.get("instruments")),
            "venues": split(data.get("venues")),
            "end_date": data["end_date"].isoformat(),
        }


class AttestationForm(forms.Form):
    statement = forms.CharField(
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial="I attest that this model is used as approved, within its limits and "
        "restrictions, and that its monitoring has raised no unreported issue.",
    )
    password = forms.CharField(widget=forms.PasswordInput)
    otp_token = forms.CharField(required=False, max_length=12)
