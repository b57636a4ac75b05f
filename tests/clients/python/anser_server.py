"""Runs `anser serve` on a free loopback port for the tests, and stops it."""

import os
import re
import signal
import subprocess
import threading

BINARY = os.environ["ANSER_BINARY"]
SHARED = os.environ["ANSER_SHARED_DIR"]

TEXT_MODEL = ["-m", f"{SHARED}/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth",
              "--vocab", f"{SHARED}/vocab/rwkv_vocab_v20230424.txt"]
BYTE_MODEL = ["-m", f"{SHARED}/fixtures/tiny-rwkv7-834K/model.fp32.pth"]

START_TIMEOUT_S = 120
# The issue: SIGTERM ends the server within 5 seconds.
STOP_TIMEOUT_S = 5


class AnserServer:
    """`anser serve ARGS --port 0`: ready once its stderr says "model ready:"."""

    def __init__(self, *args):
        self.log = []
        self.url = None
        self._ready = threading.Event()
        self._process = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "1", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace")
        # The server logs every request on stderr: it is read to the end, or the pipe would fill.
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT_S) or self.url is None:
            self._process.kill()
            self._process.wait()
            raise RuntimeError("anser serve did not become ready:\n" + self.log_text())

    def _read_stderr(self):
        for line in self._process.stderr:
            line = line.rstrip("\n")
            self.log.append(line)
            listening = re.match(r"listening on (http://\S+:\d+)$", line)
            if listening:
                self.url = listening.group(1)
            if line.startswith("model ready:"):
                self._ready.set()
        self._ready.set()  # the process ended: whoever waits learns it from url or the log

    def log_text(self):
        return "\n".join(self.log[-40:])

    def stop(self):
        """SIGTERM; returns the exit status (None when the server had to be killed)."""
        self._process.send_signal(signal.SIGTERM)
        try:
            status = self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            status = None
        self._reader.join()
        return status
