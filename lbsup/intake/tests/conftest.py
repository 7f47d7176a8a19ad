# Re-exported so these tests run even before the project registers the plugin globally.
from lbsup.testing.pytest_plugin import imap_server, smtp_sink  # noqa: F401
