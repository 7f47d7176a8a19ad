
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lbsup.assist.playbook import PlaybookError
from lbsup.audit.models import AuditEvent
from lbsup.demo import PLAYBOOK_DIR
from lbsup.playbooks.actions import (
    do_approve_playbook,
    do_upload_playbook,
    playbook_diff,
)
from lbsup.playbooks.active import NoActivePlaybook, active_playbook

DEMO = PLAYBOOK_DIR


def dental_text():
    return (DEMO / "bright-smile.yaml").read_text()


def test_it_uses_a_version_only_after_a_lead_approves_it(personas):
    version = do_upload_playbook(personas.lena, personas.dental, dental_text())
    assert version.state == "pending"
    with pytest.raises(NoActivePlaybook):
        active_playbook(personas.dental)
    do_approve_playbook(personas.lena, version)
    active, playbook = active_playbook(personas.dental)
    assert active.pk == version.pk
    assert active.approved_by == personas.lena and active.approved_at is not None
    assert "appointment" in {c.slug for c in playbook.categories}
    assert AuditEvent.objects.filter(verb="playbook.approved", actor_user=personas.lena).exists()


@pytest.mark.parametrize("who", ["alice", "olivia", "charlie"])
def test_it_refuses_approval_by_anyone_but_a_lead_or_admin(personas, who):
    version = do_upload_playbook(personas.lena, personas.dental, dental_text())
    with pytest.raises(PermissionError):
        do_approve_playbook(getattr(personas, who), version)
    version.refresh_from_db()
    assert version.state == "pending"


def test_it_supersedes_the_previous_version_and_shows_the_diff(personas):
    first = do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, dental_text()))
    changed = dental_text().replace("confidence_threshold:", "confidence_threshold: 0.5 #", 1)
    second = do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, changed))
    first.refresh_from_db()
    assert (first.state, second.state) == ("superseded", "active")
    diff = playbook_diff(first, second)
    assert "-confidence_threshold:" in diff and "+confidence_threshold: 0.5 #" in diff


def test_it_refuses_a_playbook_written_for_another_workspace(personas):
    with pytest.raises(PlaybookError) as error:
        do_upload_playbook(personas.lena, personas.dental, (DEMO / "northwind.yaml").read_text())
    assert "northwind" in str(error.value)


def test_it_stores_nothing_for_an_invalid_playbook(personas):
    with pytest.raises(PlaybookError):
        do_upload_playbook(personas.lena, personas.dental, "workspace: bright-smile\ncategories: 7\n")
    assert not personas.dental.playbook_versions.exists()


def test_it_checks_a_file_from_the_command_line(capsys):
    call_command("playbook", "check", str(DEMO / "northwind.yaml"))
    assert "ok" in capsys.readouterr().out


def test_it_prints_every_problem_with_line_and_field(tmp_path, capsys):
    broken = dental_text().replace("tools_allowed: [", "tools_allowed: [send, ", 1)
    assert broken != dental_text()
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    with pytest.raises(CommandError):
        call_command("playbook", "check", str(path))
    err = capsys.readouterr().err
    assert f"{path}:" in err and "tools_allowed" in err and "send" in err


def test_it_loads_and_approves_from_the_command_line(personas, capsys):
    path = DEMO / "bright-smile.yaml"
    call_command("playbook", "load", "--workspace", "bright-smile", str(path), "--approve-as", "lena")
    assert active_playbook(personas.dental)[0].approved_by == personas.lena
    call_command("playbook", "load", "--workspace", "bright-smile", str(path))
    assert "waiting for a lead" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("playbook", "load", "--workspace", "bright-smile", str(path), "--approve-as", "alice")
