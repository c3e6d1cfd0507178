#!/usr/bin/env python3
"""The client side of fixture capture: one short, deterministic session per client
library (produce three records to topic `golden`, read them back, join group
`golden-group` and commit). Run through scripts/capture/record_proxy.py.

Usage: scenario.py CLIENT --bootstrap HOST:PORT     (CLIENT: confluent, kafka-python, aiokafka)
"""

import argparse
import asyncio
import time

RECORDS = [(b"k0", b"v0"), (b"k1", b"v1"), (b"k2", b"v2")]


def confluent(bootstrap):
    from confluent_kafka import Consumer, Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": False})
    for key, value in RECORDS:
        producer.produce("golden", key=key, value=value, partition=0)
    producer.flush(10)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "golden-group", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 10000})
    consumer.subscribe(["golden"])
    seen = 0
    deadline = time.time() + 20
    while seen < len(RECORDS) and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error():
            seen += 1
    consumer.commit(asynchronous=False)
    consumer.close()


def kafka_python(bootstrap):
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    for key, value in RECORDS:
        producer.send("golden", key=key, value=value, partition=0)
    producer.flush(10)
    producer.close()
    consumer = KafkaConsumer("golden", bootstrap_servers=bootstrap, group_id="golden-group", auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=10000)
    seen = 0
    for _ in consumer:
        seen += 1
        if seen >= len(RECORDS):
            break
    consumer.commit()
    consumer.close()


async def aiokafka_session(bootstrap):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    for key, value in RECORDS:
        await producer.send_and_wait("golden", key=key, value=value, partition=0)
    await producer.stop()
    consumer = AIOKafkaConsumer("golden", bootstrap_servers=bootstrap, group_id="golden-group", auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    seen = 0
    deadline = time.time() + 20
    while seen < len(RECORDS) and time.time() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        seen += sum(len(messages) for messages in batches.values())
    await consumer.commit()
    await consumer.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=["confluent", "kafka-python", "aiokafka"])
    parser.add_argument("--bootstrap", required=True)
    args = parser.parse_args()
    if args.client == "confluent":
        confluent(args.bootstrap)
    elif args.client == "kafka-python":
        kafka_python(args.bootstrap)
    else:
        asyncio.run(aiokafka_session(args.bootstrap))


if __name__ == "__main__":
    main()
