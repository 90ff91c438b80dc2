"""Core pages: the governance policy (read by everyone, published by compliance)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from governance.core.forms_utils import errors_to_messages
from governance.core.models import GovernancePolicy
from governance.core.policy import SEVERITIES, TIERS, policy_in_force, policy_publish
from governance.core.roles import Role, user_roles


def policy(request):
    is_compliance = Role.COMPLIANCE in user_roles(request.user)
    if request.method == "POST":
        if not is_compliance:
            raise PermissionDenied("Only compliance publishes governance policy.")
        try:
            fields = {
                "profile": request.POST.get("profile", "").strip() or None,
                "revalidation_months": {t: int(request.POST.get(f"months_{t}", "")) for t in ("1", "2", "3")},
                "approvals_required": {t: int(request.POST.get(f"approvals_{t}", "")) for t in ("1", "2", "3")},
                "notes": request.POST.get("notes", "")[:5000],
                "incident_response": {
                    effect: {t: [v for v in SEVERITIES if request.POST.get(f"{effect}_{t}_{v}")] for t in TIERS}
                    for effect in ("suspend", "revalidation")
                },
            }
        except ValueError:
            messages.error(request, "Give whole numbers for every tier.")
        else:
            try:
                published = policy_publish(request.user, **fields)
            except ValidationError as exc:
                errors_to_messages(request, exc)
            else:
                messages.success(request, f"Policy v{published.version} published; it governs decisions from now on.")
                return redirect("governance:policy")
    current = policy_in_force()
    tiers = [
        {
            "tier": t,
            "months": current.revalidation_months[t],
            "approvals": current.approvals_required[t],
            "suspend": current.incident_response["suspend"][t],
            "revalidation": current.incident_response["revalidation"][t],
        }
        for t in TIERS
    ]
    return render(
        request,
        "governance/policy.html",
        {
            "current": current,
            "tiers": tiers,
            "severities": SEVERITIES,
            "history": GovernancePolicy.objects.select_related("published_by"),
            "is_compliance": is_compliance,
        },
    )
