"""Thread pages: the thread (comments, replies, edits, resolve and reopen, raise an incident or a finding), opening
one from a record's page, and the panels that list a record's threads on its page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.core.selectors import object_timeline
from risk.threads import access as threads_access
from risk.threads import rendering, selectors, services, targets
from risk.threads.forms import CommentForm, EditForm, FindingForm, IncidentForm, SettleForm, ThreadForm
from risk.threads.models import Comment


def _refused(form, exc) -> int:
    if isinstance(exc, ValidationError):
        add_service_errors(form, exc)
        return 400
    form.add_error(None, str(exc.reasons[0] if isinstance(exc, Conflict) else exc))
    return 409 if isinstance(exc, Conflict) else 403


def thread_detail(request, pk):
    user = request.user
    thread = selectors.thread_get_for_user(user, pk)
    target, record = selectors.record_of(user, thread)
    action = request.POST.get("action") if request.method == "POST" else None
    bound, status = {}, 200
    if action is not None:
        form, act = _bound(request, thread, action)
        bound[action] = form
        if form.is_valid():
            try:
                act(form.cleaned_data)
            except (ValidationError, PermissionDenied, Conflict) as exc:
                status = _refused(form, exc)
            else:
                messages.success(request, DONE[action].format(ref=thread.reference))
                return redirect("threads:detail", pk=thread.pk)
        else:
            status = 400
        messages.error(request, "Nothing was changed: see the form below.")
    services.thread_read(user, thread)
    takes_part = threads_access.takes_part(user)
    may_settle = threads_access.may_resolve(user, thread)
    comments = list(thread.comments.all())
    editable = {c.pk for c in comments if threads_access.may_edit(user, c) and not services.read_by_others(c)}
    numbers = {c.pk: i for i, c in enumerate(comments, 1)}  # as the page numbers them: never database ids
    for comment in comments:
        comment.html = rendering.render(comment.body)
        comment.editable = comment.pk in editable
        comment.reply_number = numbers.get(comment.reply_to_id)
    context = {
        "thread": thread,
        "target": target,
        "record": record,
        "record_name": target.name(record),
        "record_url": target.url(record),
        "comments": comments,
        "comment_form": bound.get("comment") or (CommentForm(auto_id="comment_%s") if takes_part else None),
        "edit_form": bound.get("edit"),
        "settle_form": bound.get("resolve")
        or bound.get("reopen")
        or (SettleForm(auto_id="settle_%s") if may_settle else None),
        "incident_form": bound.get("incident")
        or (
            IncidentForm(auto_id="incident_%s")
            if not thread.incident_id and threads_access.offers_incident(user, thread)
            else None
        ),
        "finding_form": bound.get("finding")
        or (
            FindingForm(model=thread.model, auto_id="finding_%s")
            if not thread.finding_id and threads_access.offers_finding(user, thread)
            else None
        ),
        "may_settle": may_settle,
        "challenge_note": thread.challenge and thread.is_open and not may_settle,
        "timeline": object_timeline(user, thread),
    }
    return render(request, "threads/thread.html", context, status=status)


DONE = {
    "comment": "Comment added to {ref}.",
    "edit": "Comment corrected.",
    "resolve": "{ref} resolved.",
    "reopen": "{ref} reopened.",
    "incident": "Incident raised from {ref}.",
    "finding": "Finding raised from {ref}.",
}


def _comment_of(thread, pk):
    comment = Comment.objects.filter(thread=thread, pk=pk).select_related("thread").first()
    if comment is None:
        raise ValidationError({"comment": ["Choose a comment of this thread."]})
    return comment


def _bound(request, thread, action):
    user, data = request.user, request.POST
    if action == "comment":
        form = CommentForm(data, auto_id="comment_%s")
        return form, lambda v: services.comment_add(
            user, thread, v["body"], reply_to=_comment_of(thread, v["reply_to"]) if v.get("reply_to") else None
        )
    if action == "edit":
        form = EditForm(data, auto_id="edit_%s")
        return form, lambda v: services.comment_edit(user, _comment_of(thread, v["comment"]), v["body"])
    if action in ("resolve", "reopen"):
        settle = services.thread_resolve if action == "resolve" else services.thread_reopen
        return SettleForm(data, auto_id="settle_%s"), lambda v: settle(user, thread, v.get("note", ""))
    if action == "incident":
        return IncidentForm(data, auto_id="incident_%s"), lambda v: services.thread_raise_incident(user, thread, **v)
    if action == "finding":
        return FindingForm(data, model=thread.model, auto_id="finding_%s"), lambda v: services.thread_raise_finding(
            user, thread, **v
        )
    raise Http404("No such action.")


@require_POST
def thread_new(request):
    """Open a thread from a record's page (its panel's form). Refused, the form comes back on a page of its own."""
    form = ThreadForm(request.POST)
    status = 400
    if form.is_valid():
        values = form.cleaned_data
        try:
            thread = services.thread_open(
                request.user, values["kind"], values["record"], title=values["title"], body=values["body"]
            )
        except (ValidationError, PermissionDenied, Conflict) as exc:
            status = _refused(form, exc)
        else:
            messages.success(request, f"{thread.reference} opened.")
            return redirect("threads:detail", pk=thread.pk)
    target = targets.get(form.data.get("kind", ""))
    if target is None:
        raise Http404("Not found.")
    record = target.fetch(request.user, form.data.get("record"))
    return render(
        request,
        "threads/new.html",
        {"form": form, "record_name": target.name(record), "record_url": target.url(record)},
        status=status,
    )


# --- Panels ------------------------------------------------------------------------------------------------


def _panel_for(kind):
    def context(request, record):
        user = request.user
        target = targets.get(kind)
        threads = selectors.threads_on(user, kind, record.pk)
        raised = []
        if kind == "incident":
            raised = selectors.raised_from(user, incident=record)
        elif kind == "finding":
            raised = selectors.raised_from(user, finding=record)
        form = None
        if threads_access.takes_part(user):
            form = ThreadForm(initial={"kind": kind, "record": record.pk}, auto_id="thread_%s")
        return {"threads": threads, "raised_from": raised, "thread_form": form, "thread_target_label": target.label}

    return context


def model_panel(request, model):
    """The model page's review threads and challenge figures."""
    threads = list(selectors.thread_list(request.user).filter(model=model)[:50])
    return {"model_threads": threads, "challenge_rows": selectors.challenge_figures(request.user, models=[model])}
