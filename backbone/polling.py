"""A background loop woken when there is work, polling as a safety net: the outbox relay and
notify's delivery worker both run one."""
import logging
import threading

log = logging.getLogger(__name__)

MAX_PAUSE_AFTER_FAILURE_SECONDS = 30.0


class WokenLoop:
    """Runs ``step`` until stopped: again at once while it reports more work, else when woken
    or after ``poll_seconds``. After a failure it pauses for a delay that doubles with each
    failure in a row, and a wake does not cut that pause short (the backend may be away)."""

    description = "background loop"

    def __init__(self, poll_seconds):
        self.poll_seconds = poll_seconds
        self._wakeup = threading.Event()
        self._stopped = threading.Event()

    def step(self):
        """One round of work; True when more is waiting."""
        raise NotImplementedError

    def wake(self):
        self._wakeup.set()

    def stop(self):
        self._stopped.set()
        self._wakeup.set()

    def run(self):
        failures = 0
        while not self._stopped.is_set():
            self._wakeup.clear()
            try:
                more = self.step()
                failures = 0
            except Exception:
                failures += 1
                pause = min(MAX_PAUSE_AFTER_FAILURE_SECONDS, self.poll_seconds * 2 ** failures)
                log.exception("%s failed; next try in %.1fs", self.description, pause)
                self._stopped.wait(pause)
                continue
            if not more:
                self._wakeup.wait(self.poll_seconds)
