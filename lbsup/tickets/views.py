"""The queue and the ticket page are the review desk's (lbsup/desk/views.py); these names
stay importable for code that used the first minimal pages."""

from lbsup.desk.views import queue_page as ticket_list
from lbsup.desk.views import ticket_page as ticket_detail

__all__ = ["ticket_list", "ticket_detail"]
