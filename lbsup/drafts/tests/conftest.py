from pathlib import Path

import pytest

from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook

DEMO = Path(__file__).resolve().parents[2] / "demo" / "playbooks"


@pytest.fixture
def dental_playbook(personas):
    text = (DEMO / "bright-smile.yaml").read_text()
    return do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
