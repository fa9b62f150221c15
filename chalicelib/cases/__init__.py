"""Dispute cases: lifecycle (who may move a case, and why), deadlines (Reg E / Reg Z / card
network), network reason codes and the evidence each reason needs."""
