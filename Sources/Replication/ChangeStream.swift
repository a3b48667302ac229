import Foundation
import PGClient
import PGOutput

/// The logical replication stream of one slot, read with pgoutput on a `replication=database`
/// connection. Blocking; use from one dedicated thread.
/// Protocol: https://www.postgresql.org/docs/15/protocol-replication.html
public final class ChangeStream {
    private let connection: PGConnection
    /// The stream spoken on the socket (nil: through libpq's COPY, for transports we cannot speak).
    private var socket: ReplicationSocket?
    /// CopyData messages at least this long are read with ``LargeValueSplicer``, which lifts
    /// values of ``largeValueBytes`` and more out of them as they arrive.
    public var spliceMessageBytes = 8 << 20
    public var largeValueBytes = 1 << 20
    /// Where large values are written as they are read (the spool directory); nil: into memory.
    public var largeValueDirectory: String?
    /// Values large out of their messages so far.
    public private(set) var largeValueCount = 0
    /// The last WAL position the server reported (XLogData or keepalive walEnd).
    public private(set) var serverWalEnd: LSN = .zero
    /// Everything before this position has been received and decoded: the end of the last commit
    /// read, or the walEnd of a keepalive that came with no transaction open. Confirming it is safe.
    public private(set) var safePosition: LSN = .zero
    /// The position we have told the server is stored (flushed); never ahead of the checkpoint.
    public private(set) var confirmed: LSN
    private var lastStatusSent = ContinuousClock.now
    private var streaming = false
    /// When the server last asked for a reply (see ``noteReplyRequest()``).
    private var replyRequests: [ContinuousClock.Instant] = []

    /// Session settings that make text-format values predictable for ``TextValueParser``.
    public static let sessionOptions = "-c datestyle=ISO,YMD -c intervalstyle=iso_8601 -c timezone=UTC -c extra_float_digits=3 -c bytea_output=hex"

    /// Opens the replication connection. `confirmed` is the checkpoint's LSN.
    public init(conninfo: String, confirmed: LSN) throws {
        connection = try PGConnection(conninfo: conninfo, replication: true, options: Self.sessionOptions)
        self.confirmed = confirmed
        self.safePosition = confirmed
    }

    /// The server's current WAL flush position (`IDENTIFY_SYSTEM`); call before ``start``.
    public func currentWalPosition() throws -> LSN {
        let identity = try connection.identifySystem()
        guard let lsn = LSN(identity.walPosition) else {
            throw PGError(.protocolViolation, "IDENTIFY_SYSTEM returned a WAL position that is not an LSN")
        }
        return lsn
    }

    /// `START_REPLICATION` from `from` with pgoutput protocol 1, binary values when `binary`.
    public func start(slot: String, publication: String, from: LSN, binary: Bool) throws {
        var options = [("proto_version", "1"), ("publication_names", publication)]
        if binary { options.append(("binary", "true")) }
        if let socket = try connection.startLogicalReplicationOnSocket(slot: slot, from: from.description, options: options) {
            self.socket = socket
        } else {
            try connection.startLogicalReplication(slot: slot, from: from.description, options: options)
        }
        streaming = true
    }

    /// Reads changes into `accumulator` until the server has sent everything up to `target` and
    /// no transaction is open. Keeps the connection alive with status updates. Changes read
    /// earlier (by ``read(for:into:resolver:spill:)``) count: the drain may end past `target`.
    public func drain(
        until target: LSN, into accumulator: inout ChangeAccumulator, resolver: TypeResolver,
        deadline: ContinuousClock.Instant? = nil, spill: (inout ChangeSegment) throws -> Void = { _ in },
        stopAtBoundary: (ChangeAccumulator) -> Bool = { _ in false }
    ) throws {
        while safePosition < target || accumulator.inTransaction {
            if !accumulator.inTransaction && stopAtBoundary(accumulator) { return }
            if let deadline, ContinuousClock.now > deadline {
                throw PGError(.replicationFailed, "the stream did not reach \(target) before the deadline (server at \(serverWalEnd))")
            }
            // On a quiet stream, ask for a keepalive: its walEnd tells how far the server has decoded.
            if try !receive(into: &accumulator, resolver: resolver, timeoutMilliseconds: 1000, spill: spill) {
                try sendStatus(replyRequested: true)
            }
        }
    }

    /// Reads whatever the server sends for about `duration` into `accumulator` (service mode reads
    /// continuously between cycles), stopping anywhere, even inside a transaction.
    public func read(
        for duration: Duration, into accumulator: inout ChangeAccumulator, resolver: TypeResolver,
        spill: (inout ChangeSegment) throws -> Void = { _ in }, stopAtBoundary: (ChangeAccumulator) -> Bool = { _ in false }
    ) throws {
        let until = ContinuousClock.now + duration
        while ContinuousClock.now < until {
            if !accumulator.inTransaction && stopAtBoundary(accumulator) { return }
            let left = until - ContinuousClock.now
            let milliseconds = Int32(clamping: max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            _ = try receive(into: &accumulator, resolver: resolver, timeoutMilliseconds: milliseconds, spill: spill)
        }
    }

    /// Handles one message from the server, waiting up to `timeoutMilliseconds` for it; false when
    /// none came. Sends a status update when the last one is 10 s old.
    private func receive(
        into accumulator: inout ChangeAccumulator, resolver: TypeResolver, timeoutMilliseconds: Int32,
        spill: (inout ChangeSegment) throws -> Void
    ) throws -> Bool {
        defer { if ContinuousClock.now - lastStatusSent > .seconds(10) { try? sendStatus() } }
        var message: ReplicationMessage?
        var largeValues: [LargeValue] = []
        let outcome: PGConnection.ReadOutcome
        if let socket {
            switch try socket.next(timeoutMilliseconds: timeoutMilliseconds) {
            case .timedOut: outcome = .timedOut
            case .endOfStream: outcome = .endOfStream
            case .copyData(let length):
                outcome = .message
                if length >= spliceMessageBytes {
                    let spliced = try LargeValueSplicer.read(from: socket, threshold: largeValueBytes, directory: largeValueDirectory)
                    largeValues = spliced.largeValues
                    largeValueCount += largeValues.count
                    message = try ReplicationMessage.decode(spliced.message)
                } else {
                    message = try ReplicationMessage.decode(try socket.readArray(length))
                }
            }
        } else {
            outcome = try connection.readCopyData(timeoutMilliseconds: timeoutMilliseconds) { bytes in
                message = try ReplicationMessage.decode(Array(bytes))
            }
        }
        switch outcome {
        case .endOfStream:
            streaming = false
            throw PGError(.connectionClosed, "the server ended the replication stream")
        case .timedOut:
            return false
        case .message:
            break
        }
        guard let message else { throw PGError(.protocolViolation, "a CopyData message was reported but not delivered") }
        switch message {
        case .xLogData(let data):
            if data.walEnd > serverWalEnd { serverWalEnd = data.walEnd }
            let pg = try data.decodeMessage()
            try accumulator.handle(pg, largeValues: largeValues, resolve: resolver.resolve, spill: spill)
            if case .commit(let commit) = pg {
                safePosition = max(safePosition, commit.endLSN)
            }
        case .primaryKeepalive(let keepalive):
            if keepalive.walEnd > serverWalEnd { serverWalEnd = keepalive.walEnd }
            if keepalive.replyRequested {
                try sendStatus()
                try noteReplyRequest()
            }
            if !accumulator.inTransaction {
                safePosition = max(safePosition, keepalive.walEnd)
            }
        }
        return true
    }

    /// A PostgreSQL shutting down (smart or fast) keeps each logical walsender until its client
    /// has confirmed everything it was sent, asking for a reply again as soon as one arrives. We
    /// confirm only what is stored, so that would hold the shutdown until the next cycle: several
    /// such requests within a moment (in normal streaming they come every wal_sender_timeout / 2
    /// at most) end the stream instead; nothing unconfirmed is lost, the next stream reads it again.
    private func noteReplyRequest() throws {
        let now = ContinuousClock.now
        replyRequests.append(now)
        replyRequests.removeAll { now - $0 > .seconds(2) }
        if replyRequests.count >= 5 {
            throw PGError(
                .connectionClosed,
                "the server asks again and again for a confirmation of everything sent: it is shutting down; closing the stream (nothing beyond the checkpoint is confirmed)"
            )
        }
    }

    /// Tells the server everything up to `lsn` is stored, so it may recycle WAL and move the
    /// slot's `confirmed_flush_lsn`. Call only after the checkpoint that covers `lsn` is stored.
    public func confirm(_ lsn: LSN) throws {
        if lsn > confirmed { confirmed = lsn }
        try sendStatus()
    }

    /// Sends a Standby Status Update with the confirmed position.
    public func sendStatus(replyRequested: Bool = false) throws {
        guard streaming else { return }
        let now = PostgresTimestamp(unixMicroseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
        let update = StandbyStatusUpdate(
            written: max(confirmed, serverWalEnd), flushed: confirmed, applied: confirmed,
            clientTime: now, replyRequested: replyRequested)
        if let socket { try socket.sendCopyData(update.encoded()) } else { try connection.sendCopyData(update.encoded()) }
        lastStatusSent = .now
    }

    /// Ends the stream (CopyDone) after a last status update.
    public func finish() throws {
        guard streaming else { return }
        try sendStatus()
        if let socket {
            self.socket = nil
            try socket.end()
        } else {
            try connection.endCopy()
        }
        streaming = false
    }
}
