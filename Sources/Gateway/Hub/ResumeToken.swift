/// A position in the `prices` log: the last offset a client has seen per partition.
///
/// Text form (documented in docs/gateway-protocol.md):
/// - one partition: `"3:12345"` — partition 3, offset 12345 was the last one seen;
/// - several partitions: `"0:17,3:12345,5:88"` — comma-separated `partition:offset`
///   pairs, each partition at most once, sorted by partition when the server writes it.
///
/// Every `update` frame carries the one-partition form of its own position; a client
/// keeps the highest offset per partition and sends the joined form to resume. SSE
/// event ids carry the joined form of everything the stream has delivered, so a
/// browser's automatic `Last-Event-ID` resumes every partition at once.
public struct ResumeToken: Sendable, Hashable {
    /// Last seen offset per partition.
    public var offsets: [Int32: Int64]

    public init(offsets: [Int32: Int64] = [:]) {
        self.offsets = offsets
    }

    /// The token of a single position.
    public init(partition: Int32, offset: Int64) {
        self.offsets = [partition: offset]
    }

    /// Why a token's text was refused.
    public enum ParseError: Error, Hashable, CustomStringConvertible {
        case empty
        case malformedPair(String)
        case duplicatePartition(Int32)

        public var description: String {
            switch self {
            case .empty: return "resume token is empty"
            case .malformedPair(let pair): return "resume token pair '\(pair)' is not partition:offset"
            case .duplicatePartition(let partition): return "resume token names partition \(partition) twice"
            }
        }
    }

    /// Parses `"p:o"` or `"p0:o0,p1:o1,..."`.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty { throw .empty }
        var offsets: [Int32: Int64] = [:]
        for pair in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2,
                  let partition = Int32(parts[0].trimmingSpaces), partition >= 0,
                  let offset = Int64(parts[1].trimmingSpaces), offset >= -1
            else { throw .malformedPair(String(pair)) }
            if offsets[partition] != nil { throw .duplicatePartition(partition) }
            offsets[partition] = offset
        }
        self.offsets = offsets
    }

    /// Raises the position of `partition` to `offset` if it is further on.
    public mutating func advance(partition: Int32, offset: Int64) {
        if let current = offsets[partition], current >= offset { return }
        offsets[partition] = offset
    }

    /// The text form, partitions in ascending order.
    public var text: String {
        offsets.keys.sorted().map { "\($0):\(offsets[$0]!)" }.joined(separator: ",")
    }
}

extension StringProtocol {
    /// The text without leading and trailing ASCII spaces (no Foundation needed).
    var trimmingSpaces: Substring {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return slice
    }
}
