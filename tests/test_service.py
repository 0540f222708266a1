"""Running as a service: the compose file, the Dockerfile, `.env.example` and the settings table
must agree with the settings the bot really reads. No Docker engine is needed: the files are read.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot import docs
from bot.cli import main
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ALIASES = {field.alias for field in Settings.model_fields.values()}
#: Variables the compose file may use that are not the bot's: Compose's own, or another service's.
COMPOSE_ONLY = {"CONTENT_FOLDER", "TELEGRAM_API_ID", "TELEGRAM_API_HASH", "POSTGRES_PASSWORD"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def bot_service(compose: dict[str, Any]) -> dict[str, Any]:
    service = compose["services"]["newsbot"]
    assert isinstance(service, dict)
    return service


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


# --- docker-compose.yml ---------------------------------------------------------------------------


def test_the_bot_service_names_every_setting_and_nothing_else(bot_service: dict[str, Any]) -> None:
    environment = bot_service["environment"]
    assert isinstance(environment, dict)
    missing = sorted(ALIASES - set(environment))
    assert not missing, f"add to docker-compose.yml: {[f'{m}: ${{{m}:-}}' for m in missing]}"
    assert set(environment) == ALIASES


def test_every_interpolated_variable_is_a_setting_or_a_compose_one() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used <= ALIASES | COMPOSE_ONLY
    # `${VAR:?}` is checked even for services whose profile is off: `docker compose up` would fail.
    assert not re.search(r"\$\{\w+:?\?", text)


def test_settings_come_from_env_and_empty_means_default(
    bot_service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bot_service["env_file"] in (".env", [".env"])
    for name, value in bot_service["environment"].items():
        fixed = not str(value).startswith("${")
        monkeypatch.setenv(name, str(value) if fixed else "")  # what Compose passes when unset
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    settings = Settings(_env_file=None)
    assert settings.rate == Settings.model_fields["rate"].default
    assert settings.site_name is None
    assert settings.webhook_url is None


def test_the_content_and_the_database_are_volumes(
    compose: dict[str, Any], bot_service: dict[str, Any]
) -> None:
    environment = bot_service["environment"]
    mounts = {}
    for volume in bot_service["volumes"]:
        source, target, *mode = re.split(r":(?![^{]*\})", volume)  # not inside ${...}
        mounts[target] = (source, mode)
    content = environment["NEWSBOT_CONTENT_DIR"]
    assert mounts[content][1] == ["ro"]  # the bot only reads posts
    data = str(PurePosixPath(environment["NEWSBOT_DATABASE"]).parent)
    volume = mounts[data][0]
    assert volume in compose["volumes"]  # a named volume: it outlives the container


def test_the_service_restarts_publishes_the_webhook_and_keeps_its_logs(
    bot_service: dict[str, Any],
) -> None:
    environment = bot_service["environment"]
    assert bot_service["restart"] == "unless-stopped"
    listen_port = environment["NEWSBOT_LISTEN"].rpartition(":")[2]
    assert any(port.endswith(f":{listen_port}") for port in bot_service["ports"])
    assert environment["NEWSBOT_METRICS_PORT"] in bot_service["expose"]
    assert bot_service["logging"]["driver"] == "json-file"


def test_the_local_api_profile_puts_telegrams_server_in_front(
    compose: dict[str, Any], bot_service: dict[str, Any]
) -> None:
    server = compose["services"]["telegram-bot-api"]
    assert server["image"].startswith("aiogram/telegram-bot-api")
    assert server["profiles"] == ["local-api"]
    assert {"TELEGRAM_API_ID", "TELEGRAM_API_HASH"} <= set(server["environment"])
    assert bot_service["depends_on"]["telegram-bot-api"]["required"] is False
    assert "http://telegram-bot-api:8081/bot" in (ROOT / ".env.example").read_text()


def test_the_instances_profile_runs_two_bots_on_one_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["profiles"] == ["instances"]
    assert services["postgres"]["image"].startswith("postgres:")
    bots = [services[name] for name in ("newsbot-a", "newsbot-b")]
    databases = {bot["environment"]["NEWSBOT_DATABASE"] for bot in bots}
    [database] = databases  # one database for both
    assert database.startswith("postgresql://") and "@postgres:5432/" in database
    assert {bot["environment"]["NEWSBOT_INSTANCE"] for bot in bots} == {"newsbot-a", "newsbot-b"}
    ports = [bot["environment"]["NEWSBOT_METRICS_PORT"] for bot in bots]
    assert len(set(ports)) == 2 and all(
        p in bot["expose"] for p, bot in zip(ports, bots, strict=True)
    )
    for bot in bots:
        assert bot["profiles"] == ["instances"]
        assert set(bot["environment"]) == ALIASES  # every setting, as the single service
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_and_dockerfile_agree_on_paths(bot_service: dict[str, Any]) -> None:
    environment = bot_service["environment"]
    env_lines = " ".join(line for line in dockerfile() if line.startswith("ENV "))
    for name in ("NEWSBOT_CONTENT_DIR", "NEWSBOT_DATABASE"):
        assert f"{name}={environment[name]}" in env_lines


# --- Dockerfile -----------------------------------------------------------------------------------


def test_the_dockerfile_builds_from_the_project_and_runs_as_a_user() -> None:
    lines = dockerfile()
    assert lines[0] == "FROM python:3.11-slim"
    assert "COPY pyproject.toml README.md ./" in lines
    assert any(line.startswith("RUN pip install .") for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert lines.index(f"USER {users[-1]}") < lines.index('CMD ["newsbot", "run"]')
    assert lines[-1] == 'CMD ["newsbot", "run"]'
    [check] = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert "/healthz" in check and "NEWSBOT_METRICS_PORT" in check


def test_the_token_never_goes_into_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".venv" in ignored and "data" in ignored


# --- generated documentation --------------------------------------------------------------------


def test_env_example_lists_every_setting_with_its_default() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == docs.env_example(), "run `make docs`"
    for alias in ALIASES:
        assert re.search(rf"^(# )?{alias}=", text, re.MULTILINE), alias


def test_the_settings_table_in_the_guide_is_current() -> None:
    guide = docs.guide(ROOT)
    assert guide.name in ("README.md", "operations.md")
    text = guide.read_text(encoding="utf-8")
    table = text.split(docs.START)[1].split(docs.END)[0]
    assert table.strip() == docs.settings_table().strip(), "run `make docs`"
    for alias in ALIASES:
        assert f"| `{alias}` |" in table
    assert docs.stale(ROOT) == []


def test_the_guide_covers_operations() -> None:
    text = docs.guide(ROOT).read_text(encoding="utf-8")
    for topic in ("BotFather", "privacy mode", "administrator", "newsbot backup", "Upgrading"):
        assert topic in text


def test_the_table_is_regenerated_between_the_markers(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    guide = tmp_path / "docs" / "operations.md"
    guide.write_text(f"# Guide\n\n{docs.START}\nold table\n{docs.END}\nafter\n", encoding="utf-8")
    assert docs.stale(tmp_path) == [guide, tmp_path / ".env.example"]
    docs.write(tmp_path)
    assert docs.stale(tmp_path) == []
    text = guide.read_text(encoding="utf-8")
    assert "old table" not in text and text.endswith(f"{docs.END}\nafter\n")
    # Once README.md holds the markers, the table is kept there instead.
    (tmp_path / "README.md").write_text(f"{docs.START}\n{docs.END}\n", encoding="utf-8")
    assert docs.guide(tmp_path) == tmp_path / "README.md"
    assert docs.stale(tmp_path) == [tmp_path / "README.md"]


# --- settings for the service -------------------------------------------------------------------


def test_a_webhook_needs_a_secret() -> None:
    with pytest.raises(ValidationError, match="required when NEWSBOT_WEBHOOK_URL is set"):
        Settings(_env_file=None, webhook_url="https://bot.example.com/telegram")
    with pytest.raises(ValidationError, match="A-Z"):
        Settings(_env_file=None, webhook_url="https://b.example/t", webhook_secret="not secret!")
    with pytest.raises(ValidationError, match="https"):
        Settings(_env_file=None, webhook_url="bot.example.com/telegram", webhook_secret="s3cret")
    settings = Settings(
        _env_file=None, webhook_url="https://b.example/hook/tg", webhook_secret="s3cret-_X"
    )
    assert settings.webhook_path == "/hook/tg"


@pytest.mark.parametrize("listen", ["8080", "0.0.0.0", "host:port", "0.0.0.0:70000"])
def test_listen_must_be_host_and_port(listen: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        Settings(_env_file=None, listen=listen)


def test_listen_parts() -> None:
    settings = Settings(_env_file=None, listen="[::1]:8443")
    assert (settings.listen_host, settings.listen_port) == ("::1", 8443)


def test_run_with_a_webhook_but_no_secret_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("NEWSBOT_WEBHOOK_URL", "https://bot.example.com/telegram")
    monkeypatch.delenv("NEWSBOT_WEBHOOK_SECRET", raising=False)
    assert main(["run"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("newsbot run: bad setting: NEWSBOT_WEBHOOK_SECRET: is required when")
