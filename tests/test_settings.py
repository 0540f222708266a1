"""Settings: what is refused at start, in one line that never repeats a secret."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.settings import Settings
from tests.helpers import TOKEN


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("api.telegram.org/bot", "must start with https://"),
        ("ftp://api.telegram.org/bot", "must start with https://"),
        ("https:///bot", "must start with https://"),
        ("http://[::1/bot", "is not a valid address"),
        ("https://api.telegram.org:99999/bot", "is not a valid address"),
        ("https://api telegram.org/bot", "without spaces"),
        ("https://api.telegram.org/bot?x=1", "plain address"),
        ("https://user:pw@api.telegram.org/bot", "plain address"),
        (f"https://api.telegram.org/bot{TOKEN}/", "must not contain the bot token"),
    ],
)
def test_a_malformed_api_address_is_refused_without_repeating_it(url: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, telegram_bot_token=TOKEN, telegram_api_url=url)
    [error] = caught.value.errors()
    assert problem in error["msg"]
    assert TOKEN.partition(":")[2] not in error["msg"]


def test_good_api_addresses_are_kept() -> None:
    for url in ("https://api.telegram.org/bot", "http://telegram-bot-api:8081/bot"):
        assert Settings(_env_file=None, telegram_api_url=url).telegram_api_url == url


def test_private_image_networks_are_read_from_a_list() -> None:
    settings = Settings(_env_file=None, private_image_networks="10.20.0.1/16; fd00::/8,")
    assert settings.image_networks == (ip_network("10.20.0.0/16"), ip_network("fd00::/8"))
    assert Settings(_env_file=None).image_networks == ()
    with pytest.raises(ValidationError, match="not a network"):
        Settings(_env_file=None, private_image_networks="intranet")


def test_the_newsroom_folder_lies_outside_the_content(tmp_path: Path) -> None:
    content = tmp_path / "content"
    settings = Settings(_env_file=None, content_dir=content)
    assert settings.newsroom_dir is None and settings.editors_dir == content
    beside = Settings(_env_file=None, content_dir=content, newsroom_dir=tmp_path / "newsroom")
    assert beside.editors_dir == tmp_path / "newsroom"
    for inside in (content, content / "newsroom"):
        with pytest.raises(ValidationError, match="outside NEWSBOT_CONTENT_DIR"):
            Settings(_env_file=None, content_dir=content, newsroom_dir=inside)


def test_every_secret_is_listed_for_the_log_filter_whatever_its_length() -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        webhook_url="https://bot.example/hook",
        webhook_secret=SecretStr("ab"),
    )
    assert settings.secrets == (TOKEN, "ab")
    assert Settings(_env_file=None).secrets == ()
