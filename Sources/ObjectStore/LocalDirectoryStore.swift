#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import AWSRequests
import Foundation
import Logging

/// An `ObjectStore` in a local directory (`file:///abs/dir`): keys are relative paths under it.
///
/// Every write goes to a temporary file in the destination directory, is fsynced, renamed over the final
/// name and the directory fsynced, so a reader sees the old file or the new one, never half of one, and
/// a crash leaves at most a temporary file, which `listOpenMultipartUploads` reports and
/// `abortMultipartUpload` removes.
public struct LocalDirectoryStore: ObjectStore {
    /// Absolute path of the root directory.
    public let root: String
    private let logger: Logger

    /// Temporary files start with this; listings skip them.
    static let temporaryMarker = ".replicatord-tmp."

    /// A store rooted at `root` (created if missing).
    public init(root: String, logger: Logger) throws {
        guard root.hasPrefix("/") else {
            throw ObjectStoreError(.configuration, "local store root must be an absolute path, got \(root)")
        }
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: r, withIntermediateDirectories: true)
        } catch {
            throw ObjectStoreError(.io, "cannot create directory \(r)", underlying: error as NSError)
        }
    }

    func path(for key: String) throws -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw ObjectStoreError(.invalidRequest, "key is not a clean relative path", key: key)
        }
        return root + "/" + key
    }

    public func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload {
        try LocalDirectoryUpload(key: key, finalPath: path(for: key), logger: logger)
    }

    @discardableResult
    public func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject {
        let upload = try LocalDirectoryUpload(key: key, finalPath: path(for: key), logger: logger)
        do {
            try await upload.write(bytes)
        } catch {
            await upload.abort()
            throw error
        }
        return try await upload.complete()
    }

    public func get(key: String) async throws -> [UInt8] {
        let p = try path(for: key)
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw ObjectStoreError(.notFound, "no such object", key: key) }
            throw LocalDirectoryStore.ioError("open", p, key: key)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LocalDirectoryStore.ioError("fstat", p, key: key) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw LocalDirectoryStore.ioError("read", p, key: key) }
            done += n
        }
        return out
    }

    public func head(key: String) async throws -> ObjectInfo? {
        let p = try path(for: key)
        var st = stat()
        guard stat(p, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw LocalDirectoryStore.ioError("stat", p, key: key)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        // No ETag: computing one would read the whole file (uploads return it in StoredObject).
        return ObjectInfo(key: key, size: Int(st.st_size), etag: "", lastModified: String(st.st_mtim.tv_sec))
    }

    /// Walks only the directory that holds `prefix` (the part up to its last `/`), so listing one
    /// table's folder costs what that folder holds, not what the whole store holds.
    public func list(prefix: String) async throws -> [ObjectInfo] {
        try walk(under: Self.directory(of: prefix)).filter { $0.key.hasPrefix(prefix) && !$0.temporary }.map {
            // ETags are not computed in listings (that would read every file); the size is exact.
            ObjectInfo(key: $0.key, size: $0.size, etag: "", lastModified: String($0.mtime))
        }
    }

    public func delete(key: String) async throws {
        let p = try path(for: key)
        if unlink(p) != 0 && errno != ENOENT { throw LocalDirectoryStore.ioError("unlink", p, key: key) }
    }

    public func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] {
        try walk(temporaryOnly: true).compactMap { entry in
            // .replicatord-tmp.<name>.<random> in the directory of <name>.
            let dir = entry.key.contains("/") ? String(entry.key[..<entry.key.lastIndex(of: "/")!]) + "/" : ""
            let file = entry.key.split(separator: "/").last.map(String.init) ?? entry.key
            var rest = file.dropFirst(LocalDirectoryStore.temporaryMarker.count)
            guard let dot = rest.lastIndex(of: ".") else { return nil }
            rest = rest[..<dot]
            let key = dir + rest
            guard key.hasPrefix(prefix) else { return nil }
            return OpenMultipartUpload(key: key, uploadId: entry.key, initiated: String(entry.mtime))
        }
    }

    public func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws {
        let name = upload.uploadId.split(separator: "/").last.map(String.init) ?? ""
        guard name.hasPrefix(LocalDirectoryStore.temporaryMarker) else {
            throw ObjectStoreError(.invalidRequest, "not a temporary file of this store: \(upload.uploadId)", key: upload.key)
        }
        let p = try path(for: upload.uploadId)
        if unlink(p) != 0 && errno != ENOENT { throw LocalDirectoryStore.ioError("unlink", p, key: upload.key) }
    }

    struct Entry { var key: String; var size: Int; var mtime: Int; var temporary: Bool }

    /// The directory (relative, no trailing `/`) under which every key starting with `prefix` lies:
    /// the prefix up to its last `/`, or the root when that is not a clean relative path.
    static func directory(of prefix: String) -> String {
        guard let slash = prefix.lastIndex(of: "/") else { return "" }
        let dir = String(prefix[..<slash])
        let parts = dir.split(separator: "/", omittingEmptySubsequences: false)
        guard !dir.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else { return "" }
        return dir
    }

    /// Every file under the relative directory `start` ("" is the root), sorted by key; with
    /// `temporaryOnly`, only temporary files (the others are not even stat'ed: a store of many
    /// tables is walked with one readdir per directory).
    func walk(under start: String = "", temporaryOnly: Bool = false) throws -> [Entry] {
        var out: [Entry] = []
        var stack = [start]
        while let rel = stack.popLast() {
            let dirPath = rel.isEmpty ? root : root + "/" + rel
            guard let dir = opendir(dirPath) else {
                if errno == ENOENT || (errno == ENOTDIR && rel == start) { continue }
                throw LocalDirectoryStore.ioError("opendir", dirPath, key: nil)
            }
            defer { closedir(dir) }
            while let ent = readdir(dir) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let relPath = rel.isEmpty ? name : rel + "/" + name
                let type = ent.pointee.d_type
                if type == UInt8(DT_DIR) {
                    stack.append(relPath)
                    continue
                }
                if temporaryOnly && type != UInt8(DT_UNKNOWN) && !name.hasPrefix(LocalDirectoryStore.temporaryMarker) { continue }
                var st = stat()
                guard lstat(root + "/" + relPath, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    stack.append(relPath)
                } else if (st.st_mode & S_IFMT) == S_IFREG, !temporaryOnly || name.hasPrefix(LocalDirectoryStore.temporaryMarker) {
                    out.append(
                        Entry(
                            key: relPath, size: Int(st.st_size), mtime: Int(st.st_mtim.tv_sec),
                            temporary: name.hasPrefix(LocalDirectoryStore.temporaryMarker)))
                }
            }
        }
        return out.sorted { $0.key < $1.key }
    }

    static func ioError(_ call: String, _ path: String, key: String?) -> ObjectStoreError {
        let e = errno
        return ObjectStoreError(
            .io, "\(call)(\(path)) failed: \(String(cString: strerror(e)))", key: key,
            underlying: POSIXErrorCode(rawValue: e).map { POSIXError($0) })
    }
}

/// A streaming write to a temporary file, renamed into place by `complete()`.
actor LocalDirectoryUpload: ObjectUpload {
    nonisolated let key: String
    private let finalPath: String
    private let temporaryPath: String
    private let directory: String
    private var fd: Int32
    private var size = 0
    private let md5 = MD5Hasher()
    private let logger: Logger
    /// The topmost directory this upload had to create, if any.
    private let createdFrom: String?

    init(key: String, finalPath: String, logger: Logger) throws {
        self.key = key
        self.finalPath = finalPath
        self.logger = logger
        let slash = finalPath.lastIndex(of: "/")!
        directory = String(finalPath[..<slash])
        let name = String(finalPath[finalPath.index(after: slash)...])
        temporaryPath =
            directory + "/" + LocalDirectoryStore.temporaryMarker + name + "."
            + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        // Directories this upload creates must be made durable too: remember the first missing one.
        var missing = directory
        while missing.count > 1, access(String(missing[..<missing.lastIndex(of: "/")!]), F_OK) != 0 {
            missing = String(missing[..<missing.lastIndex(of: "/")!])
        }
        createdFrom = access(directory, F_OK) == 0 ? nil : missing
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ObjectStoreError(.io, "cannot create directory \(directory)", key: key, underlying: error as NSError)
        }
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LocalDirectoryStore.ioError("open", temporaryPath, key: key) }
    }

    func write(_ bytes: [UInt8]) async throws {
        guard fd >= 0 else { throw ObjectStoreError(.uploadClosed, "write after complete or abort", key: key) }
        try bytes.withUnsafeBytes { raw in
            md5.update(raw)
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw LocalDirectoryStore.ioError("write", temporaryPath, key: key) }
                done += n
            }
        }
        size += bytes.count
    }

    func complete() async throws -> StoredObject {
        guard fd >= 0 else { throw ObjectStoreError(.uploadClosed, "complete after complete or abort", key: key) }
        do {
            guard fsync(fd) == 0 else { throw LocalDirectoryStore.ioError("fsync", temporaryPath, key: key) }
            guard close(fd) == 0 else { fd = -1; throw LocalDirectoryStore.ioError("close", temporaryPath, key: key) }
            fd = -1
            guard rename(temporaryPath, finalPath) == 0 else { throw LocalDirectoryStore.ioError("rename", finalPath, key: key) }
            // fsync the directory holding the new name, and the parents of directories created for it.
            var toSync = [directory]
            if let top = createdFrom {
                var d = directory
                while d.count >= top.count, let slash = d.lastIndex(of: "/") {
                    d = String(d[..<slash])
                    toSync.append(d.isEmpty ? "/" : d)
                }
            }
            for dir in toSync {
                let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard dfd >= 0 else { throw LocalDirectoryStore.ioError("open", dir, key: key) }
                defer { close(dfd) }
                guard fsync(dfd) == 0 else { throw LocalDirectoryStore.ioError("fsync", dir, key: key) }
            }
        } catch {
            await abort()
            throw error
        }
        return StoredObject(key: key, etag: Digest.hex(md5.finish()), size: size)
    }

    func abort() async {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        if unlink(temporaryPath) != 0 && errno != ENOENT {
            logger.warning("cannot remove temporary file", metadata: ["file.path": "\(temporaryPath)", "errno": "\(errno)"])
        }
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }
}
