import CCrypto
import CZlib

/// SHA-256, HMAC-SHA256 and MD5 over libcrypto's EVP interface, with lowercase hex and base64 helpers.
package enum Digest {
    /// SHA-256 of `bytes`.
    package static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        evp(bytes, EVP_sha256(), 32)
    }

    /// SHA-256 of `bytes`.
    package static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { sha256($0) }
    }

    /// MD5 of `bytes` (S3's part checksum and `Content-MD5`; not used for security).
    package static func md5(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        evp(bytes, EVP_md5(), 16)
    }

    /// MD5 of `bytes`.
    package static func md5(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { md5($0) }
    }

    /// HMAC-SHA256 of `message` under `key`.
    package static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBytes { o in
                    let result = HMAC(
                        EVP_sha256(), k.baseAddress, Int32(k.count),
                        m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                        o.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
                    precondition(result != nil, "HMAC-SHA256 from libcrypto never fails on valid buffers")
                }
            }
        }
        return out
    }

    /// HMAC-SHA256 of a UTF-8 string under `key`.
    package static func hmacSHA256(key: [UInt8], _ message: String) -> [UInt8] {
        hmacSHA256(key: key, Array(message.utf8))
    }

    private static func evp(_ bytes: UnsafeRawBufferPointer, _ md: OpaquePointer?, _ size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let empty: UInt8 = 0
        let ok = withUnsafePointer(to: empty) { emptyPointer in
            out.withUnsafeMutableBytes { o in
                EVP_Digest(
                    bytes.baseAddress ?? UnsafeRawPointer(emptyPointer), bytes.count,
                    o.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, md, nil)
            }
        }
        precondition(ok == 1 && Int(length) == size, "EVP_Digest from libcrypto never fails on valid buffers")
        return out
    }

    /// CRC-32 (IEEE, as zlib and S3's `x-amz-checksum-crc32`) of `bytes`.
    package static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(CZlib.crc32_z(0, base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    /// CRC-32 of `bytes`.
    package static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }

    /// S3's encoding of a CRC-32: base64 of its four big-endian bytes.
    package static func crc32Base64(_ bytes: [UInt8]) -> String {
        let c = crc32(bytes)
        return base64([UInt8(c >> 24), UInt8((c >> 16) & 0xff), UInt8((c >> 8) & 0xff), UInt8(c & 0xff)])
    }

    /// Lowercase hexadecimal, as SigV4 and S3 ETags use.
    package static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard base64 with padding (`Content-MD5`).
    package static func base64(_ bytes: [UInt8]) -> String {
        let table: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Incremental MD5 for objects that arrive in chunks (the local store's ETag).
package final class MD5Hasher {
    private let context: OpaquePointer

    /// A hasher with nothing fed yet.
    package init() {
        guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
        precondition(EVP_DigestInit_ex(ctx, EVP_md5(), nil) == 1, "EVP_DigestInit_ex(md5) never fails")
        context = ctx
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds `bytes`.
    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "EVP_DigestUpdate never fails")
    }

    /// The digest of everything fed; the hasher must not be used afterwards.
    package func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        out.withUnsafeMutableBytes { o in
            precondition(
                EVP_DigestFinal_ex(context, o.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) == 1,
                "EVP_DigestFinal_ex never fails")
        }
        return out
    }
}
