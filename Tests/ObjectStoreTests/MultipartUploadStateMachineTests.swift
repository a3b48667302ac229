import Testing
@testable import ObjectStore

@Suite struct MultipartUploadStateMachineTests {
    @Test func smallObjectGoesInOnePut() {
        var m = MultipartUploadStateMachine(parallelism: 2)
        #expect(m.finish(remainingBytes: 10) == .putObject)
        m.completed()
        #expect(m.state == .completed)
        #expect(!m.isWritable)
    }

    @Test func firstFullPartCreatesThenUploadsPartOne() {
        var m = MultipartUploadStateMachine(parallelism: 2)
        #expect(m.partBuffered() == .createUpload)
        m.uploadCreated(uploadId: "u")
        #expect(m.partBuffered() == .uploadPart(number: 1))
        #expect(m.inFlight == [1])
    }

    @Test func partsInFlightAreBoundedByParallelism() {
        var m = MultipartUploadStateMachine(parallelism: 2)
        _ = m.partBuffered()
        m.uploadCreated(uploadId: "u")
        #expect(m.partBuffered() == .uploadPart(number: 1))
        #expect(m.partBuffered() == .uploadPart(number: 2))
        #expect(m.partBuffered() == .waitForPart)
        m.partUploaded(number: 1)
        #expect(m.partBuffered() == .uploadPart(number: 3))
    }

    @Test func finishSendsTheShortLastPartWaitsThenCompletesInOrder() {
        var m = MultipartUploadStateMachine(parallelism: 2)
        _ = m.partBuffered()
        m.uploadCreated(uploadId: "u")
        _ = m.partBuffered()
        _ = m.partBuffered()
        #expect(m.finish(remainingBytes: 100) == .waitForPart)
        m.partUploaded(number: 2)
        #expect(m.finish(remainingBytes: 100) == .uploadPart(number: 3))
        #expect(m.finish(remainingBytes: 0) == .waitForPart)
        m.partUploaded(number: 3)
        #expect(m.finish(remainingBytes: 0) == .waitForPart)
        m.partUploaded(number: 1)
        #expect(m.finish(remainingBytes: 0) == .complete(uploadId: "u", parts: [1, 2, 3]))
        m.completed()
        #expect(m.state == .completed)
    }

    @Test func failureAfterCreateAborts() {
        var m = MultipartUploadStateMachine(parallelism: 1)
        _ = m.partBuffered()
        m.uploadCreated(uploadId: "u")
        _ = m.partBuffered()
        #expect(m.fail() == .abort(uploadId: "u"))
        #expect(m.state == .aborted)
        #expect(m.fail() == .none)
    }

    @Test func failureDuringCompleteAbortsTheUpload() {
        var m = MultipartUploadStateMachine(parallelism: 1)
        _ = m.partBuffered()
        m.uploadCreated(uploadId: "u")
        _ = m.partBuffered()
        m.partUploaded(number: 1)
        #expect(m.finish(remainingBytes: 0) == .complete(uploadId: "u", parts: [1]))
        #expect(m.fail() == .abort(uploadId: "u"))
    }

    @Test func failureBeforeCreateHasNothingToAbort() {
        var m = MultipartUploadStateMachine(parallelism: 1)
        #expect(m.fail() == .none)
        var n = MultipartUploadStateMachine(parallelism: 1)
        #expect(n.partBuffered() == .createUpload)
        #expect(n.fail() == .none)
    }
}
