"""What the contact form may promise a customer about the first answer."""

from dataclasses import dataclass

from lbsup.playbooks.active import NoActivePlaybook, active_playbook


@dataclass(frozen=True)
class ResponsePromise:
    business_name: str
    # The slowest first-response target over all categories at normal priority: before
    # triage has read the message, only the slowest target is a promise we can keep.
    within_business_hours: float | None
    business_hours: str


def response_promise(workspace):
    try:
        _version, playbook = active_playbook(workspace)
    except NoActivePlaybook:
        return ResponsePromise(workspace.name, None, "")
    targets = [category.sla_for("normal").first_response for category in playbook.categories]
    return ResponsePromise(playbook.business.name or workspace.name, max(targets) if targets else None,
                           playbook.business.hours)
