"""Issue #17, finding 12: a thing only leads may do on a page is lead-only in the API too.

Every page limited to leads (LEAD in test_isolation.PAGES) is listed here either with the API
operation that does the same, which must then refuse a representative's token with 403, or as
page-only, with the reason it has no API twin.  A new lead-only page fails the suite until it
is placed here."""

import json

from django.test import Client

from lbsup.core.tests.test_isolation import (  # noqa: F401  (world and api_tokens are fixtures)
    LEAD,
    PAGES,
    api_operations,
    api_tokens,
    api_url,
    call,
    world,
)
from lbsup.demo import PLAYBOOK_DIR

# Lead-only page -> the API operation that does the same.
API_TWINS = {"playbooks:upload": "upload_playbook"}

# Lead-only pages with no API operation (yet): nothing to keep in step.
PAGE_ONLY = {
    "reconcile_mail": "intake reconciliation is a desk tool",
    "crm_contacts_csv": "exports are files for people; the API lists contacts page by page",
    "crm_notes_csv": "as crm_contacts_csv",
    "webhook_endpoints": "webhooks are managed on pages only",
    "webhook_endpoint_active": "as webhook_endpoints",
    "webhook_delivery": "as webhook_endpoints",
    "webhook_delivery_retry": "as webhook_endpoints",
    "playbooks:approve": "approving a playbook stays a person's act on the page",
    "playbooks:reject": "as playbooks:approve",
    "playbooks:start_replay": "replays are read on the page",
    "playbooks:replay": "as playbooks:start_replay",
    "playbooks:replay_progress": "as playbooks:start_replay",
}


def valid_body(operation_id):
    text = (PLAYBOOK_DIR / "bright-smile.yaml").read_text()
    return json.dumps({"upload_playbook": {"text": text, "note": "parity"}}[operation_id])


def test_it_places_every_lead_only_page():
    lead_pages = {name for name, level in PAGES.items() if level == LEAD}
    assert lead_pages == set(API_TWINS) | set(PAGE_ONLY), (
        f"unplaced: {sorted(lead_pages - set(API_TWINS) - set(PAGE_ONLY))}; "
        f"stale: {sorted((set(API_TWINS) | set(PAGE_ONLY)) - lead_pages)}")
    assert not set(API_TWINS) & set(PAGE_ONLY)


def test_it_refuses_a_representative_in_the_api_where_the_page_does(personas, world, api_tokens):
    operations = {operation["operationId"]: (path, method) for path, method, operation in api_operations()}
    failures = []
    for page, operation_id in API_TWINS.items():
        path, method = operations[operation_id]
        url = api_url(path, world["bright-smile"])
        representative = call(api_tokens["alice"], method, url, valid_body(operation_id))
        if representative.status_code != 403:
            failures.append(f"{operation_id} as a representative: {representative.status_code}, the page {page} "
                            f"answers 403")
        lead = call(api_tokens["lena"], method, url, valid_body(operation_id))
        if lead.status_code >= 400:
            failures.append(f"{operation_id} as a lead: {lead.status_code} {lead.content[:200]!r}")
    assert not failures, "\n".join(failures)


def test_it_refuses_a_representative_on_the_twin_pages(personas, world):
    client = Client()
    client.force_login(personas.alice)
    for page in API_TWINS:
        assert page == "playbooks:upload"
        response = client.post(f"/w/{personas.dental.slug}/playbook/upload/",
                               {"text": (PLAYBOOK_DIR / "bright-smile.yaml").read_text()})
        assert response.status_code == 403
