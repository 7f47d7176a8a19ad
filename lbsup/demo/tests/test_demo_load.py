from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from lbsup.tickets.models import Direction, Message, Ticket
from lbsup.workspaces.models import Membership, Workspace


def table_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models() if model._meta.app_label != "sessions"}


def test_it_loads_the_demo_twice_with_the_same_counts(db, capsys):
    call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    assert "owner-dental" in out and "lbsup-demo-owner" in out
    first = table_counts()
    call_command("demo", "--no-serve")
    assert table_counts() == first
    assert first["tickets.Ticket"] >= 60


def test_it_creates_the_demo_businesses_and_logins(db):
    call_command("demo", "--no-serve")
    assert set(Workspace.objects.values_list("slug", flat=True)) == {"bright-smile", "northwind"}
    users = {u.username: u for u in get_user_model().objects.all()}
    assert {"rep", "lead", "owner-dental", "admin"} <= set(users)
    roles = {(m.user.username, m.workspace.slug): m.role for m in Membership.objects.select_related("user", "workspace")}
    assert roles[("rep", "bright-smile")] == roles[("rep", "northwind")] == "representative"
    assert roles[("lead", "northwind")] == "lead"
    assert roles[("owner-dental", "bright-smile")] == "owner"
    assert ("owner-dental", "northwind") not in roles
    assert users["rep"].check_password("lbsup-demo-rep")
    for slug in ("bright-smile", "northwind"):
        inbound = Message.objects.filter(workspace__slug=slug, direction=Direction.INBOUND).count()
        assert inbound >= 40
        assert Ticket.objects.filter(workspace__slug=slug).values("contact").distinct().count() >= 15
