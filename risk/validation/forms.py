"""Validation forms: evidence upload, findings, the validator's plan editor (one row per test: keep it,
retune its thresholds) with the plan's options, and the files a run reads."""

from django import forms

from governance.core.forms import UserChoiceField
from risk.validation import plans
from risk.validation.models import Evidence, Finding
from risk.validation.selectors import RUN_INPUT_KINDS


class PlanTestForm(forms.Form):
    keep = forms.BooleanField(required=False, initial=True)
    test = forms.CharField(max_length=120, widget=forms.HiddenInput)
    metric = forms.CharField(max_length=60, widget=forms.HiddenInput)
    higher_is_better = forms.TypedChoiceField(
        choices=[("true", "higher"), ("false", "lower")], coerce=lambda v: v == "true", label="Better"
    )
    pass_at = forms.FloatField(label="Pass at")
    fail_at = forms.FloatField(label="Fail at")

    @classmethod
    def initial_from(cls, test: dict) -> dict:
        return {
            "keep": True,
            "test": test["test"],
            "metric": test["metric"],
            "higher_is_better": "true" if test.get("higher_is_better", True) else "false",
            "pass_at": test["pass"],
            "fail_at": test["fail"],
        }

    def as_test(self) -> dict:
        d = self.cleaned_data
        return {
            "test": d["test"],
            "metric": d["metric"],
            "higher_is_better": d["higher_is_better"],
            "pass": d["pass_at"],
            "fail": d["fail_at"],
        }


PlanTestFormSet = forms.formset_factory(PlanTestForm, extra=0, max_num=200, validate_max=True)


class PlanOptionsForm(forms.Form):
    split_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="In-sample before this date."
    )
    trials = forms.IntegerField(required=False, min_value=2, help_text="Configurations tried (deflated Sharpe).")
    trials_sharpe_variance = forms.FloatField(
        required=False,
        min_value=0,
        label="Trials' Sharpe variance",
        help_text="Variance of their annualised Sharpe ratios.",
    )
    pbo_blocks = forms.IntegerField(min_value=2, max_value=20, label="PBO blocks", help_text="Even; CSCV blocks.")
    regime_window = forms.IntegerField(min_value=2, max_value=10000, help_text="Periods of trailing volatility.")
    features = forms.CharField(
        required=False, max_length=2000, help_text="Comma-separated; empty compares every shared column."
    )
    tolerance = forms.FloatField(min_value=0, max_value=0.999999, help_text="Re-performance tolerance.")
    # Not required: a page rendered before these options existed posts without them; the plan keeps its own.
    prediction_tolerance = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Prediction tolerance",
        help_text="Re-run predictions: a regressor's y_pred within this × max(1, |logged|); labels must be equal.",
    )
    score_tolerance = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Score tolerance",
        help_text="Re-run predictions: y_score within this.",
    )
    periods_per_year = forms.IntegerField(min_value=1, max_value=100000)
    risk_free = forms.FloatField(min_value=-1, max_value=1, label="Risk-free rate", help_text="Annual.")

    @classmethod
    def initial_from(cls, options: dict) -> dict:
        o = {**plans.DEFAULT_OPTIONS, **options}
        return {**o, "features": ", ".join(o["features"] or [])}

    def as_options(self) -> dict:
        d = dict(self.cleaned_data)
        d["split_date"] = d["split_date"].isoformat() if d["split_date"] else None
        d["features"] = [f.strip() for f in d["features"].split(",") if f.strip()] or None
        return {k: v for k, v in d.items() if v is not None or k not in ("prediction_tolerance", "score_tolerance")}


class RunStartForm(forms.Form):
    """The files a validation run reads, each chosen among the version's files of the kinds its role takes: another
    version's file or one of the wrong kind is an error beside its field (the service, `runs.run_start`, checks
    again and says which inputs the plan takes). Built from one list of the version's files: no query per field."""

    ROLES = {
        "dataset": "Dataset",
        "reference": "Training sample",
        "prediction_log": "Prediction log",
        "model": "Model (ONNX)",
        "attributions": "Feature attributions (SHAP values)",
        "trial_returns": "Trial returns",
    }

    def __init__(self, *args, files, **kwargs):
        """`files`: the version's evidence that a run may read (`selectors.run_input_files`)."""
        kwargs.setdefault("auto_id", "id_run_%s")
        super().__init__(*args, **kwargs)
        self.files = {str(f.pk): f for f in files}
        for role, label in self.ROLES.items():
            kinds = RUN_INPUT_KINDS[role]
            offered = [(pk, f.original_name) for pk, f in self.files.items() if f.kind in kinds]
            required = role == "dataset"
            empty = "Choose a file" if required else ("None chosen" if offered else "None attached")
            self.fields[role] = forms.ChoiceField(
                label=label,
                required=required,
                choices=[("", empty), *offered],
                error_messages={
                    "invalid_choice": f"Choose a file of kind {' or '.join(kinds)} attached to this version."
                },
            )

    @property
    def offered(self) -> dict[str, bool]:
        """Whether the version has a file for each role (templates hide a choice of nothing)."""
        return {role: len(self.fields[role].choices) > 1 for role in self.ROLES}

    def inputs(self) -> dict:
        """The chosen files, as `runs.run_start` takes them."""
        return {role: self.files[pk] for role, pk in self.cleaned_data.items() if pk}


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=Evidence.Kind.choices)
    file = forms.FileField()
    description = forms.CharField(required=False, max_length=500)


class FindingForm(forms.ModelForm):
    """A finding; raised from a run's failed or warned test, it carries the run and the test (hidden)."""

    class Meta:
        model = Finding
        fields = ["severity", "title", "description", "owner", "due_date", "run", "test"]
        field_classes = {"owner": UserChoiceField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "run": forms.HiddenInput,
            "test": forms.HiddenInput,
        }

    def __init__(self, *args, owners, runs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["run"].queryset = runs
        self.fields["run"].required = False

    def _post_clean(self):
        pass  # the service validates and reports by field


FINDING_ACTIONS = [("start_remediation", "Record remediation"), ("close", "Close"), ("accept_risk", "Accept risk")]


class FindingActionForm(forms.Form):
    """The actions offered are those the person may take (access.finding_actions); the services check again."""

    action = forms.ChoiceField(choices=FINDING_ACTIONS)
    comment = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(required=False, widget=forms.PasswordInput)
    otp_token = forms.CharField(required=False, max_length=12)

    def __init__(self, *args, actions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if actions is not None:
            self.fields["action"].choices = [(k, label) for k, label in FINDING_ACTIONS if k in actions]
