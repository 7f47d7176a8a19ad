"""Property-based checks of the API against its own OpenAPI schema (schemathesis), shared
by the bounded test in the suite and the longer run in bench/api_fuzz.py."""

from collections import Counter
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Valid by the schema yet refused on meaning, with a documented 4xx: a playbook file that
# fails the playbook checks, a reply a guardrail blocks, an address that cannot receive mail,
# a note field the playbook's note format lacks or one not reviewed yet, a lead stage out of
# order or an owner who is not a member, a follow-up time in the past.
SEMANTIC_CHECKS = {"upload_playbook", "approve_draft", "create_ticket", "create_contact", "draft_crm_note",
                   "approve_crm_note", "update_lead", "create_followup"}


@dataclass
class FuzzReport:
    operations: int = 0
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)  # (operation, message)

    @property
    def server_errors(self):
        return sum(n for status, n in self.statuses.items() if status >= 500)


def load_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def run(app, *, token, slug, max_examples, report=None, derandomize=False):
    """Generate up to max_examples requests per operation, positive and negative, and
    validate each response (status code, headers, content type and body documented)."""
    report = report or FuzzReport()
    schema = load_schema(app)
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1

        @settings(max_examples=max_examples, deadline=None, database=None, derandomize=derandomize,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            if case.path_parameters and "slug" in case.path_parameters:
                case.path_parameters["slug"] = slug
            response = case.call(headers=headers)
            report.calls += 1
            report.statuses[response.status_code] += 1
            try:
                excluded = [positive_data_acceptance] if operation.definition.raw.get("operationId") in SEMANTIC_CHECKS else []
                case.validate_response(response, headers=headers, excluded_checks=excluded)
            except BaseExceptionGroup as failure:  # schemathesis raises its check failures as a group
                report.failures.append((operation.label, f"{type(failure).__name__}: {failure}"[:2000]))

        check()
    return report
