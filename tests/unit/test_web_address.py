"""`bosetting dev up` and `make demo` name the web app's address."""

from workers.cli.common import web_app_hint, web_app_url
from workers.platform.settings import Settings


def test_the_web_app_is_named_where_the_api_listens(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, api_host="127.0.0.1", api_port=8123)
    assert web_app_url(settings) == "http://127.0.0.1:8123/app"
    hint = web_app_hint(settings)
    assert "http://127.0.0.1:8123/app" in hint
    assert "bosetting dev up" in hint


def test_dev_up_names_the_web_app_among_the_parts(tmp_path) -> None:
    from workers.cli.dev import running_banner

    settings = Settings(state_dir=tmp_path, api_port=8123)
    banner = running_banner(settings, tmp_path / "logs")
    assert "web app       http://127.0.0.1:8123/app" in banner
