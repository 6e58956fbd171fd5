"""The service files a host runs the bot with: the Dockerfile passes hadolint and keeps the
rules the README promises, compose keeps the database on a volume, and the systemd unit passes
``systemd-analyze verify`` (on a copy whose ExecStart is an interpreter that exists here)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bot import operations

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """A tool the dev install or .ci/run provides; a missing one fails the test, never skips."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed: run `pip install -e '.[dev]'` / see .ci/run"
    return found


def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_image_is_slim_unprivileged_with_its_database_on_a_volume_and_a_live_healthcheck() -> (
    None
):
    steps = instructions((ROOT / "Dockerfile").read_text())
    keywords = [keyword for keyword, _ in steps]
    base = next(rest for keyword, rest in steps if keyword == "FROM")
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", base), base
    user = [rest for keyword, rest in steps if keyword == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    env = " ".join(rest for keyword, rest in steps if keyword == "ENV")
    assert "DATABASE_PATH=/data/" in env
    volumes = " ".join(rest for keyword, rest in steps if keyword == "VOLUME")
    assert '"/data"' in volumes and '"/backups"' in volumes  # a plain docker run keeps both
    health = next(rest for keyword, rest in steps if keyword == "HEALTHCHECK")
    assert '"python", "-m", "bot", "check", "--live"' in health
    entry = next(rest for keyword, rest in steps if keyword == "ENTRYPOINT")
    assert entry == '["python", "-m", "bot"]'
    # Nothing secret or local goes into the image: the build context is a list of what it needs.
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*")] == "*"
    assert not any(
        line.startswith("!") and (".env" in line or "sqlite" in line) for line in ignored
    )


def test_compose_keeps_the_database_and_backups_on_volumes_and_restarts() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["undercurrent"]
    assert service["restart"] == "unless-stopped"
    assert service["env_file"] == ".env"
    mounts = dict(volume.split(":", 1)[::-1] for volume in service["volumes"])
    database = Path(service["environment"]["DATABASE_PATH"])
    assert mounts[str(database.parent)] in compose["volumes"]
    assert mounts[service["environment"]["BACKUP_DIR"]] in compose["volumes"]
    assert service["init"] is True  # SIGTERM reaches the bot even before its handler is set


def unit() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (ROOT / "contrib" / "undercurrent.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    text = (ROOT / "contrib" / "undercurrent.service").read_text()
    assert text.count("\nExecStart=") == 1
    here = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={sys.executable}", text)
    copy = tmp_path / "undercurrent.service"
    copy.write_text(here)
    result = subprocess.run(
        [tool("systemd-analyze"), "verify", str(copy)], capture_output=True, text=True, check=False
    )
    # verify exits 0 on settings it cannot parse (it only says "ignoring"): any word is a fault.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_the_unit_is_hardened_and_writes_only_its_state_directory() -> None:
    settings = unit()
    for key, value in (
        ("Restart", "on-failure"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
    ):
        assert settings[key] == [value], key
    assert settings["EnvironmentFile"]
    # Not the checkout: `python -m bot` there would import the source tree, not what pip installed.
    assert settings["WorkingDirectory"] == settings["ReadWritePaths"]
    # A denied call must fail, not kill: numpy (charts) calls mbind, which @resources holds.
    assert settings["SystemCallErrorNumber"] == ["EPERM"]
    assert not any("@resources" in line for line in settings["SystemCallFilter"])
    assert shlex.split(settings["ExecStart"][0])[1:] == ["-m", "bot", "run"]
    environment = dict(item.split("=", 1) for item in settings["Environment"])
    writable = settings["ReadWritePaths"][0]
    assert environment["DATABASE_PATH"].startswith(writable + "/")
    assert environment["BACKUP_DIR"].startswith(writable + "/")
    state = settings["StateDirectory"][0].split()
    assert f"/var/lib/{state[0]}" == writable
    assert f"/var/lib/{state[1]}" == environment["BACKUP_DIR"]  # created for it: the bot won't
    # Restarting cannot fix a configuration problem, a rejected token, an unusable database
    # or a second bot: the statuses the bot exits with for those.
    assert {int(s) for s in settings["RestartPreventExitStatus"][0].split()} == {
        operations.EXIT_CONFIG,
        3,
        operations.EXIT_DATABASE,
        operations.EXIT_BOT_RUNNING,
    }


def test_the_example_settings_leave_the_paths_to_the_service_files() -> None:
    """systemd's EnvironmentFile (and compose's env_file, for anything `environment:` does not
    set) would override the unit's own DATABASE_PATH and BACKUP_DIR; even a blank line would
    (a blank value means the default, ./undercurrent.sqlite3, not writable under the unit)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = {line.split("=", 1)[0] for line in lines if "=" in line and not line.startswith("#")}
    assert "DISCORD_TOKEN" in assigned
    assert not assigned & {"DATABASE_PATH", "BACKUP_DIR", "BACKUP_KEEP"}
