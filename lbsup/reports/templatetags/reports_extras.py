from django import template

register = template.Library()


@register.filter
def lookup(mapping, key):
    """mapping[key] in a template (figure links are keyed by figure ids like "channel:email")."""
    return mapping.get(key, "")
