#!/usr/bin/env python3
"""Drives Kafka clients written by others (confluent-kafka, kafka-python, aiokafka)
against a broker, for tickstream's interop tests. Each subcommand prints one JSON
object on stdout with what it observed; the Swift test asserts on it.

Usage: kafka_clients.py SUBCOMMAND --bootstrap HOST:PORT [options]
"""

import argparse
import asyncio
import json
import sys
import time


def emit(result):
    print(json.dumps(result, sort_keys=True))
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# confluent-kafka (librdkafka bundled in the wheel)


def confluent_produce(args):
    from confluent_kafka import Producer

    config = {
        "bootstrap.servers": args.bootstrap,
        "acks": args.acks,
        "linger.ms": 5,
        "enable.idempotence": args.idempotence,
        "message.timeout.ms": 120000,
    }
    producer = Producer(config)
    partitions = {}
    errors = []

    def delivered(error, message):
        if error is not None:
            errors.append(str(error))
        else:
            partitions[message.partition()] = partitions.get(message.partition(), 0) + 1

    for index in range(args.count):
        while True:
            try:
                producer.produce(args.topic, key=f"key-{index}", value=f"value-{index}", on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(120)
    emit({"delivered": sum(partitions.values()), "partitions": {str(k): v for k, v in partitions.items()},
          "errors": errors[:10], "error_count": len(errors), "undelivered": remaining})


def confluent_consume(args):
    """Manual assignment of every partition from the beginning, reading until each
    partition reaches the high watermark it had when we started."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "interop-manual",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    metadata = consumer.list_topics(args.topic, timeout=30)
    partitions = sorted(metadata.topics[args.topic].partitions.keys())
    ends = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=30)
        ends[p] = high
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
    seen = {p: [] for p in partitions}
    records = []
    offsets_ok = True
    deadline = time.time() + args.timeout
    while any(len(seen[p]) < ends[p] for p in partitions) and time.time() < deadline:
        for message in consumer.consume(num_messages=10000, timeout=1.0):
            if message.error():
                continue
            p = message.partition()
            if message.offset() != len(seen[p]):
                offsets_ok = False
            seen[p].append(int(message.value().decode().split("-")[1]))
            if args.records:
                key = message.key()
                records.append([p, message.offset(), None if key is None else key.hex(), message.value().hex()])
    consumer.close()
    total = sum(len(v) for v in seen.values())
    in_order = all(values == sorted(values) for values in seen.values())
    all_values = [v for values in seen.values() for v in values]
    result = {"consumed": total, "expected": sum(ends.values()), "in_order": in_order, "offsets_contiguous": offsets_ok,
              "distinct": len(set(all_values)), "partitions": {str(p): len(seen[p]) for p in partitions}}
    if args.records:
        result["records"] = records  # [partition, offset, key hex, value hex]: the exact bytes
    emit(result)


def confluent_offsets_for_times(args):
    """Produces three groups of records 50 ms apart with explicit timestamps, then asks
    offsets_for_times for each group's timestamp and one past the end."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 0})
    base = int(time.time() * 1000) - 10_000
    stamps = [base, base + 1000, base + 2000]
    for group, stamp in enumerate(stamps):
        for index in range(10):
            producer.produce(args.topic, key="k", value=f"g{group}-{index}", partition=0, timestamp=stamp + index)
        producer.flush(30)
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "interop-times"})
    queries = [TopicPartition(args.topic, 0, stamp) for stamp in stamps] + [TopicPartition(args.topic, 0, base + 5)] \
        + [TopicPartition(args.topic, 0, base + 999_999)]
    # One call per query: librdkafka collapses repeated partitions within one call.
    answers = [consumer.offsets_for_times([query], timeout=30)[0] for query in queries]
    consumer.close()
    emit({"offsets": [tp.offset for tp in answers], "errors": [str(tp.error) if tp.error else None for tp in answers]})


def confluent_admin(args):
    from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource, ResourceType

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    created = admin.create_topics([NewTopic(args.topic, num_partitions=3, replication_factor=1,
                                            config={"retention.ms": "3600000", "cleanup.policy": "delete"})])
    create_error = None
    try:
        created[args.topic].result(30)
    except Exception as error:  # noqa: BLE001
        create_error = str(error)
    duplicate = admin.create_topics([NewTopic(args.topic, num_partitions=3, replication_factor=1)])
    duplicate_error = None
    try:
        duplicate[args.topic].result(30)
    except Exception as error:  # noqa: BLE001
        duplicate_error = error.args[0].name() if error.args and hasattr(error.args[0], "name") else str(error)
    listed = admin.list_topics(timeout=30)
    partitions = len(listed.topics[args.topic].partitions) if args.topic in listed.topics else 0
    resource = ConfigResource(ResourceType.TOPIC, args.topic)
    configs = admin.describe_configs([resource])[resource].result(30)
    retention = configs["retention.ms"].value if "retention.ms" in configs else None
    deleted = admin.delete_topics([args.topic])
    delete_error = None
    try:
        deleted[args.topic].result(30)
    except Exception as error:  # noqa: BLE001
        delete_error = str(error)
    after = admin.list_topics(timeout=30)
    emit({"create_error": create_error, "duplicate_error": duplicate_error, "partitions": partitions,
          "retention_ms": retention, "delete_error": delete_error, "exists_after_delete": args.topic in after.topics})


# ---------------------------------------------------------------------------
# kafka-python


def kafka_python_roundtrip(args):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=5)
    futures = [producer.send(args.topic, key=f"key-{i}".encode(), value=f"value-{i}".encode()) for i in range(args.count)]
    producer.flush(60)
    produced = sum(1 for f in futures if f.succeeded())
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000)
    partitions = [TopicPartition(args.topic, p) for p in sorted(consumer.partitions_for_topic(args.topic))]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    seen = {}
    deadline = time.time() + args.timeout
    while sum(len(v) for v in seen.values()) < sum(ends.values()) and time.time() < deadline:
        for tp, messages in consumer.poll(timeout_ms=1000, max_records=10000).items():
            for message in messages:
                seen.setdefault(tp.partition, []).append(int(message.value.decode().split("-")[1]))
    consumer.close()
    emit({"produced": produced, "consumed": sum(len(v) for v in seen.values()),
          "in_order": all(v == sorted(v) for v in seen.values()),
          "distinct": len({x for v in seen.values() for x in v})})


# ---------------------------------------------------------------------------
# aiokafka


async def aiokafka_roundtrip_async(args):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        batch = [producer.send(args.topic, key=f"key-{i}".encode(), value=f"value-{i}".encode()) for i in range(args.count)]
        results = await asyncio.gather(*[await b for b in batch])
        produced = len(results)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(args.topic, p) for p in sorted(consumer.partitions_for_topic(args.topic) or [])]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(args.topic, p) for p in sorted(consumer.partitions_for_topic(args.topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen = {}
        deadline = time.time() + args.timeout
        while sum(len(v) for v in seen.values()) < sum(ends.values()) and time.time() < deadline:
            for tp, messages in (await consumer.getmany(timeout_ms=1000, max_records=10000)).items():
                for message in messages:
                    seen.setdefault(tp.partition, []).append(int(message.value.decode().split("-")[1]))
    finally:
        await consumer.stop()
    emit({"produced": produced, "consumed": sum(len(v) for v in seen.values()),
          "in_order": all(v == sorted(v) for v in seen.values()),
          "distinct": len({x for v in seen.values() for x in v})})


def aiokafka_roundtrip(args):
    asyncio.run(aiokafka_roundtrip_async(args))


# ---------------------------------------------------------------------------
# A long-running consumer-group member, for the group tests. It prints one JSON line
# per event ("assigned", "revoked", "records", "closed") and commits synchronously
# after every batch it reports, before polling again, so a rebalance never hands a
# reported-but-uncommitted record to another member. A line on stdin (or stdin
# closing) makes it leave the group cleanly; SIGKILL makes it vanish without leaving.


def _stop_event():
    import threading

    stop = threading.Event()

    def wait_for_stop():
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=wait_for_stop, daemon=True).start()
    return stop


def group_member_confluent(args, stop):
    from confluent_kafka import Consumer

    config = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "client.id": args.member,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": args.session_ms,
        "heartbeat.interval.ms": max(100, args.session_ms // 8),
        "partition.assignment.strategy": args.assignor,
    }
    if args.instance:
        config["group.instance.id"] = args.instance
    consumer = Consumer(config)

    def on_assign(_consumer, partitions):
        emit({"event": "assigned", "partitions": sorted(p.partition for p in partitions)})

    def on_revoke(_consumer, partitions):
        emit({"event": "revoked", "partitions": sorted(p.partition for p in partitions)})

    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop.is_set():
        messages = consumer.consume(num_messages=1000, timeout=0.2)
        records = [[m.partition(), m.offset()] for m in messages if m.error() is None]
        if records:
            emit({"event": "records", "records": records})
            consumer.commit(asynchronous=False)
    consumer.close()
    emit({"event": "closed"})


def group_member_kafka_python(args, stop):
    from kafka import ConsumerRebalanceListener, KafkaConsumer

    class Listener(ConsumerRebalanceListener):
        def on_partitions_assigned(self, assigned):
            emit({"event": "assigned", "partitions": sorted(p.partition for p in assigned)})

        def on_partitions_revoked(self, revoked):
            emit({"event": "revoked", "partitions": sorted(p.partition for p in revoked)})

    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, client_id=args.member,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             session_timeout_ms=args.session_ms, heartbeat_interval_ms=max(100, args.session_ms // 8))
    consumer.subscribe([args.topic], listener=Listener())
    while not stop.is_set():
        batches = consumer.poll(timeout_ms=200, max_records=1000)
        records = [[tp.partition, m.offset] for tp, messages in batches.items() for m in messages]
        if records:
            emit({"event": "records", "records": records})
            consumer.commit()
    consumer.close()
    emit({"event": "closed"})


async def group_member_aiokafka_async(args, stop):
    from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        async def on_partitions_assigned(self, assigned):
            emit({"event": "assigned", "partitions": sorted(p.partition for p in assigned)})

        async def on_partitions_revoked(self, revoked):
            emit({"event": "revoked", "partitions": sorted(p.partition for p in revoked)})

    consumer = AIOKafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, client_id=args.member,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                session_timeout_ms=args.session_ms, heartbeat_interval_ms=max(100, args.session_ms // 8))
    consumer.subscribe([args.topic], listener=Listener())
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            records = [[tp.partition, m.offset] for tp, messages in batches.items() for m in messages]
            if records:
                emit({"event": "records", "records": records})
                await consumer.commit()
    finally:
        await consumer.stop()
    emit({"event": "closed"})


def group_member(args):
    stop = _stop_event()
    if args.client == "confluent":
        group_member_confluent(args, stop)
    elif args.client == "kafka-python":
        group_member_kafka_python(args, stop)
    else:
        asyncio.run(group_member_aiokafka_async(args, stop))


# ---------------------------------------------------------------------------
# A proxy that drops every connection now and then, for retry and idempotence tests.


class ChaosProxy:
    def __init__(self, listen_port, upstream, drop_every):
        import socket
        import threading

        self.socket_module = socket
        self.upstream = upstream
        self.drop_every = drop_every
        self.connections = []
        self.lock = threading.Lock()
        self.running = True
        self.dropped = 0
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", listen_port))
        self.server.listen(64)
        threading.Thread(target=self.accept_loop, daemon=True).start()
        threading.Thread(target=self.chaos_loop, daemon=True).start()

    def accept_loop(self):
        import threading

        while self.running:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            host, port = self.upstream.rsplit(":", 1)
            upstream = self.socket_module.create_connection((host, int(port)))
            with self.lock:
                self.connections.append((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, target), daemon=True).start()

    def pump(self, source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.close()
                except OSError:
                    pass

    def chaos_loop(self):
        while self.running:
            time.sleep(self.drop_every)
            if self.drop_every <= 0:
                continue
            with self.lock:
                victims, self.connections = self.connections, []
            for client, upstream in victims:
                self.dropped += 1
                for s in (client, upstream):
                    try:
                        s.shutdown(self.socket_module.SHUT_RDWR)
                        s.close()
                    except OSError:
                        pass

    def calm(self):
        self.drop_every = 0


def confluent_idempotent_chaos(args):
    """Produces with enable.idempotence=true and acks=all through a proxy that drops
    every connection every few hundred milliseconds, then reads everything back."""
    from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING

    proxy = ChaosProxy(args.proxy_port, args.upstream, args.drop_every)
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 2, "message.timeout.ms": 300000, "retry.backoff.ms": 20,
                         "socket.connection.setup.timeout.ms": 5000, "reconnect.backoff.ms": 10,
                         "reconnect.backoff.max.ms": 200, **({"debug": "eos,protocol"} if args.debug else {})})
    delivered = [0]
    errors = []

    def report(error, message):
        if error is not None:
            errors.append(str(error))
        else:
            delivered[0] += 1

    # Paced, so that connections drop while batches are in flight.
    started = time.time()
    for index in range(args.count):
        if args.rate and index % 1000 == 0:
            delay = started + index / args.rate - time.time()
            if delay > 0:
                time.sleep(delay)
        while True:
            try:
                producer.produce(args.topic, key=f"key-{index % 64}", value=f"{index}", on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(300)
    proxy.calm()
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "chaos-check", "enable.auto.commit": False})
    metadata = consumer.list_topics(args.topic, timeout=30)
    partitions = sorted(metadata.topics[args.topic].partitions.keys())
    ends = {p: consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=30)[1] for p in partitions}
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
    seen = {p: [] for p in partitions}
    deadline = time.time() + args.timeout
    while any(len(seen[p]) < ends[p] for p in partitions) and time.time() < deadline:
        for message in consumer.consume(num_messages=10000, timeout=1.0):
            if not message.error():
                seen[message.partition()].append(int(message.value()))
    consumer.close()
    values = [v for p in partitions for v in seen[p]]
    emit({"delivered": delivered[0], "errors": errors[:5], "error_count": len(errors), "stored": sum(ends.values()),
          "consumed": len(values), "distinct": len(set(values)),
          "in_order": all(seen[p] == sorted(seen[p]) for p in partitions), "connections_dropped": proxy.dropped})


def confluent_describe_group(args):
    """ListGroups and DescribeGroups through confluent-kafka's AdminClient."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    listed = admin.list_consumer_groups().result(timeout=30)
    groups = sorted(g.group_id for g in listed.valid)
    described = admin.describe_consumer_groups([args.group])[args.group].result(timeout=30)
    members = []
    for member in described.members:
        partitions = sorted(tp.partition for tp in member.assignment.topic_partitions) if member.assignment else []
        members.append({"member_id": member.member_id, "client_id": member.client_id, "host": member.host,
                        "partitions": partitions})
    emit({"groups": groups, "state": str(described.state).split(".")[-1], "protocol": described.partition_assignor,
          "members": sorted(members, key=lambda m: m["client_id"])})


def confluent_partitions(args):
    """Produces key-0..key-N-1 with librdkafka's murmur2 partitioner (the Java client's
    choice) and reports the partition each key landed in."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": args.bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    partitions = {}

    def delivered(error, message):
        if error is None:
            partitions[message.key().decode()] = message.partition()

    for index in range(args.count):
        producer.produce(args.topic, key=f"key-{index}", value=f"value-{index}", on_delivery=delivered)
    producer.flush(60)
    emit({"partitions": partitions})


def confluent_create_topic(args):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    configs = dict(item.split("=", 1) for item in args.config)
    future = admin.create_topics([NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1, config=configs)])
    error = None
    try:
        future[args.topic].result(30)
    except Exception as exception:  # noqa: BLE001
        error = str(exception)
    emit({"error": error})


COMMANDS = {
    "confluent-create-topic": confluent_create_topic,
    "confluent-idempotent-chaos": confluent_idempotent_chaos,
    "confluent-produce": confluent_produce,
    "confluent-consume": confluent_consume,
    "confluent-offsets-for-times": confluent_offsets_for_times,
    "confluent-admin": confluent_admin,
    "kafka-python-roundtrip": kafka_python_roundtrip,
    "aiokafka-roundtrip": aiokafka_roundtrip,
    "group-member": group_member,
    "confluent-partitions": confluent_partitions,
    "confluent-describe-group": confluent_describe_group,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="interop")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--acks", default="all")
    parser.add_argument("--idempotence", action="store_true")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--proxy-port", type=int, default=0)
    parser.add_argument("--upstream", default="")
    parser.add_argument("--drop-every", type=float, default=0.3)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--client", choices=["confluent", "kafka-python", "aiokafka"], default="confluent")
    parser.add_argument("--group", default="interop-group")
    parser.add_argument("--member", default="member")
    parser.add_argument("--instance", default="")
    parser.add_argument("--session-ms", type=int, default=6000)
    parser.add_argument("--assignor", default="range")
    parser.add_argument("--records", action="store_true", help="confluent-consume: also emit every record's bytes")
    args = parser.parse_args()
    COMMANDS[args.command](args)


if __name__ == "__main__":
    main()
