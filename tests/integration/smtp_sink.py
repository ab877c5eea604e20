"""A real SMTP server for the integration tests, built on aiosmtpd.

Usage: smtp_sink.py PORT DIR

Listens on 127.0.0.1:PORT and writes every email it accepts to DIR as one JSON file (envelope,
decoded headers, text and HTML parts, raw source), renamed into place so a reader never sees half
a file. Recipients whose address starts with "rejected" are refused with a permanent 550, as a
real server refuses an unknown mailbox. Prints "ready" once it accepts connections.
"""

import email
import email.policy
import json
import os
import signal
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("rejected"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        queue_id = uuid.uuid4().hex
        record = {
            "queue_id": queue_id,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "subject": str(msg["subject"]),
            "message_id": str(msg["message-id"]),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "raw": raw.decode("utf-8", "replace"),
        }
        final = os.path.join(self.directory, queue_id + ".json")
        with open(final + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(final + ".tmp", final)
        return "250 2.0.0 Ok: queued as " + queue_id


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
