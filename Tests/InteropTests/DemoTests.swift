import Foundation
import Testing

/// DESIGN.md's end-to-end check: `tickstream demo` for a while, then every quote the
/// pricer had acknowledged is in SQLite exactly once and the swarm saw no gap.
@Suite("tickstream demo end to end", .serialized)
struct DemoTests {
    @Test func demoStoresEveryQuoteExactlyOnceAndTheSwarmSeesNoGap() async throws {
        let directory = NSTemporaryDirectory() + "/tickstream-demo-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try await runProcess(tickstreamPath, [
            "demo", "--duration", "15s", "--clients", "40", "--processes", "2", "--rate", "200", "--symbols", "50",
            "--port", "0", "--http-port", "0", "--data-dir", directory, "--log-level", "warning",
        ], timeout: 180)
        #expect(run.status == 0, "demo failed:\n\(run.text)\n\(run.stderr.suffix(3000))")
        #expect(run.text.contains("✓ every acknowledged quote is stored exactly once"), "\(run.text)")
        #expect(run.text.contains("✓ no client saw a gap or a duplicate"), "\(run.text)")
        #expect(run.text.contains("workers lost 0"))
        #expect(run.text.contains("gaps         0"))
    }
}
