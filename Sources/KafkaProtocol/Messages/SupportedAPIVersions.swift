/// The APIs and version ranges tickstream speaks, as the broker advertises them in
/// ApiVersions and as the client negotiates them. This is the protocol table of
/// DESIGN.md; the codec itself can read and write the wider ranges in `APIKey.codecVersions`.
public enum SupportedAPIVersions {
    public static let tickstream: [APIKey: ClosedRange<Int16>] = [
        .apiVersions: 0...4,
        .metadata: 0...12,
        .produce: 3...9,
        .fetch: 4...12,
        .listOffsets: 1...7,
        .createTopics: 2...7,
        .deleteTopics: 1...6,
        .describeConfigs: 1...4,
        .createPartitions: 0...3,
        .offsetForLeaderEpoch: 2...4,
        .findCoordinator: 0...4,
        .joinGroup: 0...9,
        .syncGroup: 0...5,
        .heartbeat: 0...4,
        .leaveGroup: 0...5,
        .offsetCommit: 2...8,
        .offsetFetch: 1...8,
        .describeGroups: 0...5,
        .listGroups: 0...4,
        .initProducerId: 0...4,
        .describeCluster: 0...1,
        .deleteRecords: 0...2,
        .saslHandshake: 0...1,
        .saslAuthenticate: 0...2,
    ]

    /// The table sorted by API key, as ApiVersions lists it.
    public static var sorted: [(APIKey, ClosedRange<Int16>)] {
        tickstream.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key, $0.value) }
    }

    /// The highest version both sides speak, given the peer's range.
    public static func negotiate(_ apiKey: APIKey, peer: ClosedRange<Int16>) -> Int16? {
        guard let ours = tickstream[apiKey] else { return nil }
        let low = max(ours.lowerBound, peer.lowerBound)
        let high = min(ours.upperBound, peer.upperBound)
        return low <= high ? high : nil
    }
}
