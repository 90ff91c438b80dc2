"""Compliance's page for service accounts: create one (its token shown once), rotate its token, revoke it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance.core import access
from governance.core.forms_utils import add_service_errors
from governance.core.models import Desk
from governance.core.selectors import object_timeline
from models_registry import service_accounts
from models_registry.models import Model, ServiceAccount


class ServiceAccountForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The system it belongs to, e.g. 'EQ OMS (prod)'.")
    desk = forms.ModelChoiceField(
        queryset=Desk.objects.order_by("name"),
        required=False,
        to_field_name="code",
        empty_label="No desk",
        help_text="Every model of the desk, now and later.",
    )
    models = forms.CharField(
        required=False,
        help_text="Model keys, separated by commas or spaces (with or without a desk).",
        widget=forms.TextInput(attrs={"list": "model-keys", "autocomplete": "off"}),
    )
    can_read_gate = forms.BooleanField(required=False, initial=True, label="May read the gate")
    can_push = forms.BooleanField(required=False, label="May push monitoring data")

    def clean_models(self):
        keys = sorted(set(self.cleaned_data["models"].replace(",", " ").split()))
        found = list(Model.objects.filter(key__in=keys))
        unknown = sorted(set(keys) - {m.key for m in found})
        if unknown:
            raise forms.ValidationError(f"No model has the key: {', '.join(unknown)}.")
        return found


def _require_compliance(user) -> None:
    if not access.manages_service_accounts(user):
        raise Http404("Not found.")  # nobody else learns which systems hold tokens


def service_account_list(request):
    _require_compliance(request.user)
    form = ServiceAccountForm(request.POST or None)
    token = created = None
    if request.method == "POST":
        if form.is_valid():
            try:
                created, token = service_accounts.service_account_create(request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                form = ServiceAccountForm()
        if token is None:
            messages.error(request, "No account was created: see the form below.")
    return _page(request, form, created, token)


def _page(request, form, account=None, token=None):
    accounts = ServiceAccount.objects.select_related("desk", "user", "created_by", "revoked_by").prefetch_related(
        "scope_models"
    )
    return render(
        request,
        "models_registry/service_accounts.html",
        {
            "form": form,
            "accounts": accounts,
            "new_token": token,
            "token_account": account,
            "model_keys": list(Model.objects.order_by("key").values_list("key", flat=True)),
        },
    )


@require_POST
def service_account_rotate(request, pk):
    _require_compliance(request.user)
    account = get_object_or_404(ServiceAccount, pk=pk)
    try:
        token = service_accounts.service_account_rotate(request.user, account)
    except ValidationError as exc:
        messages.error(request, "; ".join(m for ms in exc.message_dict.values() for m in ms))
        return redirect("models_registry:service-accounts")
    return _page(request, ServiceAccountForm(), account, token)


@require_POST
def service_account_revoke(request, pk):
    _require_compliance(request.user)
    account = get_object_or_404(ServiceAccount, pk=pk)
    service_accounts.service_account_revoke(request.user, account, reason=request.POST.get("reason", "")[:500])
    messages.success(request, f"{account.name} revoked: its token no longer works.")
    return redirect("models_registry:service-accounts")


def service_account_detail(request, pk):
    _require_compliance(request.user)
    account = get_object_or_404(ServiceAccount.objects.select_related("desk", "user"), pk=pk)
    return render(
        request,
        "models_registry/service_account_detail.html",
        {"account": account, "timeline": object_timeline(request.user, account)},
    )
