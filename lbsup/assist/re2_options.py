"""Options for google-re2, the linear-time matcher of patterns that come from playbooks and
phrase files: a pattern RE2 refuses is reported to the playbook's author, not logged to stderr."""

import re2


def re2_options(*, case_sensitive=True) -> "re2.Options":
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    return options
