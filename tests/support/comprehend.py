"""Amazon Comprehend for tests: a real boto3 client served by a botocore ``Stubber`` with the
documented response shapes from ``../shared/data/comprehend/`` (moto's Comprehend is canned).

Why a real client and not a fake object: the tier under test registers botocore event hooks and
reads botocore's own errors, which only a real client raises the way production sees them.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from nlp.comprehend import client_config

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "comprehend"
PAN = "4539 1488 0343 6467"  # Luhn-valid test Visa number
UNSURE_LONG = "Something odd happened with my account and I do not know what it is. " * 12  # > 500 chars


def response(name: str) -> dict:
    """A fresh copy of a documented Comprehend response (tests may alter it)."""
    return copy.deepcopy(json.loads((SHARED / name).read_text(encoding="utf-8"))["response"])


SENTIMENT = response("DetectSentiment__aws-cli.json")  # POSITIVE
LANGUAGE = response("DetectDominantLanguage__aws-cli.json")  # en 0.98


def make_client():
    """A Comprehend client with fake credentials and the production timeouts, no retries."""
    return boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=client_config(2.0, 0))


@pytest.fixture
def client():
    return make_client()


@pytest.fixture
def stub(client):
    """The client's Stubber, active for the test; every queued response must have been used."""
    with Stubber(client) as s:
        yield s
        s.assert_no_pending_responses()
