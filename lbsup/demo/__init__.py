from pathlib import Path

# The demo businesses' approved playbooks (bright-smile, northwind): also the test fixtures.
PLAYBOOK_DIR = Path(__file__).parent / "playbooks"
