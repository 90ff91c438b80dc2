"""Core pages: signing in (with the second factor) and enrolling an authenticator; the governance policy (read by
everyone, published by compliance); auditors' access windows (compliance sets them, an auditor reads their own);
a person's API tokens."""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.core import access, access_window, api_tokens, indicators, second_factor
from governance.core.forms import AccessWindowForm, LoginForm, OTPEnrolForm, PolicyForm
from governance.core.forms_utils import add_service_errors
from governance.core.models import GovernancePolicy
from governance.core.policy import (
    ACKNOWLEDGING_WORDS,
    SECOND_FACTOR_ROLES,
    SEVERITIES,
    TIERS,
    policy_in_force,
    policy_publish,
)
from governance.core.roles import Role


class LoginView(auth_views.LoginView):
    """Django's login with the second factor: the code of a person's authenticator marks the session verified
    (django-otp); a person whose role must sign with one and has none is sent to enrol."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.otp_device is not None:
            otp_login(self.request, form.otp_device)
        missing = second_factor.missing(self.request.user)
        if missing:
            messages.warning(self.request, missing.replace("; nothing was signed.", "."))
            return redirect("governance:two-factor")
        return response


@method_decorator(never_cache, name="dispatch")
class TwoFactorView(TemplateView):
    """Enrol an authenticator app: the secret as a QR code and as text, confirmed with a current code (audited).
    Someone who has one sees that they have it; an administrator replaces a lost one."""

    template_name = "governance/two_factor.html"

    def get(self, request, form=None, status=200):
        user = request.user
        context = {"has_device": second_factor.has_device(user), "required_of": second_factor.roles_requiring(user)}
        if not context["has_device"]:
            device = second_factor.enrolment_device(user)
            context |= {
                "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#111"),
                "secret": device.config_url.split("secret=", 1)[1].split("&", 1)[0],
                "config_url": device.config_url,
                "form": form or OTPEnrolForm(),
            }
        return self.render_to_response(self.get_context_data(**context), status=status)

    def post(self, request):
        form = OTPEnrolForm(request.POST)
        if form.is_valid():
            try:
                device = second_factor.device_confirm(request.user, form.cleaned_data["otp_token"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                otp_login(request, device)
                messages.success(
                    request, "Your authenticator is enrolled: Vigil asks for its code at login and signing."
                )
                return redirect("governance:two-factor")
        return self.get(request, form=form, status=400)


def policy(request):
    """The policy in force and its history; compliance publishes a new version. A refusal (a value of the wrong type
    or against a rule of `policy_publish`) is a 400 with the form as typed and each error beside its field, and
    publishes nothing."""
    is_compliance = access.may_publish_policy(request.user)
    current = policy_in_force()
    rows = indicator_rows(current)
    form, status = (PolicyForm(policy=current, indicator_rows=rows) if is_compliance else None), 200
    if request.method == "POST":
        if not is_compliance:
            raise PermissionDenied("Only compliance publishes governance policy.")
        form = PolicyForm(request.POST, policy=current, indicator_rows=rows)
        if form.is_valid():
            try:
                published = policy_publish(request.user, **form.as_fields())
            except ValidationError as exc:
                form.add_publish_errors(exc)
            else:
                messages.success(request, f"Policy v{published.version} published; it governs decisions from now on.")
                return redirect("governance:policy")
        status = 400
    tiers = [
        {
            "tier": t,
            "months": current.revalidation_months[t],
            "approvals": current.approvals_required[t],
            "suspend": current.incident_response["suspend"][t],
            "revalidation": current.incident_response["revalidation"][t],
            "ongoing_months": current.ongoing_months_for(int(t)),
            "ongoing_flag": current.regression_requires_revalidation(int(t)),
            "acknowledge": [ACKNOWLEDGING_WORDS[p] for p in current.acknowledgements_for(int(t))],
        }
        for t in TIERS
    ]
    roles = second_factor_rows(current)
    return render(
        request,
        "governance/policy.html",
        {
            "current": current,
            "tiers": tiers,
            "severities": SEVERITIES,
            "history": GovernancePolicy.objects.select_related("published_by"),
            "second_factor": roles,
            "risk_indicators": rows,
            "is_compliance": is_compliance,
            "form": form,
            **(_form_groups(form, rows, roles) if form else {}),
        },
        status=status,
    )


def _form_groups(form, indicators_in_force, roles) -> dict:
    """The form's fields grouped as the page lays them out: by tier, by role, by indicator."""
    tiers = [
        {
            "tier": t,
            "months": form[f"months_{t}"],
            "approvals": form[f"approvals_{t}"],
            "suspend": [form[f"suspend_{t}_{v}"] for v in SEVERITIES],
            "revalidation": [form[f"revalidation_{t}_{v}"] for v in SEVERITIES],
            "ongoing": form[f"ongoing_{t}"],
            "ongoing_flag": form[f"ongoing_flag_{t}"],
            "acknowledge": [form[f"ack_{party}_{t}"] for party in ACKNOWLEDGING_WORDS],
        }
        for t in TIERS
    ]
    return {
        "form_tiers": tiers,
        "form_roles": [{**r, "field": form[f"second_factor_{r['role']}"]} for r in roles],
        "form_indicators": [
            {
                **r,
                "amber_field": form[f"kri_{r['indicator'].key}_amber"],
                "red_field": form[f"kri_{r['indicator'].key}_red"],
            }
            for r in indicators_in_force
        ],
    }


def indicator_rows(policy) -> list[dict]:
    """Each key risk indicator with the thresholds in force and where they come from."""
    rows = []
    for indicator in indicators.all_indicators():
        amber, red, source = indicators.thresholds(policy, indicator)
        rule = indicators.rule_text(amber, red)
        rows.append({"indicator": indicator, "amber": amber, "red": red, "source": source, "rule": rule})
    return rows


def second_factor_rows(policy) -> list[dict]:
    """Each role, whether the policy requires a second factor of it, and how many of its active holders have no
    confirmed authenticator yet (who would be refused at signing if it were required)."""
    with_device = TOTPDevice.objects.filter(confirmed=True).values("user_id")
    without = dict(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=SECOND_FACTOR_ROLES)
        .exclude(pk__in=with_device)
        .values_list("groups__name")
        .annotate(n=Count("pk", distinct=True))
    )
    return [
        {
            "role": role,
            "label": Role(role).label,
            "required": role in (policy.second_factor_required or []),
            "without": without.get(role, 0),
        }
        for role in SECOND_FACTOR_ROLES
    ]


def _auditors():
    return get_user_model().objects.filter(groups__name=Role.AUDITOR, is_active=True).select_related("profile")


def _state(start, end, now) -> str:
    if start and now < start:
        return "not yet open"
    if end and now >= end:
        return "ended"
    return "open" if start or end else "no limit"


def auditor_access(request):
    """Compliance: every auditor with their window, each editable. An auditor: their own. Others: 404."""
    is_compliance = access_window.sets_windows(request.user)
    if not access_window.reads_windows(request.user):
        raise Http404("Not found.")
    people = _auditors().order_by("username") if is_compliance else _auditors().filter(pk=request.user.pk)
    posted = None
    if request.method == "POST":
        if not is_compliance:
            raise PermissionDenied("Only compliance sets auditors' access.")
        auditor = get_object_or_404(people, pk=request.POST.get("user"))
        posted = (auditor.pk, AccessWindowForm(request.POST))
        form = posted[1]
        if form.is_valid():
            try:
                access_window.set_window(
                    request.user, auditor, form.cleaned_data["access_from"], form.cleaned_data["access_until"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Access window of {auditor.get_full_name() or auditor} saved.")
                return redirect("governance:auditor-access")
    now, rows = timezone.now(), []
    for person in people:
        profile = getattr(person, "profile", None)
        start, end = (profile.access_from, profile.access_until) if profile else (None, None)
        form = (
            posted[1]
            if posted and posted[0] == person.pk
            else AccessWindowForm(initial={"access_from": start, "access_until": end})
        )
        rows.append({"person": person, "start": start, "end": end, "state": _state(start, end, now), "form": form})
    failed = posted is not None
    return render(
        request,
        "governance/auditor_access.html",
        {"rows": rows, "is_compliance": is_compliance},
        status=400 if failed else 200,
    )


def api_tokens_page(request):
    """A person's live API tokens (never their secrets): revoke one, or sign out everywhere (every token and every
    web session, this one included)."""
    if request.method == "POST":
        if request.POST.get("action") == "sign_out_everywhere":
            tokens, sessions = api_tokens.sign_out_everywhere(request)
            messages.success(
                request,
                f"Signed out everywhere: {tokens} API token{pluralize(tokens)} and {sessions} other web "
                f"session{pluralize(sessions)} ended, and this one. Sign in again to continue.",
            )
            return redirect(settings.LOGIN_URL)
        try:
            token_id = int(request.POST.get("token", ""))
        except ValueError:
            raise Http404("No such live token of yours.") from None
        prefix = api_tokens.token_revoke(request.user, token_id)
        messages.success(request, f"Token {prefix}… revoked: it is refused from now on.")
        return redirect("governance:api-tokens")
    return render(
        request,
        "governance/api_tokens.html",
        {
            "tokens": api_tokens.tokens_of(request.user),
            "lifetime_hours": settings.VIGIL_API_TOKEN_LIFETIME_HOURS,
            "token_url": request.build_absolute_uri("/api/v1/auth/token/"),
        },
    )
