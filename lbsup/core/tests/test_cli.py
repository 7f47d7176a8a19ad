import stat

import pytest

from .cli import run_lbsup


@pytest.mark.parametrize("url", ["not a url", "mysql://root@127.0.0.1/test", "postgres://"])
def test_it_names_the_variable_when_database_url_is_invalid(url, tmp_path):
    result = run_lbsup("check", env={"DATABASE_URL": url, "LBSUP_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr


def test_it_gives_one_line_when_the_database_is_unreachable(tmp_path):
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused at once.
    result = run_lbsup("migrate", env={"DATABASE_URL": "postgres://lbsup@127.0.0.1:9/lbsup", "LBSUP_VAR_DIR": str(tmp_path)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0] and "127.0.0.1:9" in lines[0]


def test_it_generates_a_private_secret_key_once(tmp_path):
    env = {"LBSUP_VAR_DIR": str(tmp_path)}
    assert run_lbsup("check", env=env, unset=["SECRET_KEY", "DATABASE_URL"]).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run_lbsup("check", env=env, unset=["SECRET_KEY", "DATABASE_URL"]).returncode == 0
    assert key_file.read_text() == first


def test_it_passes_the_deploy_check_with_the_documented_production_environment(tmp_path):
    production = {
        "SECRET_KEY": "a-long-random-production-secret-" + "x7Qp" * 10,
        "LBSUP_SEALING_KEYS": "pDyGxZJ3Z1Ui9cSpe3B8DKqHkEVRz4Mr-Xy2a5Qj5bE=",
        "LBSUP_ALLOWED_HOSTS": "support.example.com",
        "LBSUP_HTTPS": "1",
        "LBSUP_VAR_DIR": str(tmp_path),
    }
    result = run_lbsup("check", "--deploy", "--fail-level", "WARNING", env=production, unset=["LBSUP_DEBUG"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_is_not_in_debug_mode_unless_asked(tmp_path):
    result = run_lbsup("shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)",
                       env={"LBSUP_VAR_DIR": str(tmp_path)}, unset=["LBSUP_DEBUG", "DATABASE_URL"])
    assert result.stdout.strip() == "False"
