/// The rules of one streaming upload, as a value type that does no I/O
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html):
/// nothing is created until a full part is buffered (small objects go in one PutObject); at most
/// `parallelism` parts are in flight; parts are numbered from 1; Complete lists every part in order;
/// any failure after Create leads to Abort, so no orphan parts stay billed.
package struct MultipartUploadStateMachine: Sendable {
    /// Where the upload is.
    package enum State: Equatable, Sendable {
        /// No multipart upload exists yet; bytes are only buffered.
        case buffering
        /// CreateMultipartUpload is in flight.
        case creating
        /// The upload exists.
        case open(uploadId: String)
        /// CompleteMultipartUpload (or, with no upload id, the single PutObject) is in flight.
        case completing(uploadId: String?)
        /// Done; the object is visible.
        case completed
        /// Given up; the upload was (or is being) aborted.
        case aborted
    }

    /// What the driver must do next.
    package enum Action: Equatable, Sendable {
        /// Send CreateMultipartUpload, then report `uploadCreated`.
        case createUpload
        /// Send the buffered part with this number.
        case uploadPart(number: Int)
        /// Wait for one in-flight part to finish, then ask again.
        case waitForPart
        /// Send the whole (small) object with PutObject.
        case putObject
        /// Send CompleteMultipartUpload with these (number, ETag) pairs.
        case complete(uploadId: String, parts: [Int])
        /// Send AbortMultipartUpload.
        case abort(uploadId: String)
        /// Nothing to do.
        case none
    }

    /// Current state.
    package private(set) var state: State = .buffering
    /// Parts allowed in flight at once.
    package let parallelism: Int
    /// Numbers of parts being sent.
    package private(set) var inFlight: Set<Int> = []
    /// Numbers of parts S3 acknowledged.
    package private(set) var uploaded: Set<Int> = []
    private var nextPart = 1

    /// A fresh upload.
    package init(parallelism: Int) {
        precondition(parallelism >= 1, "an upload needs at least one part in flight")
        self.parallelism = parallelism
    }

    /// A full part is buffered and must be sent before more bytes are accepted.
    package mutating func partBuffered() -> Action {
        switch state {
        case .buffering:
            state = .creating
            return .createUpload
        case .open:
            guard inFlight.count < parallelism else { return .waitForPart }
            let n = nextPart
            nextPart += 1
            inFlight.insert(n)
            return .uploadPart(number: n)
        case .creating, .completing, .completed, .aborted:
            preconditionFailure("partBuffered in state \(state): calls on one upload must not overlap")
        }
    }

    /// CreateMultipartUpload answered.
    package mutating func uploadCreated(uploadId: String) {
        precondition(state == .creating, "uploadCreated only follows createUpload")
        state = .open(uploadId: uploadId)
    }

    /// A part was acknowledged with a matching ETag.
    package mutating func partUploaded(number: Int) {
        precondition(inFlight.contains(number), "part \(number) acknowledged but never sent")
        inFlight.remove(number)
        uploaded.insert(number)
    }

    /// The writer has no more bytes; `remainingBytes` are still buffered.
    package mutating func finish(remainingBytes: Int) -> Action {
        switch state {
        case .buffering:
            state = .completing(uploadId: nil)
            return .putObject
        case .open(let id):
            if remainingBytes > 0 || nextPart == 1 {
                // The last part may be short; an upload with no part yet needs one (even empty).
                guard inFlight.count < parallelism else { return .waitForPart }
                let n = nextPart
                nextPart += 1
                inFlight.insert(n)
                return .uploadPart(number: n)
            }
            guard inFlight.isEmpty else { return .waitForPart }
            state = .completing(uploadId: id)
            return .complete(uploadId: id, parts: uploaded.sorted())
        case .creating, .completing, .completed, .aborted:
            preconditionFailure("finish in state \(state): calls on one upload must not overlap")
        }
    }

    /// The object is stored.
    package mutating func completed() {
        guard case .completing = state else { preconditionFailure("completed only follows complete or putObject") }
        state = .completed
    }

    /// Something failed, or the writer gave up: abort whatever exists.
    package mutating func fail() -> Action {
        let previous = state
        state = .aborted
        inFlight = []
        switch previous {
        case .open(let id), .completing(let id?): return .abort(uploadId: id)
        default: return .none
        }
    }

    /// True when the upload may still accept bytes.
    package var isWritable: Bool {
        switch state {
        case .buffering, .open: return true
        default: return false
        }
    }
}
