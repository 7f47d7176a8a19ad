"""Replay on a fixture history: four tickets triaged under the demo playbook, and a candidate
that (1) sends insurance to the front desk instead of billing, (2) escalates any mention of
parking, and (3) renames the `hours` reply
`opening-hours` (same examples, so the model is the same). Expected, ticket by ticket:
- "Is there parking near your office?"  escalation (no -> yes) and team (front-desk -> manager)
- "Do you accept Delta Dental?"          team (billing -> front-desk)
- "What time do you close on Friday?"    reply (hours -> opening-hours)
- "Can I move my cleaning to Tuesday?"   nothing
"""


import pytest
from django.core.management import call_command
from django.urls import reverse

from lbsup.assist.playbook import load_playbook
from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_create_contact
from lbsup.demo import PLAYBOOK_DIR
from lbsup.playbooks.actions import do_upload_playbook
from lbsup.playbooks.replay import replay_playbook
from lbsup.reports.models import ReplayRun
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.actions import do_create_ticket
from lbsup.triage.actions import do_triage_message

DEMO = PLAYBOOK_DIR / "bright-smile.yaml"
HOURS_REPLY = '''      - id: hours
        description: Opening hours and address.
        examples: ["What are your hours on Friday?", "Are you open on Saturday?", "what time do you close"]
        template: "We're open {business_hours} at {business_address}."
        slots: []
'''
MESSAGES = [
    ("Parking", "Is there parking near your office?"),
    ("Insurance", "Do you accept Delta Dental?"),
    ("Closing time", "What time do you close on Friday?"),
    ("Cleaning", "Can I move my cleaning to Tuesday?"),
]


def candidate_text():
    text = DEMO.read_text()
    text = text.replace("    team: billing\n    handling: routine\n    examples:\n      - Do you accept Delta Dental?",
                        "    team: front-desk\n    handling: routine\n    examples:\n      - Do you accept Delta Dental?")
    text = text.replace(HOURS_REPLY, HOURS_REPLY.replace("id: hours", "id: opening-hours"))
    return text + "  - id: parking_question\n    description: Parking goes to the manager.\n    words: [parking]\n"




@pytest.fixture
def history(personas, dental_playbook):
    tickets = {}
    for n, (subject, text) in enumerate(MESSAGES):
        contact = do_create_contact(SYSTEM, personas.dental, name=f"Patient {n}", emails=[f"p{n}@mailbox.example"])
        ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject=subject, channel="email", text=text)
        do_triage_message(ticket.messages.get())
        tickets[subject] = ticket
    return tickets


def test_it_reports_exactly_what_the_candidate_would_change(personas, history):
    report = replay_playbook(personas.dental, load_playbook(candidate_text()), days=7)
    changes = {row.subject: row.changes for row in report.changed}
    assert report.tickets == 5  # the four above and the persona's own ticket
    assert changes == {"Parking": ("escalation", "team"), "Insurance": ("team",), "Closing time": ("reply",)}
    assert report.counts == {"category": 0, "escalation": 1, "team": 2, "reply": 1}
    rows = {row.subject: row for row in report.changed}
    assert (rows["Parking"].before.team, rows["Parking"].after.team) == ("front-desk", "manager")
    assert "parking_question" in rows["Parking"].escalation_reasons
    assert (rows["Insurance"].before.team, rows["Insurance"].after.team) == ("billing", "front-desk")
    assert (rows["Closing time"].before.reply, rows["Closing time"].after.reply) == ("hours", "opening-hours")
    assert all(row.before.source == "stored" for row in report.changed)


def test_it_changes_nothing_when_replaying_the_active_playbook(personas, history):
    report = replay_playbook(personas.dental, load_playbook(DEMO.read_text()), days=7)
    assert report.changed == ()


def test_it_runs_from_the_page_as_a_job_with_progress(client, personas, history, django_capture_on_commit_callbacks):
    version = do_upload_playbook(personas.lena, personas.dental, candidate_text())
    client.login(username="lena", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("playbooks:start_replay", args=["bright-smile", version.number]), {"days": 7})
    run = ReplayRun.objects.get()
    assert response.url == reverse("playbooks:replay", args=["bright-smile", run.pk])
    assert (run.state, run.done, run.total) == ("done", 5, 5)
    progress = client.get(reverse("playbooks:replay_progress", args=["bright-smile", run.pk])).json()
    assert progress == {"state": "done", "done": 5, "total": 5, "percent": 100, "error": ""}
    page = client.get(response.url).content.decode()
    assert "5 tickets replayed; 3 would change." in page


def test_it_keeps_replays_from_representatives_and_other_workspaces(client, personas, history):
    version = do_upload_playbook(personas.lena, personas.dental, candidate_text())
    url = reverse("playbooks:start_replay", args=["bright-smile", version.number])
    for user, status in (("alice", 403), ("olivia", 403), ("charlie", 404)):
        client.login(username=user, password=PASSWORD)
        assert client.post(url, {"days": 7}).status_code == status
    assert not ReplayRun.objects.exists()


def test_it_replays_a_file_from_the_command_line(personas, history, tmp_path, capsys):
    path = tmp_path / "candidate.yaml"
    path.write_text(candidate_text())
    call_command("playbook", "replay", "--workspace", "bright-smile", "--days", "7", "--no-progress", str(path))
    out = capsys.readouterr().out
    assert "team billing -> front-desk" in out
    assert "#2 Parking: escalation no -> yes; team front-desk -> manager" in out
    assert out.strip().endswith("5 tickets over 7 days; 3 would change (0 category, 1 escalation, 2 team, 1 reply)")
