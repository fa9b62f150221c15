"""The decision policy: schema, loading, reload safety, and every rule of the evaluator."""
from __future__ import annotations

import pytest

from chalicelib.governance.policy import (
    DISPUTE_REASONS,
    DecisionRequest,
    Policy,
    PolicyError,
    PolicyStore,
    UnknownPolicyVersion,
)
from tests.governance.conftest import BASE_POLICY, base_policy_data, write_policy


def dispute(**kw) -> DecisionRequest:
    facts = dict(
        action="file_dispute", category="unauthorised", amount_minor=1_000, currency="USD",
        txn_age_days=10, txn_status="posted", customer_dispute_count_window=0, channel="chat",
    )
    facts.update(kw)
    return DecisionRequest(**facts)


def hold(**kw) -> DecisionRequest:
    facts = dict(action="release_hold", reason_codes=("VELOCITY",), risk_score=0.30, step_up_verified=True)
    facts.update(kw)
    return DecisionRequest(**facts)


# ---- schema and loading -------------------------------------------------------------------


def test_shipped_policy_loads_with_version_from_the_file():
    """Given the shipped policy file / When loaded / Then its version is the one written inside it."""
    p = Policy.load(BASE_POLICY)
    assert p.version == "2026-11-01"
    assert len(p.digest) == 64


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["disputes"]["max_auto_amount_minor"]["USD"].pop("duplicate"), "no limit for dispute reasons ['duplicate']"),
        (lambda d: d["hold_release"]["releasable_reason_codes"].append("SANCTIONS_SCREENING"), "not step-up releasable"),
        (lambda d: d["hold_release"]["releasable_reason_codes"].append("MADE_UP"), "unknown hold reason code"),
        (lambda d: d.update(surprise=True), "surprise"),
        (lambda d: d["hold_release"].update(max_risk_score=1.5), "max_risk_score"),
        (lambda d: d["classifier_confidence_floor"]["by_action"].update(fly=0.5), "unknown action 'fly'"),
        (lambda d: d.pop("version"), "version"),
    ],
)
def test_invalid_policy_is_refused_with_a_clear_error(tmp_path, mutate, message):
    """Given a policy file with one mistake / When loaded / Then PolicyError names the problem."""
    data = base_policy_data()
    mutate(data)
    path = write_policy(tmp_path, data, "policy-broken.yaml")
    with pytest.raises(PolicyError) as exc:
        Policy.load(path)
    assert message in str(exc.value)


def test_file_name_and_version_must_agree(tmp_path):
    """Given policy-X.yaml whose content says version Y / When loaded / Then refused (replay would pick the wrong file)."""
    data = base_policy_data()
    path = write_policy(tmp_path, data, "policy-2027-01-01.yaml")
    with pytest.raises(PolicyError, match="file name says version"):
        Policy.load(path)


def test_not_yaml_is_refused(tmp_path):
    """Given a file that is not YAML / When loaded / Then a PolicyError, not a crash."""
    path = tmp_path / "policy-x.yaml"
    path.write_text("version: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        Policy.load(path)


def test_invalid_reload_keeps_last_good_policy(tmp_path):
    """Given an active valid policy / When the file is replaced by an invalid one and reloaded /
    Then reload raises, the old version stays current, and the error is kept for operators."""
    data = base_policy_data()
    path = write_policy(tmp_path, data, "active.yaml")
    store = PolicyStore(path=path, directory=tmp_path)
    assert store.current().version == "2026-11-01"

    data["disputes"]["window_days"] = -5
    write_policy(tmp_path, data, "active.yaml")
    with pytest.raises(PolicyError, match="window_days"):
        store.reload()
    assert store.current().version == "2026-11-01"
    assert store.current().document.disputes.window_days == 120
    assert store.last_error is not None


def test_valid_reload_activates_the_new_version_without_code_change(tmp_path):
    """Given an active policy / When a new version is written and reloaded / Then it decides from then on."""
    data = base_policy_data()
    path = write_policy(tmp_path, data, "active.yaml")
    store = PolicyStore(path=path, directory=tmp_path)
    assert store.current().evaluate(dispute(amount_minor=30_000)).outcome == "allow"

    data["version"] = "2026-12-01"
    data["disputes"]["max_auto_amount_minor"]["USD"]["unauthorised"] = 20_000
    write_policy(tmp_path, data, "active.yaml")
    assert store.reload().version == "2026-12-01"
    assert store.current().evaluate(dispute(amount_minor=30_000)).outcome == "escalate"


def test_editing_a_published_version_in_place_is_refused(tmp_path):
    """Given version V already loaded / When the same version reappears with other content / Then refused."""
    data = base_policy_data()
    path = write_policy(tmp_path, data, "active.yaml")
    store = PolicyStore(path=path, directory=tmp_path)
    store.current()
    data["disputes"]["window_days"] = 60
    write_policy(tmp_path, data, "active.yaml")
    with pytest.raises(PolicyError, match="already loaded with different content"):
        store.reload()
    assert store.current().document.disputes.window_days == 120


def test_store_finds_old_versions_and_picks_newest_as_current(policy_store):
    """Given two versions in the directory / Then current is the newest and get() returns either."""
    data = base_policy_data()
    data.update(version="2027-01-01", effective_from="2027-01-01")
    write_policy(policy_store.directory, data)
    assert policy_store.current().version == "2027-01-01"
    assert policy_store.get("2026-11-01").version == "2026-11-01"
    with pytest.raises(UnknownPolicyVersion):
        policy_store.get("1999-01-01")


def test_invalid_file_in_directory_does_not_hide_valid_versions(policy_store):
    """Given a broken draft beside the valid policy / When current() / Then the valid one is used."""
    (policy_store.directory / "policy-draft.yaml").write_text("version: draft\n")
    assert policy_store.current().version == "2026-11-01"


# ---- evaluator: every rule ----------------------------------------------------------------


def test_small_dispute_within_policy_is_allowed(policy):
    """Given an eligible small unauthorised dispute / When evaluated / Then allow with within_policy."""
    out = policy.evaluate(dispute())
    assert (out.outcome, out.reasons, out.policy_version) == ("allow", ["within_policy"], "2026-11-01")


@pytest.mark.parametrize("reason", DISPUTE_REASONS)
def test_amount_limit_per_reason(policy, reason):
    """Given each dispute reason / When the amount is at, then one cent over, the limit / Then allow, then escalate."""
    limit = policy.document.disputes.max_auto_amount_minor["USD"][reason]
    assert policy.evaluate(dispute(category=reason, amount_minor=limit)).outcome == "allow"
    over = policy.evaluate(dispute(category=reason, amount_minor=limit + 1))
    assert (over.outcome, over.reasons) == ("escalate", ["amount_over_limit"])


@pytest.mark.parametrize(
    "facts, outcome, reason",
    [
        (dict(txn_age_days=121), "deny", "out_of_window"),
        (dict(txn_age_days=120), "allow", "within_policy"),
        (dict(txn_status="pending"), "deny", "pending_charge"),
        (dict(txn_status="declined"), "deny", "txn_status_not_disputable"),
        (dict(already_disputed=True), "deny", "already_disputed"),
        (dict(customer_dispute_count_window=2), "allow", "within_policy"),
        (dict(customer_dispute_count_window=3), "escalate", "repeat_disputes"),
        (dict(legal_threat=True), "escalate", "legal_threat"),
        (dict(regulator_mention=True), "escalate", "regulator_mention"),
        (dict(vulnerable=True), "escalate", "vulnerable_customer"),
        (dict(classifier_confidence=0.69), "escalate", "low_classifier_confidence"),
        (dict(classifier_confidence=0.70), "allow", "within_policy"),
        (dict(language="fr"), "escalate", "unsupported_language"),
        (dict(language="en-GB"), "allow", "within_policy"),
        (dict(currency="JPY"), "escalate", "currency_not_in_policy"),
        (dict(category="chargeback_fun"), "escalate", "reason_not_in_policy"),
        (dict(amount_minor=None), "escalate", "missing_fact:amount_minor"),
        (dict(txn_status=None), "escalate", "missing_fact:txn_status"),
    ],
)
def test_each_dispute_rule(policy, facts, outcome, reason):
    """Given an otherwise eligible dispute with one fact changed / When evaluated / Then that rule decides."""
    out = policy.evaluate(dispute(**facts))
    assert out.outcome == outcome
    assert out.reasons == [reason]


@pytest.mark.parametrize(
    "facts, outcome, reasons",
    [
        (dict(), "allow", ["within_policy"]),
        (dict(step_up_verified=False), "deny", ["step_up_required"]),
        (dict(risk_score=0.80), "escalate", ["risk_above_limit"]),
        (dict(risk_score=0.79), "allow", ["within_policy"]),
        (dict(reason_codes=("VELOCITY", "COMPROMISE_SUSPECTED")), "escalate", ["hold_reason_not_releasable"]),
        (dict(reason_codes=("CARD_FROZEN",)), "escalate", ["hold_reason_not_releasable"]),
        (dict(reason_codes=()), "escalate", ["missing_fact:reason_codes"]),
        (dict(risk_score=None), "escalate", ["missing_fact:risk_score"]),
        # Step-up would not help: escalate wins over the conditional denial.
        (dict(step_up_verified=False, risk_score=0.95), "escalate", ["risk_above_limit", "step_up_required"]),
    ],
)
def test_each_hold_release_rule(policy, facts, outcome, reasons):
    """Given a hold release with one fact changed / When evaluated / Then the outcome follows that rule."""
    out = policy.evaluate(hold(**facts))
    assert (out.outcome, out.reasons) == (outcome, reasons)


def test_auto_reply_email_rules(policy):
    """Given email replies / Then allowed categories pass, others and low confidence escalate at the email floor."""
    ok = DecisionRequest(action="auto_reply_email", channel="email", category="pending_charge", classifier_confidence=0.9, language="en")
    assert policy.evaluate(ok).outcome == "allow"
    assert policy.evaluate(ok.model_copy(update={"category": "unauthorised"})).reasons == ["category_not_auto_repliable"]
    # 0.80 passes the default floor (0.70) but not the email floor (0.85).
    assert policy.evaluate(ok.model_copy(update={"classifier_confidence": 0.80})).reasons == ["low_classifier_confidence"]


def test_unknown_and_disabled_actions_escalate(policy, tmp_path):
    """Given an action the policy does not know, or one it disables / Then escalate, never allow."""
    assert policy.evaluate(DecisionRequest(action="close_account")).reasons == ["action_not_in_policy"]
    data = base_policy_data()
    data["actions"]["file_dispute"]["enabled"] = False
    off = Policy.load(write_policy(tmp_path, data))
    assert off.evaluate(dispute()).reasons == ["action_disabled"]
    assert off.evaluate(dispute()).outcome == "escalate"


def test_precedence_protected_escalation_beats_denial(policy):
    """Given an out-of-window dispute from a vulnerable customer / Then a human handles it (escalate)."""
    out = policy.evaluate(dispute(txn_age_days=400, vulnerable=True))
    assert out.outcome == "escalate"
    assert out.reasons == ["vulnerable_customer", "out_of_window"]


def test_precedence_denial_beats_ordinary_escalation(policy):
    """Given an out-of-window dispute over the amount limit / Then deny (no human could accept it), both reasons kept."""
    out = policy.evaluate(dispute(txn_age_days=400, amount_minor=10_000_000))
    assert out.outcome == "deny"
    assert out.reasons == ["out_of_window", "amount_over_limit"]


def test_evaluation_is_deterministic(policy):
    """Given the same request twice / Then identical outcomes (replay depends on it)."""
    r = dispute(amount_minor=70_000, customer_dispute_count_window=9, language="de", classifier_confidence=0.1)
    assert policy.evaluate(r) == policy.evaluate(DecisionRequest.model_validate(r.model_dump(mode="json")))


def test_request_refuses_unknown_facts():
    """Given a fact the schema does not know (e.g. free text) / Then refused, so the log stores only typed facts."""
    with pytest.raises(ValueError):
        DecisionRequest(action="file_dispute", description="my card 4111...")


def test_a_clean_start_loads_the_shipped_policies_without_a_warning(caplog):
    """Given the shipped policies folder (decision policies, and the rollout policy beside them in
    policies/rollout/) / When a fresh PolicyStore loads the current policy and the rollout its own /
    Then no file is skipped as invalid and nothing is warned (a warning on every cold start trains
    operators to ignore the one that matters)."""
    import logging

    from chalicelib.governance.rollout import RolloutPolicy

    caplog.set_level(logging.WARNING)
    store = PolicyStore()
    assert store.current().version
    assert RolloutPolicy.load().version.startswith("rollout-")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]
    assert not list(store.directory.glob("rollout-*.yaml")), "the rollout policy must not sit among the decision policies"
