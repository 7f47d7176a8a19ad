"""The public contact form and the one-time key that makes its resubmission harmless."""

import uuid

from django import forms
from django.core import signing

MAX_MESSAGE_CHARS = 20_000
FORM_KEY_SALT = "lbsup.intake.contact-form"
# Long enough to write a careful message, short enough that an old page cannot be replayed for ever.
FORM_KEY_MAX_AGE_SECONDS = 24 * 3600


def issue_form_key(workspace):
    """A signed, workspace-bound key for one rendering of the form; submitting the form
    twice with it (double click, browser resubmit) yields the same message."""
    return signing.TimestampSigner(salt=FORM_KEY_SALT).sign(f"{workspace.slug}:{uuid.uuid4().hex}")


def read_form_key(workspace, key):
    """The key's unique part, or None when it is forged, expired or from another workspace."""
    try:
        value = signing.TimestampSigner(salt=FORM_KEY_SALT).unsign(key, max_age=FORM_KEY_MAX_AGE_SECONDS)
    except signing.BadSignature:  # also covers SignatureExpired
        return None
    slug, _, unique = value.partition(":")
    return unique if slug == workspace.slug and unique else None


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(max_length=254, label="Your email address")
    subject = forms.CharField(max_length=200, required=False, label="Subject (optional)")
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), max_length=MAX_MESSAGE_CHARS, label="Your message",
        error_messages={"max_length": f"Please keep the message under {MAX_MESSAGE_CHARS:,} characters "
                                      "(it has %(show_value)d). Attachments can be sent by email."},
    )
    # Honeypot: hidden from people by CSS and skipped by keyboard and autofill; bots fill every field.
    website = forms.CharField(
        required=False, label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    form_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_subject(self):
        return " ".join(self.cleaned_data["subject"].split())

    def clean_message(self):
        message = self.cleaned_data["message"].strip()
        if not message:
            raise forms.ValidationError("Please write your message.")
        return message

    def clean_form_key(self):
        unique = read_form_key(self.workspace, self.cleaned_data["form_key"])
        if unique is None:
            raise forms.ValidationError("This form has expired. Your text is kept below: please send it again.")
        return unique

    @property
    def is_bot(self):
        return bool(self.data.get("website", "").strip())
