import KafkaProtocol
import NIOCore

/// Drives the group coordinator from the event loops. (Temporary: until the coordinator
/// state machine lands, group APIs answer COORDINATOR_NOT_AVAILABLE.)
final class GroupRuntime: Sendable {
    init() {}
    func start(eventLoop: any EventLoop) {}
    func stop() {}
}

extension Cluster {
    func connectionClosed(eventLoop: any EventLoop, connection: ConnectionState?) {}
}
