import Foundation
import Testing

@Suite("confluent-kafka, kafka-python and aiokafka", .serialized)
struct PythonClientTests {
    @Test func confluentKafkaProduces200kWithAcksAllAndConsumesThemByManualAssignment() async throws {
        let broker = try await TestBroker.start()
        let produced = try await runPythonClient("confluent-produce", bootstrap: broker.bootstrap,
                                                 ["--topic", "bulk", "--count", "200000", "--acks", "all"])
        #expect(produced.int("delivered") == 200_000)
        #expect(produced.int("error_count") == 0)
        #expect((produced["partitions"] as? [String: Any])?.count == 8)
        let consumed = try await runPythonClient("confluent-consume", bootstrap: broker.bootstrap, ["--topic", "bulk"])
        #expect(consumed.int("consumed") == 200_000)
        #expect(consumed.int("expected") == 200_000)
        #expect(consumed.int("distinct") == 200_000)
        #expect(consumed.bool("in_order") == true)
        #expect(consumed.bool("offsets_contiguous") == true)
        try await broker.stop()
    }

    @Test func confluentKafkaOffsetsForTimes() async throws {
        let broker = try await TestBroker.start()
        let result = try await runPythonClient("confluent-offsets-for-times", bootstrap: broker.bootstrap, ["--topic", "times"])
        // Three groups of ten records at base, base+1000, base+2000 (each record 1 ms apart);
        // base+5 is the sixth record; a time past the end has no offset (-1).
        #expect(result["offsets"] as? [Int] == [0, 10, 20, 5, -1])
        try await broker.stop()
    }

    @Test func confluentKafkaAdminCreatesDescribesAndDeletesTopics() async throws {
        let broker = try await TestBroker.start()
        let result = try await runPythonClient("confluent-admin", bootstrap: broker.bootstrap, ["--topic", "managed"])
        #expect(result["create_error"] is NSNull)
        #expect(result["duplicate_error"] as? String == "TOPIC_ALREADY_EXISTS")
        #expect(result.int("partitions") == 3)
        #expect(result["retention_ms"] as? String == "3600000")
        #expect(result["delete_error"] is NSNull)
        #expect(result.bool("exists_after_delete") == false)
        try await broker.stop()
    }

    @Test func kafkaPythonRoundTrip() async throws {
        let broker = try await TestBroker.start()
        let result = try await runPythonClient("kafka-python-roundtrip", bootstrap: broker.bootstrap, ["--topic", "kp", "--count", "20000"])
        #expect(result.int("produced") == 20_000)
        #expect(result.int("consumed") == 20_000)
        #expect(result.int("distinct") == 20_000)
        #expect(result.bool("in_order") == true)
        try await broker.stop()
    }

    @Test func aiokafkaRoundTrip() async throws {
        let broker = try await TestBroker.start()
        let result = try await runPythonClient("aiokafka-roundtrip", bootstrap: broker.bootstrap, ["--topic", "aio", "--count", "20000"])
        #expect(result.int("produced") == 20_000)
        #expect(result.int("consumed") == 20_000)
        #expect(result.int("distinct") == 20_000)
        #expect(result.bool("in_order") == true)
        try await broker.stop()
    }
}
