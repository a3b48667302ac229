import Testing
@testable import AWSRequests

/// AWS's published Signature Version 4 test suite (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z,
/// us-east-1, service "service"); expected signatures hand-copied from the suite's `.authz` files.
@Suite struct SigV4SignerTests {
    let signer = SigV4Signer(region: "us-east-1", service: "service")
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    let date = "20150830T123600Z"

    func sign(
        method: String = "GET", path: String = "/", query: [(String, String)] = [],
        extra: [(String, String)] = [], payloadHash: String? = nil
    ) -> SigV4Signer.Signature {
        signer.sign(
            SigV4Signer.Request(
                method: method, path: path, query: query,
                headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", date)] + extra,
                payloadHash: payloadHash ?? emptyHash),
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", amzDate: date)
    }

    @Test func getVanilla() {
        let s = sign()
        #expect(s.canonicalRequest == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash)
        #expect(s.stringToSign.hasSuffix("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"))
        #expect(
            s.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func getVanillaQuery() {
        #expect(sign(query: [("Param1", "value1")]).signature == "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        #expect(
            sign(query: [("Param2", "value2"), ("Param1", "value1")]).signature
                == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func getVanillaQueryOrderValue() {
        let s = sign(query: [("Param1", "value2"), ("Param1", "Value1")])
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "Param1=Value1&Param1=value2")
        #expect(s.signature == "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")
    }

    @Test func getVanillaUTF8Query() {
        #expect(sign(query: [("\u{1234}", "bar")]).signature == "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")
    }

    @Test func getUnreserved() {
        let path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        #expect(sign(path: path).signature == "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")
    }

    @Test func getHeaderKeyDuplicate() {
        let s = sign(extra: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")])
        #expect(s.signedHeaders == "host;my-header1;x-amz-date")
        #expect(s.signature == "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")
    }

    @Test func getHeaderValueOrder() {
        let s = sign(extra: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")])
        #expect(s.signature == "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")
    }

    @Test func getHeaderValueTrim() {
        let s = sign(extra: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")])
        #expect(s.signedHeaders == "host;my-header1;my-header2;x-amz-date")
        #expect(s.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    @Test func postVanilla() {
        #expect(sign(method: "POST").signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test func postVanillaQuery() {
        #expect(
            sign(method: "POST", query: [("Param1", "value1")]).signature
                == "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")
    }

    @Test func postXWWWFormURLEncoded() {
        let hash = Digest.hex(Digest.sha256(Array("Param1=value1".utf8)))
        let s = sign(method: "POST", extra: [("Content-Type", "application/x-www-form-urlencoded")], payloadHash: hash)
        #expect(s.signedHeaders == "content-type;host;x-amz-date")
        #expect(s.signature == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test func postXWWWFormURLEncodedParameters() {
        let hash = Digest.hex(Digest.sha256(Array("Param1=value1".utf8)))
        let s = sign(method: "POST", extra: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], payloadHash: hash)
        #expect(s.signature == "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe")
    }

    /// The S3 example of https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (GET with Range).
    @Test func s3GetObjectExampleFromS3Documentation() {
        let s3 = SigV4Signer(region: "us-east-1", service: "s3")
        let s = s3.sign(
            SigV4Signer.Request(
                method: "GET", path: "/test.txt",
                headers: [
                    ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                    ("x-amz-content-sha256", emptyHash), ("x-amz-date", "20130524T000000Z"),
                ], payloadHash: emptyHash),
            accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            amzDate: "20130524T000000Z")
        #expect(s.stringToSign.hasSuffix("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        #expect(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func keysAreEncodedOnceWithSlashesKept() {
        #expect(SigV4Signer.uriEncode("/bucket/a b/c+d=é", encodeSlash: false) == "/bucket/a%20b/c%2Bd%3D%C3%A9")
        #expect(SigV4Signer.uriEncode("a/b", encodeSlash: true) == "a%2Fb")
        #expect(SigV4Signer.canonicalQuery([("uploads", ""), ("prefix", "x/y")]) == "prefix=x%2Fy&uploads=")
    }

    @Test func amzDateFormatsUTC() {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
    }
}

import Foundation
