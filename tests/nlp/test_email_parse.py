"""Email parsing on the real developer set plus synthetic charset and malformed messages."""
from __future__ import annotations

import mailbox
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

from nlp.email_parse import EmailTooLarge, html_to_text, iter_messages, parse_email, strip_quoted

REPO_ROOT = Path(__file__).resolve().parents[2]
EMAILS = REPO_ROOT.parent / "shared" / "data" / "emails"
ALL_FILES = sorted(p.name for p in EMAILS.glob("*.eml"))

pytestmark = pytest.mark.skipif(not EMAILS.is_dir(), reason="shared email fixtures not present")


def load(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_fixture_parses_with_sender_and_stable_id(name):
    """Given each real message of the developer set
    When parsed
    Then nothing raises, the sender is found and the message id is stable across parses."""
    raw = load(name)
    first, second = parse_email(raw), parse_email(raw)
    assert first.from_ is not None and "@" in first.from_.address
    assert first.message_id == second.message_id
    assert first.size == len(raw)


def test_fixture_set_is_complete():
    """Given the shared data folder
    When listed through iter_messages
    Then all 15 messages come back and README/manifest are skipped."""
    names = [name for name, _ in iter_messages(EMAILS)]
    assert names == ALL_FILES and len(names) == 15


@pytest.mark.parametrize(
    ("name", "field", "expected"),
    [
        ("djmailbox__message_with_single_byte_encoding.eml", "body", "Это сообщение имеет неправильную кодировка"),
        ("mikel__japanese_iso_2022.eml", "body", "すみません"),
        ("mikel__japanese_iso_2022.eml", "subject", "まみむめも"),
        ("spamscope__mail_test_9.eml", "subject", "我把镜头拉近些"),
        ("spamscope__mail_test_9.eml", "body", "你们看看这个是什么"),
        ("phpmime__m0001.eml", "subject", "Mail avec fichier attaché de 1ko"),
        ("cpython__msg_10.eml", "body", "This is a Base64 encoded message."),
        ("flanker__enclosed.eml", "forwarded_body", "чтобы я без вас делал"),
        ("nodemailer__nodemailer.eml", "subject", "Nodemailer is unicode friendly ✔ (1476358788189)"),
        ("enmime__html-only-inline.eml", "body", "Test of HTML section"),
        ("flanker__gmail-invalid-address.eml", "body", "Delivery to the following recipient failed permanently"),
        ("djmailbox__message_with_long_content.eml", "body", "Geralt takes up a contract"),
    ],
)
def test_charsets_and_encodings_decode_to_real_words(name, field, expected):
    """Given messages in cp1251, ISO-2022-JP, GB2312, ISO-8859-1 (QP/base64) and UTF-8
    When parsed
    Then the decoded text holds the real words, not mojibake."""
    parsed = parse_email(load(name))
    assert expected in getattr(parsed, field)


def test_quoted_printable_latin1_part_is_decoded():
    """Given a multipart message with a quoted-printable ISO-8859-1 part
    When parsed
    Then the inverted exclamation mark survives the decoding."""
    assert "¡This is a Quoted Printable encoded message!" in parse_email(load("cpython__msg_10.eml")).full_body


def test_html_only_message_is_converted():
    """Given an HTML-only GB2312 message
    When parsed
    Then the body comes from the HTML converter with tags and head removed."""
    parsed = parse_email(load("spamscope__mail_test_9.eml"))
    assert parsed.body_from_html
    assert "<" not in parsed.body and "MSHTML" not in parsed.body


@pytest.mark.parametrize(
    ("name", "address", "display"),
    [("mikel__raw_email8.eml", "xxxxxxxx@xxx.com", "xxxxx xxxxxx"),
     ("flanker__enclosed.eml", "dan@example.com", "Kirk Douglas")],
)
def test_forwards_expose_the_original_sender(name, address, display):
    """Given an inline "Forwarded message" block and an attached message/rfc822
    When parsed
    Then original_from is the forwarded message's author, distinct from the forwarder."""
    parsed = parse_email(load(name))
    assert parsed.forwarded
    assert parsed.original_from is not None
    assert (parsed.original_from.address, parsed.original_from.name) == (address, display)
    assert parsed.original_from.address != parsed.from_.address


def test_inline_forward_keeps_forwarder_note_and_original_text_apart():
    """Given the inline forward fixture
    When parsed
    Then body is the forwarder's note and forwarded_body the original complaint text."""
    parsed = parse_email(load("mikel__raw_email8.eml"))
    assert parsed.body == "We should not include these files or vcards as attachments."
    assert "Test attachments oddly encoded with japanese charset." in parsed.forwarded_body
    assert "Test attachments" in parsed.triage_text()


@pytest.mark.parametrize("name", ["talon__gmail.eml", "talon__iphone.eml", "talon__outlook.eml"])
def test_replies_are_stripped(name):
    """Given Gmail ("On ... wrote:"), iPhone (signature + quote) and Outlook (From/Sent block) replies
    When parsed
    Then only the new text remains in body, while full_body keeps the history."""
    parsed = parse_email(load(name))
    assert parsed.body == "Hello"
    assert len(parsed.full_body) > len(parsed.body)


def test_attachments_are_listed_not_opened():
    """Given the nodemailer message with an inline image, a GIF and a text file
    When parsed
    Then each is listed with name, type and decoded size, and none leaks into the body."""
    parsed = parse_email(load("nodemailer__nodemailer.eml"))
    listed = {(a.filename, a.content_type) for a in parsed.attachments}
    assert listed == {("image.png", "image/png"), ("nyan cat ✔.gif", "image/gif"), ("notes.txt", "text/plain")}
    assert all(a.size > 0 for a in parsed.attachments)
    assert "Hello to myself" in parsed.body


def test_missing_message_id_is_synthesised_from_the_bytes():
    """Given a message without Message-ID
    When parsed twice, and a one-byte variant once
    Then the synthesised id is flagged, stable for the same bytes and different for other bytes."""
    raw = load("talon__outlook.eml")
    a, b, c = parse_email(raw), parse_email(raw), parse_email(raw + b"\n")
    assert a.message_id_synthesised and a.message_id == b.message_id != c.message_id
    assert not parse_email(load("talon__gmail.eml")).message_id_synthesised


def test_too_large_raises_clear_error():
    """Given a message over the size cap
    When parsed
    Then EmailTooLarge says how large it was and what the limit is."""
    with pytest.raises(EmailTooLarge, match="over the 1000-byte limit"):
        parse_email(load("nodemailer__nodemailer.eml"), max_bytes=1000)


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\xff\xfe\x80 garbage \x9c\n\n\x00", b"From: a@b.example\nSubject: hi\nno blank line here",
     bytes(range(256)) * 8],
    ids=["empty", "garbage", "no-separator", "binary"],
)
def test_garbage_is_flagged_not_raised(raw):
    """Given bytes that are not a well-formed message
    When parsed
    Then a result comes back flagged malformed with its defects listed."""
    parsed = parse_email(raw)
    assert parsed.malformed and parsed.defects


@pytest.mark.parametrize("cut", [300, 3000, 20000])
def test_truncated_message_is_flagged(cut):
    """Given the nodemailer message cut short at several points
    When parsed
    Then it is flagged malformed (missing boundaries) and still yields what it can."""
    parsed = parse_email(load("nodemailer__nodemailer.eml")[:cut])
    assert parsed.malformed
    assert parsed.subject.startswith("Nodemailer") or cut < 1000


SYNTHETIC = [
    ("shift_jis", "カードの請求について問い合わせます", "お支払いの確認"),
    ("koi8-r", "С моей карты списали деньги дважды", "Двойное списание"),
    ("big5", "我的信用卡被重複扣款", "重複扣款"),
    ("windows-1252", "I was charged twice – “urgent” résumé café €42", "Dispute – café"),
    ("euc-jp", "返金がまだです", "返金"),
    ("iso-8859-2", "Płatność kartą została pobrana dwa razy", "Płatność"),
    ("gb18030", "退款还没有到账", "退款"),
]


@pytest.mark.parametrize(("charset", "body", "subject"), SYNTHETIC, ids=[s[0] for s in SYNTHETIC])
def test_synthetic_charsets_round_trip(charset, body, subject):
    """Given a message built with the stdlib email package in a legacy charset (encoded body,
    RFC 2047 subject)
    When parsed
    Then body and subject come back as the original Unicode text."""
    msg = MIMEText(body, "plain", charset)
    msg["Subject"] = Header(subject, charset)
    msg["From"] = "Customer <c@example.com>"
    raw = msg.as_bytes()
    assert body.encode("utf-8") not in raw  # really transported in the legacy charset
    parsed = parse_email(raw)
    assert parsed.body == body
    assert parsed.subject == subject
    assert not parsed.malformed


def test_raw_8bit_windows_1252_body_decodes():
    """Given an 8bit (not base64/QP) windows-1252 body, as old Outlook sends it
    When parsed
    Then curly quotes, dash and euro sign come back."""
    raw = (b"From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=windows-1252\n"
           b"Content-Transfer-Encoding: 8bit\n\n" + "Charged \u201ctwice\u201d \u2013 \u20ac42".encode("cp1252"))
    assert parse_email(raw).body == "Charged \u201ctwice\u201d \u2013 \u20ac42"


def test_wrong_declared_charset_falls_back_and_is_recorded():
    """Given a UTF-8 body declared as us-ascii
    When parsed
    Then the text is decoded as UTF-8 and a charset defect is recorded."""
    raw = ("From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=us-ascii\n\n"
           "Refund of €15 please").encode("utf-8")
    parsed = parse_email(raw)
    assert parsed.body == "Refund of €15 please"
    assert any(d.startswith("charset") for d in parsed.defects)


def test_html_converter_drops_scripts_and_keeps_lines():
    """Given HTML with a script, a style, entities, breaks and a blockquote
    When converted
    Then script/style text is gone, entities decoded, breaks kept and the quote marked."""
    html = ("<html><head><style>p{}</style></head><body><script>alert(1)</script>"
            "<p>Charged &euro;15 &amp; more</p>Line<br>two<blockquote>old</blockquote></body></html>")
    assert html_to_text(html) == "Charged €15 & more\nLine\ntwo\n> old"


def test_signature_sign_off_and_outlook_separator_stripped():
    """Given a body with a sign-off, a name and an Original Message block
    When stripped
    Then only the complaint remains."""
    text = "I was charged twice.\n\nKind regards,\nJane Doe\n\n-----Original Message-----\nFrom: x@y.z\n\nold"
    assert strip_quoted(text) == "I was charged twice."


def test_multipart_html_alternative_prefers_plain():
    """Given a multipart/alternative message with both plain and HTML parts
    When parsed
    Then the plain part is the body (no HTML conversion artefacts)."""
    msg = MIMEMultipart("alternative")
    msg["From"] = "a@b.example"
    msg.attach(MIMEText("plain words", "plain"))
    msg.attach(MIMEText("<p>html words</p>", "html"))
    parsed = parse_email(msg.as_bytes())
    assert parsed.body == "plain words" and not parsed.body_from_html


def test_iter_messages_reads_mbox(tmp_path):
    """Given an mbox file with three messages
    When iterated
    Then each message is yielded separately with an indexed source name."""
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(path))
    for i in range(3):
        m = MIMEText(f"message {i}")
        m["From"] = f"user{i}@example.com"
        m["Subject"] = f"s{i}"
        box.add(m)
    box.close()
    items = list(iter_messages(path))
    assert [n for n, _ in items] == ["box.mbox#0", "box.mbox#1", "box.mbox#2"]
    assert [parse_email(raw).body for _, raw in items] == ["message 0", "message 1", "message 2"]


def test_alternative_parts_are_not_repeated_and_mislabelled_html_is_converted():
    """Given flanker's multipart/alternative whose second 'text/plain' part is really HTML, When
    parsed, Then the body holds the message once and no markup."""
    raw = (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "emails" / "flanker__quoted-printable.eml").read_bytes()
    parsed = parse_email(raw)
    assert "<div" not in parsed.body
    assert parsed.body.count("Hello Bob") == 1
