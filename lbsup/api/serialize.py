"""Model rows → the API's plain dicts (see schemas.py)."""


def username(user):
    return user.get_username() if user is not None else None


def contact_brief(contact):
    return {"id": contact.pk, "name": contact.name, "email": contact.primary_email}


def ticket(t):
    return {
        "number": t.number, "subject": t.subject, "status": t.status, "priority": t.priority, "channel": t.channel,
        "category": t.category, "category_source": t.category_source, "category_confidence": t.category_confidence,
        "escalation_reason": t.escalation_reason, "team": t.team.slug if t.team_id else None,
        "assignee": username(t.assignee) if t.assignee_id else None, "contact": contact_brief(t.contact),
        "created_at": t.created_at, "updated_at": t.updated_at, "last_message_at": t.last_message_at,
        "first_response_at": t.first_response_at, "resolved_at": t.resolved_at, "due_at": t.due_at,
        "participants": t.participants or [], "merged_into": t.merged_into.number if t.merged_into_id else None,
    }


def message(m):
    return {
        "id": m.pk, "direction": m.direction, "author_kind": m.author_kind, "author": m.author_label, "text": m.text,
        "quoted_text": m.quoted_text, "html": m.html, "thread_reason": m.thread_reason, "created_at": m.created_at,
        "sent_at": m.sent_at,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "skipped_reason": a.skipped_reason}
            for a in m.attachments.all()
        ],
    }


def triage_record(r):
    return {
        "message_id": r.message_id, "category": r.category, "confidence": r.confidence, "escalate": r.escalate,
        "model_version": r.model_version, "result": r.result, "created_at": r.created_at,
        "playbook_version": r.playbook_version.number if r.playbook_version_id else None,
    }


def draft(d):
    return {
        "id": d.pk, "ticket": d.ticket.number, "message_id": d.message_id, "state": d.state, "category": d.category,
        "reply_id": d.reply_id, "source": d.source, "proposed_text": d.proposed_text, "text": d.text,
        "missing": d.missing, "checks": d.checks, "alternatives": d.alternatives,
        "decided_by": username(d.decided_by) if d.decided_by_id else None, "decided_at": d.decided_at,
        "reason": d.reason, "created_at": d.created_at,
    }


def company(c):
    return {"id": c.pk, "name": c.name, "domain": c.domain, "created_at": c.created_at}


def contact(c):
    return {
        "id": c.pk, "name": c.name, "emails": [e.email for e in c.emails.all()], "phones": c.phones, "vip": c.vip,
        "sensitive": c.sensitive, "flag_reason": c.flag_reason, "company": company(c.company) if c.company_id else None,
        "created_at": c.created_at,
    }


def playbook_version(v, *, with_text=False):
    data = {
        "number": v.number, "state": v.state, "content_hash": v.content_hash, "note": v.note,
        "uploaded_by": username(v.uploaded_by) if v.uploaded_by_id else None, "uploaded_at": v.uploaded_at,
        "approved_by": username(v.approved_by) if v.approved_by_id else None, "approved_at": v.approved_at,
    }
    if with_text:
        data["text"] = v.text
    return data


def crm_note(n):
    return {
        "id": n.pk, "ticket": n.ticket.number, "contact": contact_brief(n.contact), "state": n.state,
        "fields": [{"name": f["name"], "proposed": f.get("proposed", ""), "value": f.get("value", ""),
                    "source": f.get("source", ""), "reviewed": bool(f.get("reviewed"))} for f in n.fields],
        "created_at": n.created_at, "approved_by": username(n.approved_by) if n.approved_by_id else None,
        "approved_at": n.approved_at,
    }


def lead(ld):
    return {
        "id": ld.pk, "ticket": ld.ticket.number, "contact": contact_brief(ld.contact), "category": ld.category,
        "stage": ld.stage, "next_stages": list(ld.next_stages), "answers": ld.answers, "missing": ld.missing,
        "team": ld.team.slug if ld.team_id else None, "owner": username(ld.owner) if ld.owner_id else None,
        "next_step": ld.next_step, "due_at": ld.due_at, "created_at": ld.created_at, "updated_at": ld.updated_at,
    }


def followup(f, now):
    return {
        "id": f.pk, "ticket": f.ticket.number, "kind": f.kind, "state": f.state, "due_at": f.due_at,
        "overdue": f.state == f.State.PENDING and f.due_at <= now, "note": f.note,
        "created_by": username(f.created_by) if f.created_by_id else None, "created_at": f.created_at,
        "fired_at": f.fired_at, "outcome": f.outcome, "draft_id": f.draft_id,
    }


def digest_state(row):
    return {"state": row.state, "sent_at": row.sent_at} if row is not None else None


def report_figure(figure, numbers, url):
    return {
        "key": figure.key, "label": figure.label, "value": figure.value, "unit": figure.unit,
        "display": figure.display, "tickets": [numbers[pk] for pk in figure.ticket_ids if pk in numbers], "url": url,
    }


def daily_summary(summary, *, numbers, figure_url, digest, url):
    """numbers: ticket id → number; figure_url(key): the page behind one figure."""
    return {
        "date": summary.date, "timezone": summary.timezone, "start": summary.start, "end": summary.end,
        "overview": summary.overview,
        "sections": [
            {"key": s.key, "title": s.title, "available": s.available, "note": s.note,
             "figures": [report_figure(f, numbers, figure_url(f.key)) for f in s.figures]}
            for s in summary.sections
        ],
        "volume_history": [{"date": c.date, "count": c.count} for c in summary.volume_history],
        "digest": digest_state(digest), "url": url,
    }
