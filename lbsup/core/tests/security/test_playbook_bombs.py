"""Issue #17, finding 4: a hostile playbook file is refused within milliseconds, before any
tree is built and outside any write transaction, and only leads and admins may upload one.
The bombs live in playbook_bomb_corpus.py; bench/playbook_bombs.py times the same ones."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from lbsup.api.actions import do_create_token
from lbsup.assist.playbook import (
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    PlaybookError,
    load_playbook,
    load_playbook_file,
)
from lbsup.audit.actors import ASSISTANT
from lbsup.core.tests.security.playbook_bomb_corpus import BOMBS, TOO_DEEP, TOO_MANY
from lbsup.demo import PLAYBOOK_DIR
from lbsup.playbooks.actions import do_upload_playbook
from lbsup.playbooks.models import PlaybookVersion
from lbsup.testing.personas import PASSWORD

DEMO_TEXT = (PLAYBOOK_DIR / "bright-smile.yaml").read_text()


def refusal(text):
    with pytest.raises(PlaybookError) as caught:
        load_playbook(text, source="bomb.yaml")
    return caught.value.problems


@pytest.mark.parametrize("name", BOMBS)
def test_it_refuses_each_bomb_with_a_message_naming_the_limit(name):
    text, expected = BOMBS[name]
    problems = refusal(text)
    assert len(problems) == 1 and expected in problems[0].message, problems


def test_it_refuses_an_anchor_even_when_nothing_refers_to_it():
    assert "anchors (&x)" in refusal(DEMO_TEXT.replace("version:", "version: &x", 1))[0].message


def test_it_names_the_line_of_the_first_node_past_the_depth_limit():
    text, _ = BOMBS["deep block nesting"]
    assert refusal(text)[0].line == MAX_YAML_DEPTH + 1


@pytest.mark.parametrize("path", sorted(PLAYBOOK_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_it_still_accepts_the_demo_playbooks(path):
    assert load_playbook_file(str(path)).workspace == path.stem


def test_it_accepts_nesting_and_nodes_up_to_the_limits_and_refuses_one_more():
    # The root mapping is the first level; keys, values and lists all count as nodes.
    nested = "[" * (MAX_YAML_DEPTH - 1) + "1" + "]" * (MAX_YAML_DEPTH - 1)
    used = 1 + 1 + (MAX_YAML_DEPTH - 1) + 1 + 1 + 1  # root, x, the nested lists, their 1, y, y's list

    def document(items):
        return f"x: {nested}\ny: [{', '.join(['1'] * items)}]\n"

    problems = refusal(document(MAX_YAML_NODES - used))
    # Within the YAML bounds: what remains are the playbook schema's own complaints.
    assert not any(TOO_DEEP in p.message or TOO_MANY in p.message for p in problems)
    assert any("missing required key 'workspace'" in p.message for p in problems)
    assert TOO_MANY in refusal(document(MAX_YAML_NODES - used + 1))[0].message
    assert TOO_DEEP in refusal(document(1).replace("[", "[[", 1).replace("]", "]]", 1))[0].message


def test_it_stores_the_demo_playbook_uploaded_by_a_lead(personas):
    version = do_upload_playbook(personas.lena, personas.dental, DEMO_TEXT)
    assert (version.state, version.uploaded_by) == ("pending", personas.lena)


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_bomb_without_opening_a_write_transaction(personas):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record), pytest.raises(PlaybookError):
        do_upload_playbook(personas.lena, personas.dental, BOMBS["nested brackets"][0])
    # On SQLite, BEGIN IMMEDIATE would take the database-wide write lock for the whole check.
    assert statements, "the role check reads the membership"
    assert not [sql for sql, atomic in statements if atomic or sql.upper().startswith("BEGIN")], statements
    assert not PlaybookVersion.objects.exists()


@pytest.mark.parametrize("who", ["alice", "olivia", "charlie"])
def test_it_refuses_an_upload_by_anyone_but_a_lead_or_admin_in_the_action(personas, who):
    with pytest.raises(PermissionError, match="lead or admin"):
        do_upload_playbook(getattr(personas, who), personas.dental, DEMO_TEXT)
    assert not PlaybookVersion.objects.exists()


def test_it_refuses_an_upload_by_the_assistant(personas):
    with pytest.raises(PermissionError):
        do_upload_playbook(ASSISTANT, personas.dental, DEMO_TEXT)


def test_it_refuses_a_representative_on_the_page_with_403(client, personas):
    assert client.login(username="alice", password=PASSWORD)
    response = client.post(reverse("playbooks:upload", args=["bright-smile"]), {"text": DEMO_TEXT})
    assert response.status_code == 403
    assert not PlaybookVersion.objects.exists()


def api_upload(token, text):
    return Client().post("/api/w/bright-smile/playbooks", json.dumps({"text": text}),
                         content_type="application/json", headers={"Authorization": f"Bearer {token}"})


def test_it_refuses_a_representative_in_the_api_with_403(personas):
    token = do_create_token(personas.alice, personas.dental, name="tool", role="representative").plaintext
    response = api_upload(token, DEMO_TEXT)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert not PlaybookVersion.objects.exists()


def test_it_holds_a_leads_token_to_the_lower_role_it_was_issued_with(personas):
    token = do_create_token(personas.lena, personas.dental, name="tool", role="representative").plaintext
    assert api_upload(token, DEMO_TEXT).status_code == 403
    lead_token = do_create_token(personas.lena, personas.dental, name="tool", role="lead").plaintext
    assert api_upload(lead_token, DEMO_TEXT).status_code == 201


def test_it_answers_a_bomb_in_the_api_with_422_naming_the_limit(personas):
    token = do_create_token(personas.lena, personas.dental, name="tool", role="lead").plaintext
    response = api_upload(token, BOMBS["nested brackets"][0])
    assert response.status_code == 422
    assert TOO_DEEP in response.json()["error"]["details"][0]["message"]


def test_it_answers_a_bomb_on_the_page_with_400_naming_the_limit(client, personas):
    assert client.login(username="lena", password=PASSWORD)
    response = client.post(reverse("playbooks:upload", args=["bright-smile"]), {"text": BOMBS["merge key"][0]})
    assert response.status_code == 400 and "merge keys" in response.content.decode()
