"""Names in signatures, other languages' sign-offs, relatives, the card, and the mail's own headers
(issue 11): a letter's author and the people it names leave as [NAME]; departments do not."""
from __future__ import annotations

import pytest

from nlp.redact import redact
from nlp.triage import triage_email

BODY = "I want the late fee removed and a written answer within ten days. I will escalate if necessary."


@pytest.mark.parametrize("ending", [
    "\n\nMargaret Oyelaran-Fitz",
    "\n\nTobias van der Berg",
    "\n\nYuki Tanabe, CPA",
    "\n\nDr. Ama Boateng",
    "\n\nKind regards,\nMargaret Oyelaran-Fitz",
    "\n\nBest,\n\nMargaret Oyelaran-Fitz",
    "\n\nThanks, Margaret Oyelaran-Fitz",
    "\n\nThanks Margaret",
    "\n\nKind regards Margaret Oyelaran-Fitz",
])
def test_a_name_that_ends_the_letter_is_redacted(ending):
    """Given a letter that ends with the author's name alone, under a sign-off, with a credential or
    an honorific, or on the sign-off line itself
    When it is redacted
    Then the name is a [NAME] token and nothing of it is left."""
    out = redact(BODY + ending).text
    assert "[NAME]" in out
    for part in ("Margaret", "Oyelaran", "Tobias", "Berg", "Yuki", "Tanabe", "Ama", "Boateng"):
        assert part not in out


@pytest.mark.parametrize("sign_off,name", [
    ("Cordialement,", "Élodie Marchand"), ("Bien à vous,", "Élodie Marchand"),
    ("Mit freundlichen Grüßen", "Jürgen Hoffmann"), ("Viele Grüße", "Jürgen Hoffmann"),
    ("Atentamente,", "María José Fernández"), ("Saludos cordiales,", "Iñaki Etxeberria"), ("Un saludo,", "Lucía"),
    ("Grazie,", "Giulia Bianchi"), ("Cordiali saluti", "Giulia Bianchi"),
    ("Atenciosamente,", "João Gonçalves"), ("Met vriendelijke groet,", "Sanne de Vries"),
])
def test_a_name_under_a_sign_off_in_another_language_is_redacted(sign_off, name):
    """Given a letter signed under a French, German, Spanish, Italian, Portuguese or Dutch sign-off
    When it is redacted
    Then the name under it goes, even a first name alone; the sign-off stays."""
    out = redact(f"Merci de bloquer la carte.\n\n{sign_off}\n{name}\n").text
    assert out == f"Merci de bloquer la carte.\n\n{sign_off}\n[NAME]\n"


def test_the_phone_under_a_signature_name_goes_with_it():
    """Given a signature block: sign-off, name, then a bare phone line in a national format
    When it is redacted
    Then the name and the phone are both tokens."""
    out = redact("Please refund me.\n\nSaludos,\nPilar Ortega\n+34 91 123 45 67\n").text
    assert out.endswith("Saludos,\n[NAME]\n[PHONE]\n")


def test_a_signature_before_the_quoted_mail_or_a_forwarded_receipt_is_redacted():
    """Given the author's first and last name alone as a paragraph, followed by a forwarded receipt
    When it is redacted
    Then the name goes and the receipt (amounts, merchant) is kept."""
    text = ("Please refund one of them.\n\nDmitri Volkov\n\nThanks for visiting Corner Bakery!\n"
            "1 x Croissant   $4.10\nTotal   $4.10")
    out = redact(text).text
    assert "Dmitri" not in out and "Volkov" not in out
    assert out.endswith("Thanks for visiting Corner Bakery!\n1 x Croissant   $4.10\nTotal   $4.10")


@pytest.mark.parametrize("phrase,name", [
    ("You can also call my husband", "Tiago Moreira"), ("please contact my assistant", "Priscilla Adebayo"),
    ("my daughter,", "Sofia Lindqvist"), ("talk to my lawyer", "Hamid Rahimi"),
    ("mi esposa", "Carmen Ruiz"), ("ma fille", "Chloé Bernard"), ("meine Frau", "Anke Schulz"),
    ("my name on the card is", "Siobhán O'Connell"), ("the card is in the name of", "Ravi Shankar Iyer"),
    ("me llamo", "Andrés Felipe Gómez"), ("je m'appelle", "Hélène Dubois"), ("ich heiße", "Lars Petersen"),
    ("Bonjour Madame", "Dubois"), ("Sehr geehrter Herr", "Schmidt"), ("Hola", "Camila"),
])
def test_a_person_named_by_relation_card_or_greeting_is_redacted(phrase, name):
    """Given a person named after a relative or a role, the name read off the card, a
    self-introduction or a greeting in another language
    When it is redacted
    Then the name goes and the words before it stay."""
    out = redact(f"{phrase} {name} about the charge.").text
    assert out == f"{phrase} [NAME] about the charge."


def test_the_full_stop_after_a_name_stays_and_an_initial_goes_with_the_name():
    """Given a name read off the card at the end of a sentence, and one with a middle initial
    When it is redacted
    Then the sentence keeps its full stop, and the initial is part of the name token."""
    assert redact("The card is in the name of Goran Fairweather.").text == "The card is in the name of [NAME]."
    assert redact("my wife Ana J. Costa called").text == "my wife [NAME] called"


@pytest.mark.parametrize("text", [
    "Dear Mortgage Servicing Department,\nplease fix my escrow.",
    "Hello Card Services Team, my card was declined.",
    "I complained to the Consumer Financial Protection Bureau yesterday.",
    "My son is away and my wife is at work, so I am writing myself.",
    "Please contact my bank about it.",
    "The amount was wrong.\n\nChapter Three",
    "Re: order\n\nOrder Summary\n\nTotal $12.00",
    "I called three times.\n\nPlease Help",
    "I shopped there twice.\n\nBest Buy",
    "Please fix it.\n\nThanks for everything",
    "Still nothing.\n\nPending Transaction",
    "see below\n\nDuplicate Charge Refund Request",
])
def test_departments_headings_and_plain_words_are_not_names(text):
    """Given departments after "Dear", a regulator, relatives without a name, headings and a
    capitalised plea at the end
    When they are redacted
    Then nothing becomes a [NAME]."""
    assert "[NAME]" not in redact(text).text


@pytest.mark.parametrize("merchant", ["Whole Foods", "Prime Video", "Trader Joe's"])
def test_a_merchant_alone_on_the_last_line_is_not_a_signature(merchant):
    """Given a short message whose last line is a merchant of the directory or the built-in list
    When it is redacted
    Then the merchant stays (the dispute needs it)."""
    text = f"I was charged twice yesterday.\n\n{merchant}"
    assert redact(text).text == text


def test_every_other_mention_of_a_found_name_goes_too():
    """Given a signature "Linh Nguyen" and, later in the quoted mail, "Hi Linh," and "Ms Nguyen"
    When it is redacted
    Then each part of the name is a token wherever it appears."""
    text = "I want this disputed.\n\nLinh Nguyen\nSenior Analyst\n\nHi Linh,\nyour plan renewed, Ms Nguyen."
    out = redact(text).text
    assert "Linh" not in out and "Nguyen" not in out


def test_a_first_name_at_a_sentence_start_is_kept_unless_addressed():
    """Given a known person "Will Parker" and the sentence "Will you refund it?"
    When it is redacted with that name known
    Then "Will" at the head of a question stays, "Parker" and an addressed "Will," go."""
    out = redact("Will you refund it? Parker said so. Will, call me.", known_names=("Will Parker",)).text
    assert out == "Will you refund it? [NAME] said so. [NAME], call me."


def test_known_sender_names_are_redacted_in_the_body():
    """Given a name the caller knows from the mail headers, written "Last, First"
    When a body that addresses the person by first name is redacted
    Then the mention is a token; a one-word display name (a company) is not used."""
    assert redact("Mark, there's a charge on our card.", known_names=("Delaney, Mark",)).text == \
        "[NAME], there's a charge on our card."
    assert redact("StreamMax renewed it.", known_names=("StreamMax",)).text == "StreamMax renewed it."


def test_an_email_senders_display_name_is_redacted_where_the_body_uses_it():
    """Given a forwarded mail whose body addresses the forwarder by first name only
    When the email is triaged
    Then the first name is redacted in the stored text and the sender's name is in no field."""
    raw = (b"From: Conor Brennan <conor@example.com>\r\nTo: disputes@bank.example\r\n"
           b"Subject: Fwd: charge on our card\r\nMessage-ID: <t1@example.com>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Conor, there's a charge for $742.18 from VITALIS PHARMA on our card. Please dispute it.\r\n")
    result = triage_email(raw)
    dumped = result.model_dump_json()
    assert result.redacted_text.startswith("charge on our card\n\n[NAME], there's a charge for $742.18")
    assert "Conor" not in dumped and "Brennan" not in dumped
