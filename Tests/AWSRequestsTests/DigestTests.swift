import Testing
@testable import AWSRequests

@Suite struct DigestTests {
    @Test func knownDigests() {
        #expect(Digest.hex(Digest.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.hex(Digest.md5(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(
            Digest.hex(Digest.hmacSHA256(key: Array("key".utf8), "The quick brown fox jumps over the lazy dog"))
                == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }

    @Test func crc32CheckValue() {
        #expect(Digest.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Digest.crc32Base64(Array("123456789".utf8)) == "y/Q5Jg==")
        #expect(Digest.crc32([]) == 0)
    }

    @Test func base64Padding() {
        #expect(Digest.base64([]) == "")
        #expect(Digest.base64(Array("f".utf8)) == "Zg==")
        #expect(Digest.base64(Array("fo".utf8)) == "Zm8=")
        #expect(Digest.base64(Array("foo".utf8)) == "Zm9v")
        #expect(Digest.base64(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test func incrementalMD5MatchesOneShot() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let h = MD5Hasher()
        bytes[..<12345].withUnsafeBytes { h.update($0) }
        bytes[12345...].withUnsafeBytes { h.update($0) }
        #expect(h.finish() == Digest.md5(bytes))
    }
}
