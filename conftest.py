
import pytest

from lbsup.demo import PLAYBOOK_DIR
from lbsup.testing.personas import make_personas

pytest_plugins = ["lbsup.testing.pytest_plugin", "lbsup.testing.browser"]


@pytest.fixture(autouse=True, scope="session")
def _huey_runs_jobs_inline():
    # Unit tests run jobs at enqueue time (in-memory storage); tests of the real queue
    # build their own Huey from settings.HUEY.
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # Rate limits and presence live in the shared cache (var/cache or Redis); each test gets
    # its own empty one, so neither a running `make run` nor a parallel test run is touched.
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "lbsup-tests"}}
    cache.clear()


@pytest.fixture
def personas(db):
    """alice and bob: representatives of bright-smile; charlie: representative of northwind only;
    olivia: owner of bright-smile (reports only); lena: lead of bright-smile."""
    return make_personas()


@pytest.fixture
def dental_playbook(personas):
    """The demo clinic's playbook, uploaded and approved by lena (lead), as the active version."""
    from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook

    text = (PLAYBOOK_DIR / "bright-smile.yaml").read_text()
    return do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
