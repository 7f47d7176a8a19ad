import pytest

from lbsup.testing.personas import make_personas

pytest_plugins = ["lbsup.testing.pytest_plugin"]


@pytest.fixture(autouse=True, scope="session")
def _huey_runs_jobs_inline():
    # Unit tests run jobs at enqueue time (in-memory storage); tests of the real queue
    # build their own Huey from settings.HUEY.
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield


@pytest.fixture
def personas(db):
    """alice and bob: representatives of bright-smile; charlie: representative of northwind only;
    olivia: owner of bright-smile (reports only); lena: lead of bright-smile."""
    return make_personas()
