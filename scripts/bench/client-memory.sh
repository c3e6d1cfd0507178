#!/usr/bin/env bash
# Memory per idle consumer: 2000 KafkaConsumers sharing one cluster client on one
# EventLoopGroup, each assigned one partition and positioned, against an in-process
# broker. Prints the RSS growth (from /proc/self/statm) per consumer. Release build with
# testable imports, as scripts/test builds it (in .build-test, so the two share a build);
# SCRATCH_PATH picks another SwiftPM scratch path.
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch="${SCRATCH_PATH:-.build-test}"
swift test -c release -Xswiftc -enable-testing --scratch-path "$scratch" --filter KafkaClientTests.ConsumerMemoryTests 2>&1 | grep -E "client memory:|passed|failed"
