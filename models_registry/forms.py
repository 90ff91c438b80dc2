"""Forms of the inventory pages. They validate fields; business rules stay in services."""

from django import forms
from django.contrib.auth import get_user_model

from governance.core import access as perms
from governance.core.forms import UserChoiceField, UserMultipleChoiceField
from governance.core.roles import Role, users_with_role
from models_registry import access as inventory_access
from models_registry import services
from models_registry.choices import AssetClass
from models_registry.models import DataSource, Model, ModelRisk, ModelVersion
from models_registry.risk_register import FIELDS as RISK_FIELDS
from models_registry.services import DATA_SOURCE_FIELDS, MODEL_COMPLIANCE_FIELDS, MODEL_INPUT_FIELDS

User = get_user_model()


class ModelRecordForm(forms.ModelForm):
    """Create or edit a model. Fields reserved to compliance are left out for everyone else."""

    asset_classes = forms.MultipleChoiceField(
        choices=AssetClass.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    developers = UserMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    upstream_models = forms.ModelMultipleChoiceField(
        queryset=Model.objects.none(),
        required=False,
        to_field_name="key",
        label="Fed by (upstream models)",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the record changes; kept in the audit trail.",
    )
    grant_training_data = forms.BooleanField(
        required=False,
        initial=True,
        label="Grant the validator read access to the restricted training data",
        help_text="Independent validation needs the data; each grant is recorded in the audit trail.",
    )

    class Meta:
        model = Model
        fields = MODEL_INPUT_FIELDS
        field_classes = {"owner": UserChoiceField, "validator": UserChoiceField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "intended_use": forms.Textarea(attrs={"rows": 3}),
            "known_limitations": forms.Textarea(attrs={"rows": 3}),
            "use_restrictions": forms.Textarea(attrs={"rows": 2}),
            "objectives": forms.Textarea(attrs={"rows": 3}),
            "success_criteria": forms.Textarea(attrs={"rows": 3, "class": "mono"}),
            "constraints": forms.Textarea(attrs={"rows": 2}),
            "infrastructure_needs": forms.Textarea(attrs={"rows": 2}),
            "out_of_scope_uses": forms.Textarea(attrs={"rows": 2}),
            "operating_boundaries": forms.Textarea(attrs={"rows": 3, "class": "mono"}),
            "tier_override_justification": forms.Textarea(attrs={"rows": 2}),
            "last_validated_at": forms.DateInput(attrs={"type": "date"}),
            "next_validation_due": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        compliance = inventory_access.sets_compliance_fields(user)
        self.fields["developers"].queryset = users_with_role(Role.DEVELOPER)
        self.fields["owner"].queryset = users_with_role(Role.OWNER)
        self.fields["validator"].queryset = users_with_role(Role.VALIDATOR)
        visible = perms.restrict(Model.objects.all(), user).order_by("key")
        self.fields["upstream_models"].queryset = visible.exclude(pk=self.instance.pk) if editing else visible
        if editing:
            del self.fields["key"]
            self.initial["developers"] = list(self.instance.developers.all())
            self.initial["upstream_models"] = list(Model.objects.filter(downstream_links__downstream=self.instance))
        else:
            del self.fields["reason"]
        if not (compliance and editing and services.has_restricted_training_data(self.instance)):
            self.fields.pop("grant_training_data")  # only compliance grants, and only where there is such data
        if not compliance:
            for name in MODEL_COMPLIANCE_FIELDS:
                if name == "owner" and not editing and not inventory_access.registers_as_owner(user):
                    continue  # a developer registering a model must name its owner
                self.fields.pop(name, None)
        if "owner" in self.fields and not editing and inventory_access.registers_as_owner(user):
            self.fields["owner"].required = False
            self.fields["owner"].help_text = "Leave empty to own the model yourself."

    def clean_success_criteria(self):
        value = self.cleaned_data.get("success_criteria")
        return [] if value is None else value  # an emptied box is no criterion, not null

    def clean_operating_boundaries(self):
        value = self.cleaned_data.get("operating_boundaries")
        return [] if value is None else value

    def _post_clean(self):
        # Uniqueness of the key is checked here; every other rule is the service's, on save.
        if "key" in self.fields and self.cleaned_data.get("key"):
            if Model.objects.filter(key=self.cleaned_data["key"]).exists():
                self.add_error("key", "A model with this key already exists.")

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if self.instance.pk is None:
            data.pop("reason", None)
        return data


class ModelVersionForm(forms.ModelForm):
    training_sources = forms.ModelMultipleChoiceField(
        queryset=DataSource.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    inference_sources = forms.ModelMultipleChoiceField(
        queryset=DataSource.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "artifact_uri",
            "artifact_sha256",
            "code_revision",
            "training_data_ref",
            "hyperparameters",
            "claimed_performance",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "hyperparameters": forms.Textarea(attrs={"rows": 4, "class": "mono"}),
            "claimed_performance": forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        }
        help_texts = {
            "hyperparameters": 'JSON object, e.g. {"max_depth": 6, "learning_rate": 0.05}.',
            "claimed_performance": 'JSON object of metric name to number, e.g. {"sharpe": 1.4, "auc": 0.61}.',
        }

    def __init__(self, *args, user, links=None, **kwargs):
        super().__init__(*args, **kwargs)
        visible = perms.restrict(DataSource.objects.all(), user).order_by("name")
        self.fields["training_sources"].queryset = visible
        self.fields["inference_sources"].queryset = visible
        if self.instance.pk is not None:
            del self.fields["version"]
            links = links or []
            self.initial["training_sources"] = [ln.data_source_id for ln in links if ln.usage == "training"]
            self.initial["inference_sources"] = [ln.data_source_id for ln in links if ln.usage == "inference"]
        else:
            del self.fields["reason"]

    def _post_clean(self):
        """Field validators only; uniqueness and freezing are checked by the service."""
        for name in ("hyperparameters", "claimed_performance", "artifact_sha256"):
            if name in self.cleaned_data:
                field = ModelVersion._meta.get_field(name)
                try:
                    field.run_validators(self.cleaned_data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)


class DataSourceForm(forms.ModelForm):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = DataSource
        fields = DATA_SOURCE_FIELDS
        field_classes = {"owner": UserChoiceField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "quality_rules": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Leave empty to own it yourself."
        if self.instance.pk is None:
            del self.fields["reason"]
        elif not inventory_access.sets_compliance_fields(user):
            del self.fields["owner"]

    def _post_clean(self):
        pass  # the service runs full_clean and reports duplicates by field

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class AccessGrantForm(forms.Form):
    user = UserChoiceField(queryset=User.objects.filter(is_active=True).order_by("username"))
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ModelRiskForm(forms.ModelForm):
    class Meta:
        model = ModelRisk
        fields = RISK_FIELDS
        field_classes = {"owner": UserChoiceField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "mitigations": forms.Textarea(attrs={"rows": 2}),
            "next_review": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {
            "likelihood": "Inherent likelihood (1-5)",
            "impact": "Inherent impact (1-5)",
            "residual_likelihood": "Residual likelihood (1-5)",
            "residual_impact": "Residual impact (1-5)",
        }

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners

    def _post_clean(self):
        pass  # the service runs full_clean
