import Foundation
import GRDB
import History
import XCTest

/// Several sinks start at once on a database that does not exist yet: each must open it,
/// and the schema must be migrated exactly once.
final class SchemaMigrationTests: XCTestCase {
    func testStoresOpeningANewFileConcurrentlyAllSucceed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for round in 0..<12 {
            let path = directory.path("race-\(round).sqlite")
            let openers = 4
            let failures = FailureList()
            DispatchQueue.concurrentPerform(iterations: openers) { _ in
                do { _ = try HistoryStore(path: path) } catch { failures.append("\(error)") }
            }
            XCTAssertEqual(failures.all, [], "round \(round)")
            let applied = try DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            }
            XCTAssertEqual(applied.count, Set(applied).count)
            XCTAssertFalse(applied.isEmpty)
        }
    }
}

private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func append(_ error: String) { lock.withLock { errors.append(error) } }
    var all: [String] { lock.withLock { errors } }
}
