import AWSRequests
import Foundation
import Synchronization

/// An AWS endpoint that answers from a script, in order (then `{}` with 200), and records the
/// requests: the stand-in of the Glue and AWS client unit tests.
package final class ScriptedTransport: HTTPTransport {
    package let answers: Mutex<[HTTPResponse]>
    package let sent = Mutex<[HTTPRequest]>([])

    package init(_ answers: [HTTPResponse]) { self.answers = Mutex(answers) }

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return answers.withLock { $0.isEmpty ? HTTPResponse(status: 200, body: Array("{}".utf8)) : $0.removeFirst() }
    }

    /// The `X-Amz-Target` of every request, in order.
    package var targets: [String] { sent.withLock { $0.map { r in r.headers.first { $0.0.lowercased() == "x-amz-target" }?.1 ?? "" } } }

    /// The `X-Amz-Target` of the `i`th request.
    package func target(_ i: Int) -> String? { sent.withLock { $0[i].headers.first { $0.0.lowercased() == "x-amz-target" }?.1 } }

    /// The `i`th request's JSON body as an object; throws when it is not one.
    package func json(_ i: Int) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(sent.withLock { $0[i].body })) as? [String: Any] else {
            throw NotAnObject(index: i)
        }
        return object
    }

    struct NotAnObject: Error { var index: Int }
}

/// An AWS JSON-protocol error answer (`{"__type": ..., "Message": ...}`).
package func awsErrorAnswer(_ status: Int, _ type: String, _ message: String = "m") -> HTTPResponse {
    HTTPResponse(status: status, body: Array("{\"__type\":\"\(type)\",\"Message\":\"\(message)\"}".utf8))
}
