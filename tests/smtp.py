"""A real local SMTP server (aiosmtpd) that keeps what it receives."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def start_smtp_with(*, tls_context=None, require_starttls: bool = False, implicit_tls: bool = False,
                    login: tuple[str, str] | None = None):
    """A real aiosmtpd server with STARTTLS or implicit TLS (``tls_context``: an
    ``ssl.SSLContext`` with the server's certificate) and/or AUTH LOGIN/PLAIN for ``login``."""
    from aiosmtpd.smtp import AuthResult

    inbox = Inbox()
    inbox.logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = login is not None and (auth_data.login.decode(), auth_data.password.decode()) == login
        if ok:
            inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    kwargs: dict = {}
    if login is not None:
        kwargs.update(authenticator=authenticator, auth_require_tls=tls_context is not None)
    if implicit_tls:
        kwargs["ssl_context"] = tls_context
    elif tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, inbox


def self_signed_certificate(folder) -> tuple[str, str]:
    """(certificate, key) files for 127.0.0.1, made with the openssl command-line tool."""
    import subprocess
    cert, key = str(folder / "smtp-cert.pem"), str(folder / "smtp-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class HungServer:
    """A socket that accepts SMTP connections and never says a word (a hung relay)."""

    def __init__(self):
        import threading
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]
        self.accepted = threading.Event()
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted.set()

    def hang_up(self):
        """Close the accepted connections (the client sees the server go away)."""
        for connection in self.connections:
            connection.close()

    def stop(self):
        self.hang_up()
        self.socket.close()
