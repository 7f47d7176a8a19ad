"""The approved playbook a workspace runs on, parsed once per process and version."""

from functools import lru_cache

from lbsup.assist.playbook import load_playbook

from .models import PlaybookVersion


class NoActivePlaybook(LookupError):
    pass


@lru_cache(maxsize=64)
def _parse(version_pk, content_hash, text):
    return load_playbook(text, source=f"playbook version {version_pk}")


def active_version(workspace):
    version = PlaybookVersion.objects.filter(workspace=workspace, state=PlaybookVersion.State.ACTIVE).first()
    if version is None:
        raise NoActivePlaybook(f"{workspace.slug} has no approved playbook yet")
    return version


def active_playbook(workspace):
    version = active_version(workspace)
    return version, _parse(version.pk, version.content_hash, version.text)
