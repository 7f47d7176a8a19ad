from django import forms

from lbsup.workspaces.models import Role

from .models import ApiToken
from .roles import RANK


class TokenForm(forms.Form):
    workspace = forms.ChoiceField(help_text="a token works in one workspace only")
    name = forms.CharField(max_length=100, help_text="what will use it, e.g. “order system”")
    role = forms.ChoiceField(choices=[(r, Role(r).label) for r in RANK],
                             help_text="a person token never does more than you can")
    kind = forms.ChoiceField(choices=ApiToken.Kind.choices, initial=ApiToken.Kind.PERSON,
                             help_text="a service token acts as no one and can never approve or send")

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.memberships = {m.workspace.slug: m for m in memberships}
        self.fields["workspace"].choices = [(m.workspace.slug, m.workspace.name) for m in memberships]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name")
        return name
