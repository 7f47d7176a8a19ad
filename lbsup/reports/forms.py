from django import forms
from django.core.validators import validate_email

MAX_EXTRA_RECIPIENTS = 20


class ScheduleForm(forms.Form):
    send_at = forms.TimeField(label="Send at (the workspace's local time)", widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"))
    enabled = forms.BooleanField(required=False, label="Send the daily summary by email")
    extra_recipients = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                       help_text="Besides the owners: one address per line")

    def clean_extra_recipients(self):
        lines = [line.strip() for line in self.cleaned_data["extra_recipients"].splitlines() if line.strip()]
        if len(lines) > MAX_EXTRA_RECIPIENTS:
            raise forms.ValidationError(f"At most {MAX_EXTRA_RECIPIENTS} addresses")
        for line in lines:
            try:
                validate_email(line)
            except forms.ValidationError:
                raise forms.ValidationError(f"{line!r} is not an email address")
        return "\n".join(lines)
