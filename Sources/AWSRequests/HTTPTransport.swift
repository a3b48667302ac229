import CCurl
import Foundation
import Synchronization

/// One HTTP request as an AWS client (S3, Glue, ...) builds it.
package struct HTTPRequest: Sendable {
    /// `GET`, `PUT`, `POST`, `HEAD`, `DELETE`.
    package var method: String
    /// Absolute URL, already percent-encoded.
    package var url: String
    /// Headers to send (the signed ones and `Authorization`).
    package var headers: [(String, String)]
    /// The body; empty for none.
    package var body: [UInt8]

    /// A request.
    package init(method: String, url: String, headers: [(String, String)], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The answer to an `HTTPRequest`.
package struct HTTPResponse: Sendable {
    /// HTTP status code.
    package var status: Int
    /// Response headers, names lowercased.
    package var headers: [String: String]
    /// The body (empty for HEAD).
    package var body: [UInt8]

    /// A response.
    package init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A failure below HTTP: connection refused or reset, timeout, TLS, DNS.
package struct TransportError: Error, Sendable, CustomStringConvertible {
    /// libcurl's `CURLcode`.
    package var curlCode: Int
    /// libcurl's explanation.
    package var message: String
    /// Whether retrying may help (timeouts, resets, refused connections), as opposed to bad TLS or URL.
    package var isRetryable: Bool

    /// A transport error.
    package init(curlCode: Int, message: String, isRetryable: Bool) {
        self.curlCode = curlCode
        self.message = message
        self.isRetryable = isRetryable
    }

    package var description: String { "curl error \(curlCode): \(message)" }
}

/// Sends HTTP requests; the AWS clients' only I/O. Tests substitute scripted transports.
package protocol HTTPTransport: Sendable {
    /// Sends one request and returns the answer, whatever its status.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// TLS and timeout settings of `CurlTransport`.
package struct CurlTransportOptions: Sendable {
    /// PEM bundle of CAs to trust instead of the system's.
    package var caFile: String?
    /// Connect timeout.
    package var connectTimeoutSeconds: Int = 10
    /// A transfer slower than 1 byte/s for this long is a timeout (retryable).
    package var stallTimeoutSeconds: Int = 30

    /// Defaults, with an optional CA bundle.
    package init(caFile: String? = nil) {
        self.caFile = caFile
    }
}

/// `HTTPTransport` over libcurl easy handles, each run on a thread of `CurlThreadPool` so blocking
/// transfers never occupy Swift's cooperative threads. Certificates are checked; `HTTPS_PROXY`,
/// `https_proxy`, `http_proxy` and `NO_PROXY` are honoured by libcurl.
package struct CurlTransport: HTTPTransport {
    let options: CurlTransportOptions

    /// A transport with `options`.
    package init(options: CurlTransportOptions = CurlTransportOptions()) {
        self.options = options
    }

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let options = self.options
        let pending = PendingRequest(request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                CurlThreadPool.shared.submit { handle in
                    // The request (and its body) is released before resuming, so the caller gets its buffer
                    // back uniquely referenced and can reuse it without a copy.
                    let result = CurlTransport.take(pending, options: options, handle: handle)
                    continuation.resume(with: result)
                }
            }
        } onCancel: {
            pending.cancelled.store(true, ordering: .relaxed)
        }
    }

    /// Hands a request to a worker thread exactly once; carries the cancellation flag the transfer polls.
    final class PendingRequest: @unchecked Sendable {
        private var request: HTTPRequest?
        let cancelled = Atomic<Bool>(false)
        init(_ request: HTTPRequest) { self.request = request }
        func take() -> HTTPRequest {
            defer { request = nil }
            return request!
        }
    }

    static func take(_ pending: PendingRequest, options: CurlTransportOptions, handle: OpaquePointer) -> Result<HTTPResponse, any Error> {
        if pending.cancelled.load(ordering: .relaxed) {
            _ = pending.take()
            return .failure(CancellationError())
        }
        let request = pending.take()
        return Result { try perform(request, options: options, handle: handle, pending: pending) }
    }

    /// Collects the response of one transfer; lives on the worker thread's stack for its duration.
    final class Sink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
    }

    static func perform(
        _ request: HTTPRequest, options: CurlTransportOptions, handle: OpaquePointer,
        pending: PendingRequest? = nil
    ) throws -> HTTPResponse {
        curl_easy_reset(UnsafeMutableRawPointer(handle))
        let h = UnsafeMutableRawPointer(handle)
        let sink = Sink()
        var list: UnsafeMutablePointer<curl_slist>?
        var hasContentType = false
        for (name, value) in request.headers {
            if name.lowercased() == "content-type" { hasContentType = true }
            list = curl_slist_append(list, "\(name): \(value)")
        }
        list = curl_slist_append(list, "Expect:")
        if !hasContentType { list = curl_slist_append(list, "Content-Type:") }
        list = curl_slist_append(list, "Accept:")
        defer { curl_slist_free_all(list) }

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let unmanagedSink = Unmanaged.passUnretained(sink)
        let code: CURLcode = request.body.withUnsafeBytes { body in
            errorBuffer.withUnsafeMutableBufferPointer { errbuf in
                _ = replicatord_curl_setopt_string(h, CURLOPT_URL, request.url)
                _ = replicatord_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errbuf.baseAddress)
                _ = replicatord_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
                _ = replicatord_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds)
                _ = replicatord_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
                _ = replicatord_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, options.stallTimeoutSeconds)
                _ = replicatord_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
                _ = replicatord_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
                _ = replicatord_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
                if let ca = options.caFile { _ = replicatord_curl_setopt_string(h, CURLOPT_CAINFO, ca) }
                _ = replicatord_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list)
                if let pending {
                    // A cancelled task stops its transfer at the next progress callback (about once a second at worst).
                    _ = replicatord_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
                    _ = replicatord_curl_setopt_ptr(h, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(pending).toOpaque())
                    _ = replicatord_curl_setopt_xferinfo(h) { userdata, _, _, _, _ in
                        let p = Unmanaged<PendingRequest>.fromOpaque(userdata!).takeUnretainedValue()
                        return p.cancelled.load(ordering: .relaxed) ? 1 : 0
                    }
                }
                _ = replicatord_curl_setopt_ptr(h, CURLOPT_WRITEDATA, unmanagedSink.toOpaque())
                _ = replicatord_curl_setopt_ptr(h, CURLOPT_HEADERDATA, unmanagedSink.toOpaque())
                _ = replicatord_curl_setopt_write(h) { ptr, size, count, userdata in
                    let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
                    let n = size * count
                    if n > 0, let ptr { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n)) }
                    return n
                }
                _ = replicatord_curl_setopt_header(h) { ptr, size, count, userdata in
                    let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
                    let n = size * count
                    guard n > 0, let ptr else { return n }
                    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
                    if line.hasPrefix("HTTP/") {
                        sink.headers = [:]  // a new response (after 100 Continue or a redirect)
                    } else if let colon = line.firstIndex(of: ":") {
                        let name = line[..<colon].lowercased()
                        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                        sink.headers[name] = value
                    }
                    return n
                }
                switch request.method {
                case "GET":
                    _ = replicatord_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
                case "HEAD":
                    _ = replicatord_curl_setopt_long(h, CURLOPT_NOBODY, 1)
                default:
                    _ = replicatord_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
                    if request.method != "DELETE" || !body.isEmpty {
                        // POSTFIELDS sends straight from our buffer, without a read callback or a copy.
                        _ = replicatord_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                        _ = replicatord_curl_setopt_ptr(
                            h, CURLOPT_POSTFIELDS,
                            UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                    }
                }
                let result = curl_easy_perform(h)
                // Don't let the handle keep pointers into buffers that are about to go away.
                _ = replicatord_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, nil)
                _ = replicatord_curl_setopt_slist(h, CURLOPT_HTTPHEADER, nil)
                return result
            }
        }
        withExtendedLifetime(sink) {}
        if code == CURLE_ABORTED_BY_CALLBACK { throw CancellationError() }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw TransportError(curlCode: Int(code.rawValue), message: message, isRetryable: CurlTransport.isRetryable(code))
        }
        var status = 0
        _ = replicatord_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    static func isRetryable(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
            CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_HTTP2, CURLE_HTTP2_STREAM,
            CURLE_SSL_CONNECT_ERROR, CURLE_WEIRD_SERVER_REPLY:
            return true
        default:
            return false
        }
    }
}

/// Threads that run blocking libcurl transfers, each with its own easy handle (so connections are
/// reused). The pool grows on demand up to `maximumThreads` and is shared by the whole process.
final class CurlThreadPool: Sendable {
    static let shared: CurlThreadPool = {
        precondition(curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK, "curl_global_init failed")
        return CurlThreadPool(maximumThreads: 64)
    }()

    typealias Job = @Sendable (OpaquePointer) -> Void

    private struct State {
        /// Pending jobs only: a job (and the request body it holds) is dropped as soon as a thread takes it.
        var jobs: [Job] = []
        var threads = 0
        var idle = 0
    }

    private let state = Mutex(State())
    private let condition = NSCondition()
    private let maximumThreads: Int

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    func submit(_ job: @escaping Job) {
        condition.lock()
        let spawn = state.withLock { s -> Bool in
            s.jobs.append(job)
            if s.idle < s.jobs.count && s.threads < maximumThreads {
                s.threads += 1
                return true
            }
            return false
        }
        condition.signal()
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in self.workerLoop() }
            thread.name = "replicatord-curl"
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

    private func workerLoop() {
        guard let raw = curl_easy_init() else { preconditionFailure("curl_easy_init failed: out of memory") }
        let handle = OpaquePointer(raw)
        while true {
            condition.lock()
            var job: Job?
            while job == nil {
                job = state.withLock { s -> Job? in
                    s.jobs.isEmpty ? nil : s.jobs.removeFirst()
                }
                if job == nil {
                    state.withLock { $0.idle += 1 }
                    condition.wait()
                    state.withLock { $0.idle -= 1 }
                }
            }
            condition.unlock()
            job!(handle)
            job = nil
        }
    }
}
