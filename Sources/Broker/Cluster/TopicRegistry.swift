import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers

/// A topic: its stable id, its partitions and the config overrides it was created with.
/// Immutable; a change (more partitions, new configs) replaces it in the registry.
final class Topic: Sendable {
    let name: String
    let id: KafkaUUID
    let partitions: [Partition]
    let configOverrides: [String: String]
    let logConfig: LogConfig

    init(name: String, id: KafkaUUID, partitions: [Partition], configOverrides: [String: String], logConfig: LogConfig) {
        self.name = name
        self.id = id
        self.partitions = partitions
        self.configOverrides = configOverrides
        self.logConfig = logConfig
    }

    func partition(_ index: Int32) -> Partition? {
        index >= 0 && Int(index) < partitions.count ? partitions[Int(index)] : nil
    }
}

enum TopicError: Error, Equatable {
    case invalidName(String)
    case alreadyExists
    case unknownTopic
    case invalidPartitions(String)
    case invalidReplicationFactor(String)
    case invalidConfig(String)
    case storage(String)

    var code: KafkaErrorCode {
        switch self {
        case .invalidName: return .invalidTopicException
        case .alreadyExists: return .topicAlreadyExists
        case .unknownTopic: return .unknownTopicOrPartition
        case .invalidPartitions: return .invalidPartitions
        case .invalidReplicationFactor: return .invalidReplicationFactor
        case .invalidConfig: return .invalidConfig
        case .storage: return .kafkaStorageError
        }
    }

    var message: String {
        switch self {
        case .invalidName(let reason), .invalidPartitions(let reason), .invalidReplicationFactor(let reason),
             .invalidConfig(let reason), .storage(let reason):
            return reason
        case .alreadyExists: return "topic already exists"
        case .unknownTopic: return "unknown topic"
        }
    }
}

/// All topics of the broker, persisted under `<data-dir>/__topics/<name>.json` (id,
/// partition count, config overrides) with one directory per partition,
/// `<data-dir>/<topic>-<partition>`, as Kafka lays them out.
final class TopicRegistry: @unchecked Sendable {
    // @unchecked: `topics` is guarded by `lock`; creation and deletion also hold it while
    // touching the disk, so two creators of one topic cannot race.
    private let lock = NIOLock()
    private var topics: [String: Topic] = [:]
    private let dataDirectory: String
    private let metadataDirectory: String
    let defaults: LogConfig
    private let cacheBytes: Int
    private let logger: Logger

    init(dataDirectory: String, defaults: LogConfig, cacheBytes: Int, logger: Logger) throws {
        self.dataDirectory = dataDirectory
        self.metadataDirectory = dataDirectory + "/__topics"
        self.defaults = defaults
        self.cacheBytes = cacheBytes
        self.logger = logger
        try FileSystem.makeDirectory(metadataDirectory)
        try load()
    }

    subscript(name: String) -> Topic? {
        lock.withLock { topics[name] }
    }

    var all: [Topic] {
        lock.withLock { topics.values.sorted { $0.name < $1.name } }
    }

    func topic(id: KafkaUUID) -> Topic? {
        lock.withLock { topics.values.first { $0.id == id } }
    }

    /// Kafka's topic name rules: 1–249 characters of [a-zA-Z0-9._-], not "." or "..".
    static func validateName(_ name: String) throws(TopicError) {
        guard !name.isEmpty else { throw .invalidName("topic name is empty") }
        guard name != "." && name != ".." else { throw .invalidName("topic name cannot be \".\" or \"..\"") }
        guard name.utf8.count <= 249 else { throw .invalidName("topic name is longer than 249 characters") }
        let legal = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x2e || byte == 0x5f || byte == 0x2d
        }
        guard legal else { throw .invalidName("topic name \(name) has characters outside [a-zA-Z0-9._-]") }
        guard !name.hasPrefix("__") else { throw .invalidName("topic names starting with __ are reserved") }
    }

    /// Creates a topic (or only checks that it could be, with `validateOnly`).
    @discardableResult
    func create(name: String, partitions: Int32, configs: [String: String], validateOnly: Bool = false) throws(TopicError) -> Topic? {
        try Self.validateName(name)
        guard partitions >= 1 && partitions <= 100_000 else { throw .invalidPartitions("number of partitions must be at least 1") }
        if let problem = TopicConfig.validate(configs) { throw .invalidConfig(problem) }
        lock.lock()
        defer { lock.unlock() }
        guard topics[name] == nil else { throw .alreadyExists }
        if validateOnly { return nil }
        let config = TopicConfig.resolve(configs, defaults: defaults)
        do {
            let id = KafkaUUID.random()
            let topic = Topic(name: name, id: id, partitions: try openPartitions(topic: name, range: 0..<partitions, config: config),
                              configOverrides: configs, logConfig: config)
            try persist(topic)
            topics[name] = topic
            logger.info("created topic", metadata: ["topic": "\(name)", "partitions": "\(partitions)"])
            return topic
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Grows a topic to `count` partitions (CreatePartitions); shrinking is refused.
    func addPartitions(name: String, count: Int32, validateOnly: Bool) throws(TopicError) {
        lock.lock()
        defer { lock.unlock() }
        guard let topic = topics[name] else { throw .unknownTopic }
        guard Int(count) > topic.partitions.count else {
            throw .invalidPartitions("topic has \(topic.partitions.count) partitions; the count can only grow")
        }
        if validateOnly { return }
        do {
            let added = try openPartitions(topic: name, range: Int32(topic.partitions.count)..<count, config: topic.logConfig)
            let grown = Topic(name: name, id: topic.id, partitions: topic.partitions + added,
                              configOverrides: topic.configOverrides, logConfig: topic.logConfig)
            try persist(grown)
            topics[name] = grown
        } catch {
            throw .storage("\(error)")
        }
    }

    func delete(name: String) throws(TopicError) -> Topic {
        lock.lock()
        guard let topic = topics.removeValue(forKey: name) else {
            lock.unlock()
            throw .unknownTopic
        }
        lock.unlock()
        do {
            try FileSystem.remove(metadataPath(name))
            for partition in topic.partitions { try partition.delete() }
        } catch {
            throw .storage("\(error)")
        }
        logger.info("deleted topic", metadata: ["topic": "\(name)"])
        return topic
    }

    func closeAll() {
        for topic in all {
            for partition in topic.partitions { partition.close() }
        }
    }

    // MARK: - Persistence

    private func metadataPath(_ name: String) -> String { metadataDirectory + "/" + name + ".json" }

    private func openPartitions(topic: String, range: Range<Int32>, config: LogConfig) throws -> [Partition] {
        try range.map { index in
            let log = try PartitionLog(directory: "\(dataDirectory)/\(topic)-\(index)", config: config, cacheBytes: cacheBytes)
            return Partition(topic: topic, index: index, log: log)
        }
    }

    private func persist(_ topic: Topic) throws {
        let object: [String: Any] = [
            "id": topic.id.description,
            "partitions": topic.partitions.count,
            "configs": topic.configOverrides,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        try FileSystem.writeAtomically(Array(data), to: metadataPath(topic.name))
    }

    private func load() throws {
        var known: Set<String> = []
        for file in try FileSystem.listDirectory(metadataDirectory) where file.hasSuffix(".json") {
            let name = String(file.dropLast(5))
            let bytes = try FileSystem.readFile(metadataDirectory + "/" + file)
            guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let idText = object["id"] as? String, let id = KafkaUUID(parsing: idText),
                  let count = object["partitions"] as? Int else {
                logger.error("ignoring unreadable topic metadata", metadata: ["file": "\(file)"])
                continue
            }
            let overrides = object["configs"] as? [String: String] ?? [:]
            let config = TopicConfig.resolve(overrides, defaults: defaults)
            let partitions = try openPartitions(topic: name, range: 0..<Int32(count), config: config)
            topics[name] = Topic(name: name, id: id, partitions: partitions, configOverrides: overrides, logConfig: config)
            for index in 0..<count { known.insert("\(name)-\(index)") }
        }
        // Partition directories without a topic are what a crash during deletion leaves.
        for entry in try FileSystem.listDirectory(dataDirectory) where !entry.hasPrefix("__") && !known.contains(entry) {
            let path = dataDirectory + "/" + entry
            let suffix = entry.split(separator: "-").last ?? ""
            if entry.contains("-") && !suffix.isEmpty && suffix.allSatisfy(\.isNumber) {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    logger.warning("removing partition directory of a deleted topic", metadata: ["directory": "\(entry)"])
                    try FileSystem.removeTree(path)
                }
            }
        }
    }
}

extension KafkaUUID {
    /// Parses the 8-4-4-4-12 hexadecimal form.
    init?(parsing text: String) {
        let hex = text.filter { $0 != "-" }
        guard hex.count == 32, let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16) else {
            return nil
        }
        self.init(high: high, low: low)
    }
}
