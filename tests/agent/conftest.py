"""An agent world: the demo World, agent tokens, and the app's agent API through Chalice's client."""
from __future__ import annotations

import json

import pytest

from tests.world import World

TOKENS = {
    "tok-dana": {"agent": "dana", "role": "agent", "queues": ["disputes", "general"]},
    "tok-frank": {"agent": "frank", "role": "agent", "queues": ["fraud"]},
    "tok-sue": {"agent": "sue", "role": "supervisor", "queues": []},
}


class AgentClient:
    def __init__(self, http):
        self.http = http

    def call(self, method: str, path: str, token: str | None = "tok-dana", body=None, raw: str | None = None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        resp = getattr(self.http, method.lower())(path, headers=headers, body=data) if method != "GET" else \
            self.http.get(path, headers=headers)
        return resp.status_code, (json.loads(resp.body) if resp.body else None)


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


@pytest.fixture
def agent_api(world, monkeypatch):
    from chalice.test import Client

    import app as app_module
    from chatbot import agent_api
    from chatbot.bootstrap import Container

    from pydantic import SecretStr

    settings = world.settings.model_copy(update={"agent_tokens": SecretStr(json.dumps(TOKENS))})
    built = agent_api.build_agent_api(world.services, settings)
    monkeypatch.setattr(app_module.app, "container", Container(settings, agent_api=built))
    with Client(app_module.app) as c:
        yield AgentClient(c.http)
