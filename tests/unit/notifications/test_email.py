"""The email service against a minimal SMTP server on loopback (RFC 5321's EHLO, MAIL, RCPT, DATA, QUIT): the mail
that arrives, and a password never offered over a connection without STARTTLS."""

from __future__ import annotations

import asyncio
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_string

import pytest

from notifications.services import DeliveryError
from notifications.services.mail import send_email
from notifications.templates import Notification


class Mailbox(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.mails: list[tuple[str, list[str], str]] = []
        self.commands: list[str] = []


class SmtpSession(socketserver.StreamRequestHandler):
    server: Mailbox

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 mailbox ready")
        sender, recipients = "", []
        while raw := self.rfile.readline():
            command = raw.decode().rstrip("\r\n")
            self.server.commands.append(command.split(" ")[0].upper())
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-mailbox")
                self.reply("250 8BITMIME")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip("<> ")
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip("<> "))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                lines = []
                while (line := self.rfile.readline().decode()) not in (".\r\n", ""):
                    lines.append(line)
                self.server.mails.append((sender, recipients, "".join(lines)))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    server = Mailbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_mail_reaches_the_recipient_with_the_template_subject_and_the_message(mailbox: Mailbox) -> None:
    port = mailbox.server_address[1]
    options = {"host": "127.0.0.1", "port": port, "from": "rollouts@example.com"}
    notification = Notification("Rollout reviews has been completed.", {"email": {"subject": "reviews completed"}})
    asyncio.run(send_email(options, notification, "oncall@example.com"))
    ((sender, recipients, data),) = mailbox.mails
    assert (sender, recipients) == ("rollouts@example.com", ["oncall@example.com"])
    mail = message_from_string(data)
    assert mail["Subject"] == "reviews completed"
    assert mail.get_payload().strip() == "Rollout reviews has been completed."


def test_a_password_is_not_sent_to_a_server_without_starttls(mailbox: Mailbox) -> None:
    port = mailbox.server_address[1]
    options = {"host": "127.0.0.1", "port": port, "from": "a@example.com", "username": "bot", "password": "s3cret"}
    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as raised:
        asyncio.run(send_email(options, Notification("m"), "oncall@example.com"))
    assert "s3cret" not in str(raised.value)
    assert "AUTH" not in mailbox.commands and mailbox.mails == []


def test_an_unreachable_server_is_a_delivery_error(mailbox: Mailbox) -> None:
    port = mailbox.server_address[1]
    mailbox.shutdown()
    mailbox.server_close()
    with pytest.raises(DeliveryError, match=f"email: 127.0.0.1:{port}"):
        asyncio.run(send_email({"host": "127.0.0.1", "port": port}, Notification("m"), "oncall@example.com"))
