"""Agent tokens: a misconfigured DA_AGENT_TOKENS fails loudly instead of granting a wider scope."""
from __future__ import annotations

import pytest

from chalicelib.tickets.agent_auth import Forbidden, TokenAuthenticator, Unauthorized, parse_agent_tokens


@pytest.mark.parametrize("raw, words", [
    ("{not json", "not valid JSON"),
    ('["a"]', "JSON object"),
    ('{"t": {"role": "agent"}}', "'agent'"),
    ('{"t": {"agent": "a", "role": "boss"}}', "'role'"),
    ('{"t": {"agent": "a", "queues": ["frud"]}}', "'queues'"),
])
def test_given_a_bad_token_setting_when_parsed_then_a_clear_error(raw, words):
    with pytest.raises(ValueError, match=words):
        parse_agent_tokens(raw)


def test_given_tokens_when_authenticating_then_only_a_bearer_of_a_known_token_passes():
    auth = TokenAuthenticator(parse_agent_tokens('{"t1": {"agent": "dana", "queues": ["disputes"]}}'))
    who = auth.authenticate("Bearer t1")
    assert who.agent == "dana" and who.may_work("disputes") and not who.may_work("fraud")
    for header in (None, "t1", "Bearer t2", "Basic t1"):
        with pytest.raises(Unauthorized):
            auth.authenticate(header)
    with pytest.raises(Forbidden, match="supervisor"):
        who.require_supervisor("reassign tickets")
