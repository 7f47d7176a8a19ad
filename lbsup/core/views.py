from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lbsup.workspaces.access import user_memberships


@require_GET
@never_cache
def health(request):
    """200 when the database answers; load balancers and `make run` poll this."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@login_required
def home(request):
    memberships = list(user_memberships(request.user))
    if len(memberships) == 1:
        only = memberships[0]
        return redirect("ticket_list" if only.can_use_desk else "reports:latest", slug=only.workspace.slug)
    return render(request, "core/home.html", {"memberships": memberships})
