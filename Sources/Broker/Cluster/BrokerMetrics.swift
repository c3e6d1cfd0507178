import KafkaProtocol
import Metrics
import NIOConcurrencyHelpers

/// The broker's swift-metrics instruments. Per-API instruments are created once, not
/// per request; whichever backend the process bootstrapped (Prometheus in `tickstream`)
/// receives them.
final class BrokerMetrics: Sendable {
    private let requests: [APIKey: Counter]
    private let latencies: [APIKey: Timer]
    let bytesIn = Counter(label: "tickstream_broker_bytes_in_total")
    let bytesOut = Counter(label: "tickstream_broker_bytes_out_total")
    let recordsIn = Counter(label: "tickstream_broker_records_in_total")
    let connections = Meter(label: "tickstream_broker_connections")
    let requestErrors = Counter(label: "tickstream_broker_request_errors_total")
    private let partitionGauges = NIOLockedValueBox<[String: (Gauge, Gauge)]>([:])

    init() {
        var requests: [APIKey: Counter] = [:]
        var latencies: [APIKey: Timer] = [:]
        for api in APIKey.allCases {
            requests[api] = Counter(label: "tickstream_broker_requests_total", dimensions: [("api", api.description)])
            latencies[api] = Timer(label: "tickstream_broker_request_duration_seconds", dimensions: [("api", api.description)],
                                   preferredDisplayUnit: .seconds)
        }
        self.requests = requests
        self.latencies = latencies
    }

    func requestCompleted(_ api: APIKey, nanoseconds: Int64) {
        requests[api]?.increment()
        latencies[api]?.recordNanoseconds(nanoseconds)
    }

    /// Publishes a partition's log start and end offsets.
    func recordOffsets(topic: String, partition: Int32, logStart: Int64, logEnd: Int64) {
        let key = "\(topic)/\(partition)"
        let gauges = partitionGauges.withLockedValue { gauges in
            if let existing = gauges[key] { return existing }
            let dimensions = [("topic", topic), ("partition", String(partition))]
            let created = (Gauge(label: "tickstream_broker_log_start_offset", dimensions: dimensions),
                           Gauge(label: "tickstream_broker_log_end_offset", dimensions: dimensions))
            gauges[key] = created
            return created
        }
        gauges.0.record(logStart)
        gauges.1.record(logEnd)
    }
}
