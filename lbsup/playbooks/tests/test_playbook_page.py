
from django.urls import reverse

from lbsup.demo import PLAYBOOK_DIR
from lbsup.playbooks.actions import do_upload_playbook
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
