"""Job priorities: higher runs first when the queue has a backlog.

Triage costs up to a second of CPU per message, so a burst of mail (or loading the demo, or an
import) queues minutes of it. Mail coming in and replies going out must not wait behind that:
the desk would show nothing new and approved replies would sit. Everything not listed here
(triage, retraining, webhooks, reports) runs at the default priority, 0."""

INTAKE = 30  # storing mail as tickets: what the desk shows
SENDING = 20  # approved replies on their way
TIMERS = 10  # the minute sweeps: SLA reminders and breaches, jobs lost in an outage
