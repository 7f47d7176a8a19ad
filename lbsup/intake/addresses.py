"""Support addresses: which workspace a recipient means, and the per-ticket reply address."""


def split_address(address):
    local, _, domain = (address or "").strip().lower().rpartition("@")
    base, _, tag = local.partition("+")
    return base, tag, domain


def reply_address(workspace, ticket):
    base, _, domain = split_address(workspace.support_email)
    return f"{base}+{ticket.reply_token}@{domain}"


def reply_token_in(workspace, recipients):
    """The ticket token from support+<token>@… if the mail was sent to this workspace's address."""
    own_base, _, own_domain = split_address(workspace.support_email)
    for address in recipients:
        base, tag, domain = split_address(address)
        if tag and base == own_base and domain == own_domain:
            return tag
    return None


def workspace_for_recipient(address):
    from lbsup.workspaces.models import Workspace

    base, _, domain = split_address(address)
    if not base or not domain:
        return None
    return Workspace.objects.filter(support_email__iexact=f"{base}@{domain}").first()
