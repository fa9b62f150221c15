"""The Comprehend client and its Stubber, for the tier and tiering tests (one copy: tests.support)."""
from tests.support.comprehend import client, stub  # noqa: F401
