
import pytest
from django.urls import reverse

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.demo import PLAYBOOK_DIR
from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook, playbook_diff
from lbsup.playbooks.models import PlaybookVersion
from lbsup.testing.personas import PASSWORD

DEMO = PLAYBOOK_DIR / "bright-smile.yaml"
INDEX = reverse("playbooks:index", args=["bright-smile"])
UPLOAD = reverse("playbooks:upload", args=["bright-smile"])


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def test_it_uploads_a_version_for_approval(client, personas):
    response = login(client, "lena").post(UPLOAD, {"text": DEMO.read_text(), "note": "first"})
    version = PlaybookVersion.objects.get(workspace=personas.dental)
    assert response.url == reverse("playbooks:version", args=["bright-smile", version.number])
    assert (version.state, version.uploaded_by, version.note) == ("pending", personas.lena, "first")


def test_it_shows_validation_errors_with_line_numbers(client, personas):
    text = DEMO.read_text().replace("confidence_threshold:", "confidence_treshold:", 1)
    response = login(client, "lena").post(UPLOAD, {"text": text})
    assert response.status_code == 400
    assert "line " in response.content.decode() and "confidence_treshold" in response.content.decode()
    assert not PlaybookVersion.objects.exists()


def test_it_approves_with_the_approver_shown(client, personas):
    version = do_upload_playbook(personas.lena, personas.dental, DEMO.read_text())
    login(client, "lena").post(reverse("playbooks:approve", args=["bright-smile", version.number]))
    version.refresh_from_db()
    assert (version.state, version.approved_by) == ("active", personas.lena)
    assert "approved by lena" in client.get(INDEX).content.decode()


def test_it_lets_representatives_read_but_not_manage(client, personas):
    version = do_upload_playbook(personas.lena, personas.dental, DEMO.read_text())
    login(client, "alice")
    assert client.get(reverse("playbooks:version", args=["bright-smile", version.number])).status_code == 200
    assert 'id="upload"' not in client.get(INDEX).content.decode()
    assert client.post(reverse("playbooks:approve", args=["bright-smile", version.number])).status_code == 403
    assert client.post(UPLOAD, {"text": DEMO.read_text()}).status_code == 403
    assert login(client, "olivia").get(INDEX).status_code == 403
    assert login(client, "charlie").get(INDEX).status_code == 404


def test_it_shows_a_readable_diff_between_versions(client, personas):
    do_upload_playbook(personas.lena, personas.dental, DEMO.read_text())
    do_upload_playbook(personas.lena, personas.dental,
                       DEMO.read_text().replace("confidence_threshold: 0.4\n", "confidence_threshold: 0.5\n"))
    page = login(client, "lena").get(reverse("playbooks:diff", args=["bright-smile"]), {"new": 2}).content.decode()
    assert '<span class="removed">-confidence_threshold: 0.4</span>' in page
    assert '<span class="added">+confidence_threshold: 0.5</span>' in page


def add_second_approver(personas):
    from django.contrib.auth import get_user_model

    from lbsup.audit.actors import SYSTEM
    from lbsup.workspaces.actions import do_set_membership
    from lbsup.workspaces.models import Role

    dana = get_user_model().objects.create_user("dana", "dana@example.org", PASSWORD)
    do_set_membership(SYSTEM, personas.dental, dana, Role.ADMIN)
    return dana


def test_it_leaves_the_approval_of_an_upload_to_another_lead_or_admin(client, personas):
    dana = add_second_approver(personas)
    version = do_upload_playbook(personas.lena, personas.dental, DEMO.read_text())
    page = login(client, "lena").get(reverse("playbooks:version", args=["bright-smile", version.number])).content.decode()
    assert "another lead or admin approves it (dana)" in page and "Approve and make active" not in page
    refused = client.post(reverse("playbooks:approve", args=["bright-smile", version.number]))
    assert refused.status_code == 403
    version.refresh_from_db()
    assert version.state == "pending"
    with pytest.raises(PermissionError):
        do_approve_playbook(personas.lena, version)

    do_approve_playbook(dana, version)
    version.refresh_from_db()
    assert (version.state, version.approved_by, version.self_approved) == ("active", dana, False)


def test_it_lets_the_only_lead_approve_their_own_upload_and_says_so(client, personas):
    version = do_upload_playbook(personas.lena, personas.dental, DEMO.read_text())
    do_approve_playbook(personas.lena, version)
    version.refresh_from_db()
    assert version.self_approved
    event = AuditEvent.objects.get(verb="playbook.approved", workspace=personas.dental)
    assert event.data["self_approved"] is True
    page = login(client, "alice").get(reverse("playbooks:version", args=["bright-smile", version.number]))
    assert "the workspace's only lead or admin approved their own version" in page.content.decode()


def test_it_stores_windows_line_ends_as_the_same_file(client, personas):
    text = DEMO.read_text()
    first = do_upload_playbook(SYSTEM, personas.dental, text)
    second = do_upload_playbook(SYSTEM, personas.dental, "\ufeff" + text.replace("\n", "\r\n"))
    assert "\r" not in second.text and second.text == first.text and second.content_hash == first.content_hash
    assert playbook_diff(first, second) == ""
    page = login(client, "lena").get(reverse("playbooks:version", args=["bright-smile", second.number]))
    assert "(no changes)" in page.content.decode()


def test_it_shows_the_file_with_its_indentation_highlighted_and_escaped(client, personas):
    text = DEMO.read_text() + "# <script>alert(1)</script>\n"
    version = do_upload_playbook(SYSTEM, personas.dental, text)
    page = login(client, "alice").get(reverse("playbooks:version", args=["bright-smile", version.number]))
    html = page.content.decode()
    indented = next(line for line in text.splitlines() if line.startswith("    ") and ":" in line)
    key = indented.strip().split(":")[0]
    assert f'<span class="w">{indented[:len(indented) - len(indented.lstrip())]}</span><span class="nt">{key}</span>' in html
    assert f'id="L-{len(text.splitlines())}"' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
