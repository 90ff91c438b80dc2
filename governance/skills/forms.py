from django import forms

from governance.skills.models import Duty, Requirement
from models_registry.choices import ModelType


class RequirementForm(forms.Form):
    duty = forms.ChoiceField(choices=Duty.choices)
    kind = forms.ChoiceField(choices=Requirement.Kind.choices)
    title = forms.CharField(max_length=200, help_text="e.g. Model validation training.")
    validity_months = forms.IntegerField(
        min_value=1, max_value=120, initial=12, label="Valid for (months)", help_text="How long a completion holds."
    )
    scope = forms.ChoiceField(choices=Requirement.Scope.choices, initial=Requirement.Scope.ANY)
    model_type = forms.ChoiceField(
        choices=[("", "—"), *ModelType.choices], required=False, help_text="When the scope is a model type."
    )
    model = forms.CharField(
        max_length=100,
        required=False,
        label="Model key",
        help_text="When the scope is one model.",
        widget=forms.TextInput(attrs={"list": "model-keys"}),
    )

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == Requirement.Scope.MODEL_TYPE and not data.get("model_type"):
            self.add_error("model_type", "Choose the model type this requirement covers.")
        if scope == Requirement.Scope.MODEL and not (data.get("model") or "").strip():
            self.add_error("model", "Give the key of the model this requirement covers.")
        return data


class CompletionForm(forms.Form):
    requirement = forms.TypedChoiceField(coerce=int, choices=())
    person = forms.CharField(max_length=150, help_text="Username.", widget=forms.TextInput(attrs={"list": "people"}))
    completed_on = forms.DateField(help_text="YYYY-MM-DD", widget=forms.DateInput(attrs={"type": "date"}))
    evidence = forms.CharField(
        max_length=500,
        label="Evidence reference or note",
        help_text="A certificate number, an attendance list, a note.",
    )

    def __init__(self, *args, requirements=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirement"].choices = [
            (r.pk, f"{r.title} ({r.get_duty_display()}, {r.scope_text})") for r in requirements
        ]


class RetireForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Why it no longer binds anyone.")
