"""Every AWS client the functions create fails fast (inside the Lex turn budget)."""
from __future__ import annotations

from chalicelib.core.aws import client
from chalicelib.core.settings import Settings


def test_clients_have_short_timeouts_and_bounded_retries(monkeypatch):
    """Given a 2 s dependency timeout, When a client is made, Then connect/read timeouts are 2 s and
    retries are bounded (botocore's defaults would wait 60 s per read)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    c = client("secretsmanager", Settings(dependency_timeout_s=2.0, region="eu-west-1"))
    assert c.meta.config.connect_timeout == 2.0 and c.meta.config.read_timeout == 2.0
    assert c.meta.config.retries["total_max_attempts"] == 3  # botocore: the first call + 2 retries
    assert c.meta.region_name == "eu-west-1"
