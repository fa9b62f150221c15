"""The two fixed demo customers, Alice and Bob: ids, cards, the special transactions the golden
conversations and the README talk about, their fraud decisions and Alice's open case.
"""
from __future__ import annotations

from datetime import date, timedelta

from chalicelib.core.models import (Card, CardStatus, CardType, CaseEvent, CaseState, Customer, DisputeCase, DisputeReason, FraudAction,
                                    FraudDecision, Transaction, TxnStatus)
from chalicelib.demo.records import FRAUD_MODEL_VERSION, DemoClock, DemoData, release_requirements


def demo_customers(clock: DemoClock) -> DemoData:
    d = DemoData()
    alice = Customer(
        customer_id="demo-alice",
        name="Alice Martin",
        email="alice@example.com",
        phone="+1-555-0100",
        date_of_birth=date(1988, 4, 12),
        created_at=clock.at(3 * 365, 10, 0),
    )
    bob = Customer(
        customer_id="demo-bob",
        name="Bob Okafor",
        email="bob@example.com",
        phone="+1-555-0101",
        date_of_birth=date(1975, 11, 3),
        created_at=clock.at(5 * 365, 9, 30),
    )
    d.customers += [alice, bob]
    a1 = Card(card_id="card-alice-1", customer_id="demo-alice", last4="4242", network="visa", status=CardStatus.active)
    # One card of each regulation (Reg E debit, Reg Z credit), so both dispute clocks can be shown.
    a2 = Card(
        card_id="card-alice-2", customer_id="demo-alice", last4="7781", network="mastercard", status=CardStatus.active,
        card_type=CardType.credit,
    )
    b1 = Card(card_id="card-bob-1", customer_id="demo-bob", last4="5454", network="mastercard", status=CardStatus.active)
    d.cards += [a1, a2, b1]

    def t(txn_id, card, descriptor, name, mcc, amount, status, when, channel, country="US", posted_after=None):
        posted = None
        if status is TxnStatus.posted:
            posted = when + (posted_after if posted_after is not None else timedelta(hours=6))
        return Transaction(
            txn_id=txn_id,
            customer_id=card.customer_id,
            card_id=card.card_id,
            card_last4=card.last4,
            descriptor=descriptor,
            merchant_name=name,
            mcc=mcc,
            amount_minor=amount,
            status=status,
            occurred_at=when,
            posted_at=posted,
            country=country,
            channel=channel,
        )

    hold = t("txn-alice-hold", a1, "BESTBUY.COM 00012345", "Best Buy", "5732", 124900, TxnStatus.pending,
             clock.at(1, 19, 42), "ecommerce")
    declined = t("txn-alice-declined", a1, "SHELL OIL 57442", "Shell", "5541", 6410, TxnStatus.declined,
                 clock.at(2, 16, 5), "card_present", country="MX")
    unrec = t("txn-alice-unrec", a1, "PAYPAL *XINGHUA88", "Xinghua88 (via PayPal)", "5999", 21450, TxnStatus.posted,
              clock.at(3, 2, 17), "ecommerce", posted_after=timedelta(hours=9))
    netflix = t("txn-alice-netflix", a2, "NETFLIX.COM", "Netflix", "4899", 1549, TxnStatus.posted,
                clock.at(25, 8, 0), "recurring", posted_after=timedelta(hours=4))
    old = t("txn-alice-old", a2, "DELTA AIR 0062345", "Delta Air Lines", "4511", 38920, TxnStatus.posted,
            clock.at(150, 14, 22), "ecommerce", posted_after=timedelta(days=1))
    amzn = t("txn-alice-amzn", a1, "AMZN MKTP US*2K4", "Amazon Marketplace", "5942", 4299, TxnStatus.posted,
             clock.at(1, 10, 31), "ecommerce", posted_after=timedelta(hours=8))
    dup1 = t("txn-bob-dup-1", b1, "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, TxnStatus.posted,
             clock.at(2, 8, 14), "card_present")
    dup2 = t("txn-bob-dup-2", b1, "SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "5814", 675, TxnStatus.posted,
             clock.at(2, 8, 15), "card_present")
    bob_pending = t("txn-bob-pending", b1, "AMZN MKTP US*7Q1", "Amazon Marketplace", "5942", 5820, TxnStatus.pending,
                    clock.at(1, 13, 48), "ecommerce")
    d.transactions += [hold, declined, unrec, netflix, old, amzn, dup1, dup2, bob_pending]

    d.fraud_decisions += [
        FraudDecision(
            decision_id="fd-alice-hold",
            customer_id="demo-alice",
            txn_id=hold.txn_id,
            action=FraudAction.hold,
            risk_score=0.62,
            reason_codes=["UNUSUAL_AMOUNT"],
            model_version=FRAUD_MODEL_VERSION,
            release_requirements=["step_up_verification"],
            created_at=hold.occurred_at + timedelta(seconds=1),
        ),
        FraudDecision(
            decision_id="fd-alice-declined",
            customer_id="demo-alice",
            txn_id=declined.txn_id,
            action=FraudAction.decline,
            risk_score=0.78,
            reason_codes=["FOREIGN_LOCATION"],
            model_version=FRAUD_MODEL_VERSION,
            release_requirements=release_requirements(["FOREIGN_LOCATION"]),
            created_at=declined.occurred_at + timedelta(seconds=1),
        ),
    ]
    opened_at = clock.at(20, 9, 12)
    review_at = clock.at(18, 15, 40)
    d.cases.append(
        DisputeCase(
            case_id="DSP-ALICE1",
            customer_id="demo-alice",
            txn_id=netflix.txn_id,
            reason=DisputeReason.cancelled_subscription,
            disputed_amount_minor=1549,
            merchant_contacted=True,
            description="I cancelled my Netflix plan before this billing date and was still charged.",
            state=CaseState.under_review,
            channel="chat",
            created_at=opened_at,
            updated_at=review_at,
            provisional_credit_due=opened_at.date() + timedelta(days=10),
            decision_due=opened_at.date() + timedelta(days=45),
            history=[
                CaseEvent(at=opened_at, state=CaseState.opened, note="case created"),
                CaseEvent(at=review_at, state=CaseState.under_review, note="sent to the card network for review"),
            ],
        )
    )
    return d
