"""Governance metrics as CloudWatch embedded metric format (EMF) log lines.

Why EMF: a Lambda writes one JSON line to stdout and CloudWatch turns it into metrics, with no
API call on the hot path and no extra latency or cost per request. Why our own small writer rather
than Powertools ``Metrics``: Powertools allows one dimension set per flush and flushes at the end
of a decorated handler; governance metrics need a different dimension per metric (escalation
reason, tier, confidence bucket) and are emitted from services, not handlers. The documents follow
the same specification (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).

Locally nothing is printed unless asked: EMF output is on when running in Lambda
(``AWS_LAMBDA_FUNCTION_NAME`` set) or ``DA_METRICS=emf``; ``DA_METRICS=off`` silences it anywhere.

Metrics (namespace ``DisputeAssistant``, dimension ``service`` plus the listed one):

- ``Decisions`` (Action) and ``Contained`` (Action): containment rate = Contained / Decisions
  (a decision is contained when the assistant's own outcome stood: not escalated, not shadow);
- ``Escalations`` (Reason): one per reason code of an escalated decision;
- ``TierUsage`` (Tier): which model tier served the decision (rules | local | comprehend | human);
- ``DecisionCostUSD`` (Action): cost attributed to each decision;
- ``TimeToHumanEscalationSeconds`` (Channel): from the customer's first message to the handoff;
- ``ClassifierConfidence`` (Bucket "0.0-0.1" … "0.9-1.0"): counts per bucket, the drift signal;
- ``EscalationReviewed`` (Reason, Verdict necessary | unnecessary) and ``AutomatedDecisionOverturned``
  (Action): false-positive / false-negative rates of escalation once agents record outcomes;
- fraud incidents, each also one ``fraud_incident`` log line: ``FraudHolds`` / ``FraudDeclines``
  (ReasonCode, from the stream), ``FraudHoldReleases`` (Channel), ``FraudConfirmed`` (Channel) and
  ``TimeToCustomerResponseSeconds`` (Answer yes | not_me): the hold's notice to the customer's answer.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Callable

NAMESPACE = "DisputeAssistant"
incident_log = logging.getLogger("dispute_assistant.fraud_incident")


def confidence_bucket(confidence: float) -> str:
    """Ten equal buckets; 1.0 falls in the top one."""
    i = min(9, max(0, int(confidence * 10)))
    return f"{i / 10:.1f}-{(i + 1) / 10:.1f}"


def _default_enabled() -> bool:
    setting = os.environ.get("DA_METRICS", "").lower()
    if setting in ("off", "0", "false", "none"):
        return False
    if setting == "emf":
        return True
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


class GovernanceMetrics:
    def __init__(
        self,
        namespace: str = NAMESPACE,
        service: str = "dispute-assistant",
        *,
        sink: Callable[[str], None] | None = None,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.namespace = namespace
        self.service = service
        self.sink = sink or (lambda line: print(line, file=sys.stdout, flush=True))
        self.enabled = _default_enabled() if enabled is None else enabled
        self.clock = clock

    def put(self, name: str, value: float, unit: str = "Count", **dimensions: str) -> dict | None:
        """Emit one EMF document with one metric; returns it (None when disabled)."""
        if not self.enabled:
            return None
        from chalicelib.core.pci import guard_text  # a dimension value is stored and shown like any log line

        dims = {"service": self.service, **{k: guard_text(str(v)) for k, v in dimensions.items()}}
        doc = {
            "_aws": {
                "Timestamp": int(self.clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [sorted(dims)],
                        "Metrics": [{"Name": name, "Unit": unit}],
                    }
                ],
            },
            **dims,
            name: value,
        }
        self.sink(json.dumps(doc, sort_keys=True, separators=(",", ":")))
        return doc

    # ---- governance events ---------------------------------------------------------------

    def decision(self, decision) -> None:
        """Everything one recorded decision says: counts, containment, escalation reasons, tier, cost."""
        action = decision.action
        self.put("Decisions", 1, Action=action)
        contained = decision.outcome != "escalate" and not decision.shadow
        self.put("Contained", 1 if contained else 0, Action=action)
        if decision.outcome == "escalate":
            for reason in decision.reasons or ["unspecified"]:
                self.put("Escalations", 1, Reason=reason.split(":", 1)[0])
        if decision.tier:
            self.put("TierUsage", 1, Tier=decision.tier)
        self.put("DecisionCostUSD", decision.cost_usd, "None", Action=action)
        confidence = (decision.inputs or {}).get("classifier_confidence")
        if confidence is not None:
            self.classifier_confidence(confidence)

    def classifier_confidence(self, confidence: float) -> None:
        self.put("ClassifierConfidence", 1, Bucket=confidence_bucket(confidence))

    def time_to_human(self, seconds: float, channel: str = "chat") -> None:
        self.put("TimeToHumanEscalationSeconds", seconds, "Seconds", Channel=channel)

    def escalation_reviewed(self, reason: str, necessary: bool) -> None:
        """An agent judged an escalation: unnecessary ones are the escalation false positives."""
        self.put("EscalationReviewed", 1, Reason=reason, Verdict="necessary" if necessary else "unnecessary")

    def automated_decision_overturned(self, action: str) -> None:
        """A human reversed an automated (non-escalated) decision: an escalation false negative."""
        self.put("AutomatedDecisionOverturned", 1, Action=action)


    # ---- fraud incidents (issue 12): one EMF metric and one structured log line each ----------

    def incident(self, kind: str, metric: str, value: float = 1, unit: str = "Count", *, dimension: tuple[str, str],
                 **fields: object) -> None:
        """Why both: the metric is what an alarm and a dashboard read; the log line is the compliance
        record of that one incident (ids, last 4, amount; never a card number or a name), written
        whether or not EMF output is on."""
        incident_log.info(json.dumps({"event": "fraud_incident", "incident": kind, "metric": metric, "value": value,
                                      **fields}, sort_keys=True, default=str))
        self.put(metric, value, unit, **{dimension[0]: dimension[1]})

    def hold_released(self, channel: str = "chat", **fields: object) -> None:
        self.incident("hold_released", "FraudHoldReleases", dimension=("Channel", channel), **fields)

    def fraud_confirmed(self, channel: str = "chat", **fields: object) -> None:
        """The customer said a held or declined payment was not theirs."""
        self.incident("fraud_confirmed", "FraudConfirmed", dimension=("Channel", channel), **fields)

    def time_to_customer_response(self, seconds: float, answer: str, **fields: object) -> None:
        """From the hold's notice to the customer's answer (yes, it was me / no, it was not)."""
        self.incident("customer_response", "TimeToCustomerResponseSeconds", round(max(0.0, seconds), 3), "Seconds",
                      dimension=("Answer", answer), **fields)
