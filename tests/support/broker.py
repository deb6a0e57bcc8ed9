"""Looking at the broker from a test: observer queues, raw publishes, dead-letter queues; and
restarting it."""
import json
import subprocess
import time

from kombu import Connection, Exchange, Queue


class Broker:
    def __init__(self, amqp_uri):
        self.connection = Connection(amqp_uri)
        self.channel = self.connection.channel()

    def close(self):
        self.connection.release()

    def observe(self, source, event_type, name):
        """A fresh queue bound to ``source``'s events of ``event_type``: sees every publish."""
        exchange = Exchange(f"{source}.events", type="topic", durable=True)
        queue = Queue(f"test-observer-{name}", exchange=exchange, routing_key=event_type,
                      durable=False, auto_delete=False)
        bound = queue(self.channel)
        bound.declare()
        bound.purge()
        return bound.name

    def publish_raw(self, exchange_name, routing_key, body, content_type="application/json",
                    headers=None):
        exchange = Exchange(exchange_name, type="topic", durable=True)
        producer = self.connection.Producer(channel=self.channel)
        producer.publish(body, exchange=exchange, routing_key=routing_key,
                         content_type=content_type, content_encoding="utf-8",
                         headers=headers or {}, declare=[exchange], serializer=None
                         if isinstance(body, (bytes, str)) else "json")

    def drain(self, queue_name, expect, timeout=15.0, settle=0.5):
        """Messages from ``queue_name``: waits for ``expect`` of them, then a little longer to
        catch any extra copy."""
        queue = Queue(queue_name, no_declare=True)(self.channel)
        messages, deadline = [], time.monotonic() + timeout
        settle_until = None
        while time.monotonic() < deadline:
            message = queue.get(no_ack=True, accept=["json", "application/octet-stream"])
            if message is not None:
                messages.append(message)
                continue
            if len(messages) >= expect:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
            time.sleep(0.05)
        return messages

    @staticmethod
    def body(message):
        return json.loads(message.body)

    def declare_passive(self, queue_name):
        """(name, ready messages, consumers) of an existing queue."""
        return self.channel.queue_declare(queue_name, passive=True)


def restart_broker(amqp_uri, timeout=60.0):
    """Stops and starts the RabbitMQ application (the Erlang node stays up), then waits until
    ``amqp_uri`` takes connections again. Every connection to the broker, of every virtual
    host, is closed and every non-durable queue is gone: other test sessions on the same
    broker see a short outage, so only the one test about restarts calls this."""
    for command in ("stop_app", "start_app", "await_startup"):
        subprocess.run(["rabbitmqctl", "-q", command], check=True, capture_output=True,
                       timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with Connection(amqp_uri, connect_timeout=2) as connection:
                connection.connect()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
