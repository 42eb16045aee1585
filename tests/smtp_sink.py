#!/usr/bin/env python3
"""A real SMTP server on loopback for dupin's mail tests.

    python3 tests/smtp_sink.py PORT FOLDER [--reject-domain DOMAIN]

Writes every accepted message to FOLDER as NNNNNN.eml (the raw message, with X-Envelope-From and
X-Envelope-To headers in front) and beside it NNNNNN.json (envelope, headers, the text and HTML
parts decoded, inline images in base64 with their Content-ID), writes FOLDER/ready once it
listens, and runs until killed.
Recipients at DOMAIN are refused with 550 (a permanent failure).
"""

import argparse
import base64
import email
import email.policy
import json
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, reject_domain):
        self.folder = folder
        self.reject_domain = reject_domain
        self.lock = threading.Lock()
        self.count = len([n for n in os.listdir(folder) if n.endswith(".eml")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_domain and address.lower().endswith("@" + self.reject_domain):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        head = ("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ", ".join(envelope.rcpt_tos))).encode("utf-8")
        with self.lock:
            self.count += 1
            name = "%06d-%d.eml" % (self.count, os.getpid())
        tmp = os.path.join(self.folder, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head + data)
        os.rename(tmp, os.path.join(self.folder, name))
        summary = summarise(envelope, data)
        tmp = os.path.join(self.folder, name[:-4] + ".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.folder, name[:-4] + ".json"))
        return "250 Message accepted for delivery"


def summarise(envelope, data):
    message = email.message_from_bytes(data, policy=email.policy.default)
    text, html, images, types = None, None, [], []
    for part in message.walk():
        types.append(part.get_content_type())
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and text is None:
            text = part.get_content()
        elif kind == "text/html" and html is None:
            html = part.get_content()
        elif kind.startswith("image/"):
            images.append({
                "content_type": kind,
                "content_id": (part.get("Content-ID") or "").strip().strip("<>"),
                "disposition": part.get_content_disposition(),
                "base64": base64.b64encode(part.get_payload(decode=True) or b"").decode("ascii"),
            })
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "message_id": str(message.get("Message-ID", "")),
        "content_types": types,
        "text": text,
        "html": html,
        "images": images,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("folder")
    parser.add_argument("--reject-domain", default="")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    controller = Controller(
        Sink(args.folder, args.reject_domain.lower()),
        hostname="127.0.0.1",
        port=args.port,
        decode_data=False,
        enable_SMTPUTF8=True,
    )
    controller.start()
    with open(os.path.join(args.folder, "ready"), "w") as f:
        f.write(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.is_set():
            time.sleep(0.1)
    finally:
        controller.stop()
        try:
            os.remove(os.path.join(args.folder, "ready"))
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
