import pytest
from pydantic import SecretStr, ValidationError

from hub.settings import Settings


def test_one_department_field_from_the_environment_keeps_the_others(monkeypatch):
    monkeypatch.setenv("HUB_CHARITY__TIMEOUT", "1.5")
    monkeypatch.setenv("HUB_CHARITY__CREDENTIALS_HEADER", "X-Api-Key")
    monkeypatch.setenv("HUB_CHARITY__CREDENTIALS", "s3cret")
    settings = Settings()
    assert settings.charity.timeout == 1.5
    assert settings.charity.base_url == "http://127.0.0.1:8107"
    assert settings.charity.headers() == {"X-Api-Key": "s3cret"}
    assert "s3cret" not in repr(settings)


def test_a_real_department_url_is_taken(monkeypatch):
    monkeypatch.setenv("HUB_EDUCATION__BASE_URL", "https://jw.example.gov.cn/api")
    assert Settings().education.base_url == "https://jw.example.gov.cn/api"


SECRET = "s" * 32
BEYOND_LOOPBACK = ["0.0.0.0", "10.1.2.3", "hub.example"]  # noqa: S104


@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_development_mode_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ValidationError, match="loopback only"):
        Settings(host=host)


@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_production_mode_may_listen_beyond_loopback(host):
    assert Settings(host=host, env="production", secret_key=SecretStr(SECRET)).host == host


def test_loopback_addresses_are_accepted():
    assert Settings(host="::1").host == "::1"
    assert Settings(host="localhost").host == "localhost"


def test_production_needs_a_secret_key_of_its_own():
    with pytest.raises(ValidationError, match="HUB_SECRET_KEY is required in production"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(env="production", secret_key=SecretStr("short"))
    assert Settings(env="production", secret_key=SecretStr(SECRET)).secret == SECRET.encode()
    # Development runs on a key of its own, which production never accepts silently.
    assert Settings().secret != SECRET.encode()
