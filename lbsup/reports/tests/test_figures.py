import datetime

from lbsup.reports.days import day_bounds
from lbsup.reports.figures import build_summary

from .conftest import DAY, utc


def ids(*tickets):
    return tuple(t.pk for t in tickets)


def test_it_bounds_a_spring_forward_day_at_23_hours(personas):
    start, end = day_bounds(personas.dental.tz, DAY)
    assert (start, end) == (utc(3, 9, 8), utc(3, 10, 7))


def test_it_bounds_a_fall_back_day_at_25_hours(personas):
    start, end = day_bounds(personas.dental.tz, datetime.date(2025, 11, 2))
    assert end - start == datetime.timedelta(hours=25)


def test_it_counts_the_tickets_opened_in_the_local_day(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    c = counted_day
    assert summary.hours == 23
    assert summary.figure("volume").ticket_ids == ids(c.t1, c.t2, c.t4, c.t3)
    assert summary.figure("channel:email").ticket_ids == ids(c.t1, c.t4, c.t3)
    assert summary.figure("channel:web").ticket_ids == ids(c.t2)
    assert summary.figure("category:appointment").ticket_ids == ids(c.t1, c.t4)
    assert summary.figure("category:billing").ticket_ids == ids(c.t2)
    assert summary.figure("category:complaint").ticket_ids == ids(c.t3)


def test_it_tells_new_from_returning_customers(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    c = counted_day
    assert summary.figure("customers:new").ticket_ids == ids(c.t2, c.t3)
    assert summary.figure("customers:returning").ticket_ids == ids(c.t1, c.t4)


def test_it_lists_escalations_of_the_day_by_their_reason(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    c = counted_day
    assert summary.figure("escalations").ticket_ids == ids(c.t2, c.t3)
    assert summary.figure("escalation:legal_or_payment_dispute").ticket_ids == ids(c.t2)
    assert summary.figure("escalation:complaint_or_emergency").ticket_ids == ids(c.t3)
    assert summary.figure("complaints").ticket_ids == ids(c.t3)


def test_it_measures_sla_against_due_times_that_fell_in_the_day(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    c = counted_day
    assert summary.figure("sla:first_response:met").ticket_ids == ids(c.before, c.t1)
    assert summary.figure("sla:first_response:missed").ticket_ids == ids(c.t2, c.t4)
    assert summary.figure("sla:first_response").value == 50.0
    assert summary.figure("sla:resolution").value == 100.0
    assert summary.figure("sla:resolution:met").ticket_ids == ids(c.t1)


def test_it_takes_median_response_and_resolution_times(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    assert summary.figure("time:first_response").value == 2.0  # 1 h, 2 h and 4.5 h
    assert summary.figure("time:resolution").value == 10.0


def test_it_lists_the_recurring_issues_the_crm_flagged(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    assert [(f.key, f.ticket_ids) for f in summary.section("recurring").figures] == [
        ("recurring:appointment", ids(counted_day.t4))]


def test_it_counts_open_and_overdue_follow_ups(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    assert set(summary.figure("followups:open").ticket_ids) == set(ids(counted_day.t2, counted_day.t4))
    assert summary.figure("followups:overdue").ticket_ids == ids(counted_day.t4)


def test_it_counts_sales_leads_by_stage(counted_day, personas):
    summary = build_summary(personas.dental, DAY)
    assert [(f.key, f.ticket_ids) for f in summary.section("leads").figures] == [
        ("leads:qualified", ids(counted_day.t2))]


def test_it_writes_an_overview_from_the_figures(counted_day, personas):
    text = build_summary(personas.dental, DAY).overview
    assert "On Sunday 9 March 2025, 4 new tickets arrived (3 by email, 1 by web form)." in text
    assert "2 of them came from new customers." in text
    assert "2 tickets needed a lead" in text
    assert "First replies were on time for 2 of 4 tickets (50%)." in text
    assert "1 customer wrote again about the same issue." in text
    assert "1 follow-up is overdue." in text


def test_it_draws_thirty_days_of_volume_ending_on_the_day(counted_day, personas):
    history = build_summary(personas.dental, DAY).volume_history
    assert len(history) == 30
    assert history[-1].date == DAY and history[-1].count == 4
    assert history[-2].count == 1  # the ticket of the evening before
    assert sum(d.count for d in history) == 5


def test_it_reports_an_empty_day_plainly(personas):
    summary = build_summary(personas.dental, datetime.date(2024, 1, 10))
    assert summary.figure("volume").value == 0
    assert summary.figure("sla:first_response").value is None
    assert summary.overview == "No new tickets on Wednesday 10 January 2024."
