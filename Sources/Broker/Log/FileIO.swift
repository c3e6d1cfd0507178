#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// An error from the file system, with the path and the operation that failed.
public struct LogIOError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// A file descriptor with positional reads and writes. Log files are written at
/// known positions (`pwrite`) and read positionally (`pread`), so concurrent readers
/// need no shared file offset.
final class LogFile: @unchecked Sendable {
    // @unchecked: the descriptor is immutable after init; callers serialise writes
    // (a partition's lock) while preads are safe from any thread.
    let path: String
    private let descriptor: Int32
    private var closed = false

    init(path: String, create: Bool) throws(LogIOError) {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw LogIOError(operation: "open", path: path, errno: errno) }
        self.descriptor = fd
    }

    deinit {
        if !closed { _ = Glibc.close(descriptor) }
    }

    func size() throws(LogIOError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw LogIOError(operation: "stat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    func write(_ buffer: ByteBuffer, at position: Int) throws(LogIOError) {
        var written = 0
        let total = buffer.readableBytes
        while written < total {
            let result = buffer.withUnsafeReadableBytes { bytes in
                pwrite(descriptor, bytes.baseAddress! + written, total - written, off_t(position + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw LogIOError(operation: "write", path: path, errno: errno)
            }
            written += result
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at position: Int) throws(LogIOError) {
        var written = 0
        while written < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(position + written))
            if result < 0 {
                if errno == EINTR { continue }
                throw LogIOError(operation: "write", path: path, errno: errno)
            }
            written += result
        }
    }

    /// Reads up to `length` bytes at `position`; fewer at the end of the file.
    func read(at position: Int, length: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(LogIOError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: length)
        var total = 0
        while total < length {
            var failure: Int32 = 0
            let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length - total) { bytes in
                let count = pread(descriptor, bytes.baseAddress!, length - total, off_t(position + total))
                if count < 0 {
                    failure = errno
                    return 0
                }
                return count
            }
            if failure == EINTR { continue }
            if failure != 0 { throw LogIOError(operation: "read", path: path, errno: failure) }
            if result == 0 { break }  // end of file
            total += result
        }
        return buffer
    }

    func sync() throws(LogIOError) {
        try FileSystem.fsyncRetryingInterrupts(descriptor, path: path)
    }

    /// A second descriptor of the same open file, for an fsync that runs outside the
    /// partition's lock: the original may be closed meanwhile (a roll, retention).
    func duplicateForSync() throws(LogIOError) -> SyncDescriptor {
        // A closed descriptor's number may belong to another file by now: never dup it.
        guard !closed else { throw LogIOError(operation: "dup", path: path, errno: EBADF) }
        let copy = dup(descriptor)
        guard copy >= 0 else { throw LogIOError(operation: "dup", path: path, errno: errno) }
        return SyncDescriptor(descriptor: copy, path: path)
    }

    func truncate(to size: Int) throws(LogIOError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw LogIOError(operation: "truncate", path: path, errno: errno) }
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(descriptor)
    }
}

/// A duplicated descriptor whose only job is one fsync; `syncAndClose` closes it even
/// when the fsync fails.
struct SyncDescriptor: Sendable {
    let descriptor: Int32
    let path: String

    func syncAndClose() throws(LogIOError) {
        defer { close() }
        try FileSystem.fsyncRetryingInterrupts(descriptor, path: path)
    }

    func close() { _ = Glibc.close(descriptor) }
}

enum FileSystem {
    /// fsync, again when a signal interrupted it.
    static func fsyncRetryingInterrupts(_ descriptor: Int32, path: String) throws(LogIOError) {
        while fsync(descriptor) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            throw LogIOError(operation: "fsync", path: path, errno: failure)
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func makeDirectory(_ path: String) throws(LogIOError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw LogIOError(operation: "mkdir", path: current, errno: errno)
            }
        }
    }

    static func listDirectory(_ path: String) throws(LogIOError) -> [String] {
        guard let directory = opendir(path) else { throw LogIOError(operation: "opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws(LogIOError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw LogIOError(operation: "unlink", path: path, errno: errno) }
    }

    /// Removes a directory and everything in it (one level of files, as partition directories are).
    static func removeTree(_ path: String) throws(LogIOError) {
        guard exists(path) else { return }
        for name in try listDirectory(path) {
            let child = path + "/" + name
            var info = stat()
            if lstat(child, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                try removeTree(child)
            } else {
                try remove(child)
            }
        }
        guard rmdir(path) == 0 || errno == ENOENT else { throw LogIOError(operation: "rmdir", path: path, errno: errno) }
    }

    static func rename(_ from: String, to: String) throws(LogIOError) {
        guard Glibc.rename(from, to) == 0 else { throw LogIOError(operation: "rename", path: from, errno: errno) }
    }

    /// Writes `contents` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
    static func writeAtomically(_ contents: [UInt8], to path: String) throws(LogIOError) {
        let temporary = path + ".tmp"
        let file = try LogFile(path: temporary, create: true)
        try file.truncate(to: 0)
        var failure: LogIOError?
        contents.withUnsafeBytes { bytes in
            do throws(LogIOError) { try file.write(bytes, at: 0) } catch { failure = error }
        }
        if let failure { throw failure }
        try file.sync()
        file.close()
        try rename(temporary, to: path)
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            _ = fsync(fd)
            _ = Glibc.close(fd)
        }
    }

    static func readFile(_ path: String) throws(LogIOError) -> [UInt8] {
        let file = try LogFile(path: path, create: false)
        defer { file.close() }
        let buffer = try file.read(at: 0, length: try file.size())
        return Array(buffer.readableBytesView)
    }
}
