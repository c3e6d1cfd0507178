#!/usr/bin/env python3
"""A recording proxy for Kafka request frames.

Listens on 127.0.0.1:LISTEN, forwards every connection to the broker at UPSTREAM and
writes each request frame a client sends (size prefix included) to OUT_DIR as
`<label>-<api>-v<version>-<sequence>.bin`. The golden-byte fixtures in fixtures/frames
were captured this way (see scripts/capture/capture_fixtures.sh).

Usage: record_proxy.py --listen PORT --upstream HOST:PORT --out DIR --label NAME
"""

import argparse
import os
import socket
import struct
import threading

API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
             10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
             15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics",
             20: "DeleteTopics", 21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
             32: "DescribeConfigs", 36: "SaslAuthenticate", 37: "CreatePartitions", 60: "DescribeCluster"}

counter_lock = threading.Lock()
counter = [0]


def pump_requests(client, upstream, out_dir, label):
    buffer = b""
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            upstream.sendall(data)
            buffer += data
            while len(buffer) >= 4:
                (size,) = struct.unpack(">i", buffer[:4])
                if len(buffer) < 4 + size:
                    break
                frame, buffer = buffer[: 4 + size], buffer[4 + size:]
                api, version = struct.unpack(">hh", frame[4:8])
                with counter_lock:
                    counter[0] += 1
                    sequence = counter[0]
                name = f"{label}-{API_NAMES.get(api, api)}-v{version}-{sequence:04d}.bin"
                with open(os.path.join(out_dir, name), "wb") as f:
                    f.write(frame)
    finally:
        try:
            upstream.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def pump_responses(upstream, client):
    try:
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            client.sendall(data)
    finally:
        try:
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    host, port = args.upstream.rsplit(":", 1)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.listen))
    server.listen(64)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection((host, int(port)))
        threading.Thread(target=pump_requests, args=(client, upstream, args.out, args.label), daemon=True).start()
        threading.Thread(target=pump_responses, args=(upstream, client), daemon=True).start()


if __name__ == "__main__":
    main()
