"""A real SMTP server for the tests (aiosmtpd): every message it accepts is written to FOLDER as NNNN.eml, its envelope
(sender, recipients, whether the session was under TLS and authenticated) beside it as NNNN.json.

    smtp-sink.py FOLDER PORT [--starttls CERT KEY | --tls CERT KEY] [--auth USER:PASSWORD] [--reject ADDRESS]...

With --starttls the server offers STARTTLS; with --tls it speaks TLS from the first byte (smtps); with --auth it
requires a login (only after STARTTLS when both are given); each --reject ADDRESS is refused for good (550 5.1.1), as
a server refuses an address that does not exist.
"""
import asyncio, json, os, ssl, sys, time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, folder, rejected=()):
        self.folder = folder
        self.count = 0
        self.rejected = set(rejected)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rejected:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.folder, "%04d" % self.count)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": tls,
                "authenticated": bool(session.authenticated)}
        with open(name + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(name + ".tmp", name + ".eml")
        return "250 Message accepted"


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    os.makedirs(folder, exist_ok=True)
    args = sys.argv[3:]
    options = {}
    if "--starttls" in args:
        i = args.index("--starttls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args[i + 1], args[i + 2])
        options.update(tls_context=context, require_starttls=True)
    if "--tls" in args:
        i = args.index("--tls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args[i + 1], args[i + 2])
        options.update(ssl_context=context)
    if "--auth" in args:
        user, password = args[args.index("--auth") + 1].split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = getattr(auth_data, "login", None) == user.encode() and getattr(auth_data, "password", None) == password.encode()
            return AuthResult(success=ok)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls="--starttls" in args)
    rejected = [args[i + 1] for i, arg in enumerate(args) if arg == "--reject"]
    controller = Controller(Sink(folder, rejected), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("listening", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
