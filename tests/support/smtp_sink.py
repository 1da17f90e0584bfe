"""A small SMTP server on 127.0.0.1 that keeps every mail it is given: enough of RFC 5321
(EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for Python's smtplib to deliver to
it, so a test reads the mail a real client sent over a real socket."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None  # the user name it authenticated as, if it did


@dataclass
class SmtpSink:
    mails: list[Mail] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, user: str = "", password: str = "", sender: str = "") -> str:
        auth = f"{user}:{password}@" if user else ""
        query = f"?from={sender}" if sender else ""
        return f"smtp://{auth}127.0.0.1:{self.port}{query}"

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        sender, recipients, login = "", [], None
        await say("220 sink ESMTP ready")
        try:
            while line := await reader.readline():
                verb, _, rest = line.decode().strip().partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    await say("250-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME")
                elif verb == "HELO":
                    await say("250 sink")
                elif verb == "AUTH":
                    _, _, blob = rest.partition(" ")
                    login = base64.b64decode(blob).split(b"\0")[1].decode()
                    await say("235 2.7.0 authenticated")
                elif verb == "MAIL":
                    sender = rest.split(":", 1)[1].strip().strip("<>").split(">")[0]
                    await say("250 OK")
                elif verb == "RCPT":
                    recipients.append(rest.split(":", 1)[1].strip().strip("<>"))
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    message = message_from_bytes(bytes(data), policy=policy.default)
                    self.mails.append(Mail(sender, recipients, message, login))  # type: ignore[arg-type]
                    sender, recipients = "", []
                    await say("250 OK queued")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:  # RSET, NOOP and anything else: fine by the sink
                    await say("250 OK")
        finally:
            writer.close()
