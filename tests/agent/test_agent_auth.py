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


def test_given_cognito_claims_when_authenticating_then_the_agent_role_and_queues_come_from_them():
    from chalicelib.tickets.agent_auth import CognitoClaimsAuthenticator

    auth = CognitoClaimsAuthenticator()
    who = auth.authenticate_claims({"cognito:username": "dana", "custom:role": "supervisor", "custom:queues": "fraud, disputes"})
    assert who.supervisor and who.may_work("general")
    assert auth.authenticate_claims({"cognito:username": "eve", "custom:queues": "fraud"}).may_work("fraud")
    with pytest.raises(Unauthorized):
        auth.authenticate_claims(None)
    with pytest.raises(Forbidden, match="queues"):
        auth.authenticate_claims({"cognito:username": "eve", "custom:queues": "frud"})


def test_given_a_user_pool_when_the_app_is_packaged_then_every_agent_route_uses_the_cognito_authorizer(tmp_path):
    import subprocess
    import sys

    code = ("import app; r = app.app.routes; "
            "print(sorted({type(m.authorizer).__name__ for p, ms in r.items() if p.startswith('/agent') for m in ms.values()}))")
    env = {"DA_AGENT_USER_POOL_ARN": "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_demo", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "['CognitoUserPoolAuthorizer']", out.stderr[-1500:]
