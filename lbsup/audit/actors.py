"""Who performed an action: a person (a User) or the automation."""

ASSISTANT = "assistant"  # triage, drafting, routing: may tag, summarize, draft, route; never send
SYSTEM = "system"  # plumbing: intake, schedulers, imports, demo loading

AUTOMATED_ACTORS = (ASSISTANT, SYSTEM)


def is_person(actor):
    return actor not in AUTOMATED_ACTORS and getattr(actor, "pk", None) is not None
