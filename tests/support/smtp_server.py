"""A real SMTP server for tests/email.rs (Debian's python3-aiosmtpd), on loopback.

    smtp_server.py CERT KEY USER PASSWORD

Listens on 127.0.0.1 on a free port, offers STARTTLS with CERT/KEY and requires it, and
requires AUTH as USER/PASSWORD (only after STARTTLS). Prints `READY <port>`, then one JSON line
per message received: {"from", "to", "auth", "content"}. Runs until stdin closes.
"""
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Printer:
    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        print(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "auth": login,
                          "content": envelope.content.decode("utf-8", "replace")}), flush=True)
        return "250 OK"


def main():
    cert, key, user, password = sys.argv[1:5]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, auth_data=auth_data if ok else None)

    with socket.socket() as probe:  # a free port (the controller checks its own by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Printer(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=authenticator)
    controller.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    controller.stop()


main()
