"""The playbook page: leads upload, compare, replay and approve versions (the CLI's actions);
representatives read the versions."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from lbsup.assist.playbook import MAX_PLAYBOOK_BYTES, PlaybookError
from lbsup.reports.actions import do_start_replay
from lbsup.reports.models import ReplayRun
from lbsup.workspaces.access import membership_or_404

from .actions import (
    APPROVER_ROLES,
    do_approve_playbook,
    do_reject_playbook,
    do_upload_playbook,
    playbook_diff,
    self_approval_refusal,
)
from .models import PlaybookVersion
from .replay import FIELDS, ReplayReport
from .source_view import highlighted_yaml

DEFAULT_REPLAY_DAYS = 30


def _versions(workspace):
    return PlaybookVersion.objects.filter(workspace=workspace).select_related("uploaded_by", "approved_by")


def _version(workspace, number):
    return get_object_or_404(_versions(workspace), number=number)


def _page(request, membership, *, problems=(), text="", status=200):
    workspace = membership.workspace
    versions = list(_versions(workspace))
    return render(request, "playbooks/index.html", {
        "workspace": workspace, "membership": membership, "versions": versions,
        "active": next((v for v in versions if v.state == PlaybookVersion.State.ACTIVE), None),
        "can_manage": membership.role in APPROVER_ROLES, "problems": problems, "text": text,
    }, status=status)


@login_required
def index(request, slug):
    return _page(request, membership_or_404(request.user, slug))


@login_required
@require_POST
def upload(request, slug):
    membership = membership_or_404(request.user, slug, roles=APPROVER_ROLES)
    upload_file = request.FILES.get("file")
    if upload_file is not None:
        if upload_file.size > MAX_PLAYBOOK_BYTES:
            return _page(request, membership, problems=[f"The file is larger than {MAX_PLAYBOOK_BYTES} bytes"],
                         status=400)
        try:
            text = upload_file.read().decode("utf-8")
        except UnicodeDecodeError:
            return _page(request, membership, problems=["The file is not UTF-8 text"], status=400)
        source = upload_file.name
    else:
        text, source = request.POST.get("text", ""), "<upload>"
    try:
        version = do_upload_playbook(request.user, membership.workspace, text, note=request.POST.get("note", ""),
                                     source=source)
    except PlaybookError as error:
        return _page(request, membership, problems=[str(p) for p in error.problems], text=text, status=400)
    return redirect("playbooks:version", slug=slug, number=version.number)


@login_required
def version_detail(request, slug, number):
    membership = membership_or_404(request.user, slug)
    version = _version(membership.workspace, number)
    previous = _versions(membership.workspace).filter(number__lt=number).first()
    active = _versions(membership.workspace).filter(state=PlaybookVersion.State.ACTIVE).exclude(pk=version.pk).first()
    compare_with = active or previous
    return render(request, "playbooks/version.html", {
        "workspace": membership.workspace, "membership": membership, "version": version,
        "source": highlighted_yaml(version.text), "compare_with": compare_with,
        "approval_refusal": self_approval_refusal(request.user, version),
        "diff_lines": playbook_diff(compare_with, version).splitlines() if compare_with else [],
        "can_manage": membership.role in APPROVER_ROLES,
        "runs": ReplayRun.objects.filter(playbook_version=version)[:5], "default_days": DEFAULT_REPLAY_DAYS,
    })


@login_required
def diff(request, slug):
    membership = membership_or_404(request.user, slug)
    versions = _versions(membership.workspace)
    try:
        new = _version(membership.workspace, int(request.GET.get("new", "")))
        old_number = request.GET.get("old", "")
        old = _version(membership.workspace, int(old_number)) if old_number else versions.filter(
            number__lt=new.number).first()
    except ValueError:
        return render(request, "playbooks/diff.html", {"workspace": membership.workspace, "versions": versions,
                                                       "error": "Choose two versions"}, status=400)
    return render(request, "playbooks/diff.html", {
        "workspace": membership.workspace, "membership": membership, "versions": versions, "old": old, "new": new,
        "diff_lines": playbook_diff(old, new).splitlines(),
    })


def _problem(request, membership, version, error, status=409):
    return render(request, "playbooks/problem.html", {"workspace": membership.workspace, "version": version,
                                                      "message": str(error)}, status=status)


@login_required
@require_POST
def approve(request, slug, number):
    membership = membership_or_404(request.user, slug, roles=APPROVER_ROLES)
    version = _version(membership.workspace, number)
    try:
        do_approve_playbook(request.user, version)
    except ValueError as error:
        return _problem(request, membership, version, error)
    except PermissionError as error:
        return _problem(request, membership, version, error, status=403)
    return redirect("playbooks:index", slug=slug)


@login_required
@require_POST
def reject(request, slug, number):
    membership = membership_or_404(request.user, slug, roles=APPROVER_ROLES)
    version = _version(membership.workspace, number)
    try:
        do_reject_playbook(request.user, version, request.POST.get("reason", ""))
    except ValueError as error:
        return _problem(request, membership, version, error)
    return redirect("playbooks:index", slug=slug)


@login_required
@require_POST
def start_replay(request, slug, number):
    membership = membership_or_404(request.user, slug, roles=APPROVER_ROLES)
    version = _version(membership.workspace, number)
    try:
        run = do_start_replay(request.user, version, days=int(request.POST.get("days", DEFAULT_REPLAY_DAYS)))
    except ValueError as error:
        return _problem(request, membership, version, error, status=400)
    return redirect("playbooks:replay", slug=slug, run_id=run.pk)


def _run(request, slug, run_id):
    membership = membership_or_404(request.user, slug, roles=APPROVER_ROLES)
    run = get_object_or_404(ReplayRun.objects.select_related("playbook_version"), pk=run_id,
                            workspace=membership.workspace)
    return membership, run


@login_required
def replay_detail(request, slug, run_id):
    membership, run = _run(request, slug, run_id)
    report = ReplayReport.from_dict(run.result) if run.state == ReplayRun.State.DONE else None
    return render(request, "playbooks/replay.html", {
        "workspace": membership.workspace, "membership": membership, "run": run, "report": report,
        "fields": FIELDS, "version": run.playbook_version,
    })


@login_required
def replay_progress(request, slug, run_id):
    _, run = _run(request, slug, run_id)
    return JsonResponse({"state": run.state, "done": run.done, "total": run.total, "percent": run.percent,
                         "error": run.error})
