//! Fingerprints that cannot be guessed back into a value: SHA-256, HMAC-SHA-256 and the key
//! kept in the baseline file.
//!
//! A finding's fingerprint identifies it in a baseline and in GitHub code scanning. It used to be
//! an unsalted FNV hash of the value, shown beside the value's first four characters and its
//! length, so a weak password could be found again from an uploaded SARIF file by hashing
//! guesses. Now it is one of two things, and never a function of the value alone:
//!
//! - **keyed** (a `key` line in `.secrets-baseline`): HMAC-SHA-256 of the rule and the value under
//!   a 256-bit key drawn from the OS RNG when the baseline is created. Without the key, guessing
//!   means guessing the key. The key sits in the repository, so this protects uploads and logs
//!   seen by people without read access to the repository, which is what code scanning
//!   uploads are; it does not hide a value from someone who can read both.
//! - **location** (no key): SHA-256 of the rule, the key name the value is assigned to (the
//!   identifier right before it on its line, or nothing) and the hit's rank among hits of the
//!   same rule and key name in the file. It holds nothing derived from the value, and it does
//!   not change when lines move, so GitHub code scanning keeps tracking the alert. `verify` only
//!   reads, so it never creates a key itself; a per-run random key was rejected because every
//!   run would then open new alerts and no baseline entry could ever match.
//!
//! SHA-256 is implemented here (FIPS 180-4, checked against its test vectors) because it is a
//! page of code and keeps `cargo xtask verify` free of another dependency.

use std::fmt;

/// A fingerprint key: 32 bytes from the OS RNG. Its `Debug` form does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct FingerprintKey([u8; 32]);

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

impl FingerprintKey {
    /// A fresh key from the operating system's random source (`/dev/urandom`).
    pub fn generate() -> std::io::Result<FingerprintKey> {
        use std::io::Read;
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(FingerprintKey(bytes))
    }

    /// The key from 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<FingerprintKey> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).ok()?;
            bytes[i] = u8::from_str_radix(s, 16).ok()?;
        }
        Some(FingerprintKey(bytes))
    }

    /// The key as 64 lower-case hex digits, for the baseline file.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

/// Length in hex digits of a v2 fingerprint (128 bits, plenty to tell findings apart).
pub const FINGERPRINT_HEX: usize = 32;

/// The keyed fingerprint of a finding: HMAC-SHA-256 under `key` of the rule and the value,
/// as [`FINGERPRINT_HEX`] hex digits.
pub fn keyed_fingerprint(key: &FingerprintKey, rule: &str, value: &str) -> String {
    let mut msg = Vec::with_capacity(rule.len() + value.len() + 32);
    msg.extend_from_slice(b"cdb-secrets/value/v2\0");
    msg.extend_from_slice(rule.as_bytes());
    msg.push(0xff);
    msg.extend_from_slice(value.as_bytes());
    hex(&hmac_sha256(&key.0, &msg)[..FINGERPRINT_HEX / 2])
}

/// The location fingerprint of a finding: SHA-256 of the rule, the name the value is assigned
/// to and the hit's rank among hits of that rule and name, as [`FINGERPRINT_HEX`] hex digits.
pub fn location_fingerprint(rule: &str, name: &str, rank: usize) -> String {
    let mut msg = Vec::with_capacity(rule.len() + name.len() + 40);
    msg.extend_from_slice(b"cdb-secrets/location/v2\0");
    msg.extend_from_slice(rule.as_bytes());
    msg.push(0xff);
    msg.extend_from_slice(name.as_bytes());
    msg.push(0xff);
    msg.extend_from_slice(rank.to_string().as_bytes());
    hex(&sha256(&msg)[..FINGERPRINT_HEX / 2])
}

/// The name a value at `start` is assigned to: the identifier right before it on its line,
/// past quotes, spaces and `=`/`:` (`REDIS_PASSWORD` in `REDIS_PASSWORD="…"`), at most 64
/// bytes; empty when the value stands alone.
pub(crate) fn assigned_name(text: &str, start: usize) -> &str {
    // Only a short window before the value is looked at, so that many hits on one long line
    // cost a constant each, not the line's length.
    let mut from = start.saturating_sub(256);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let line_start = text[from..start].rfind('\n').map_or(from, |i| from + i + 1);
    let before =
        text[line_start..start].trim_end_matches([' ', '\t', '"', '\'', '`', '=', ':', '>']);
    let name_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    // The name is ASCII, so cutting it at any byte keeps a char boundary.
    let name = &before[name_start..];
    let cut = name.len().saturating_sub(64);
    &name[cut..]
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 (FIPS 180-4).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// HMAC-SHA-256 (RFC 2104).
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha256(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha256(&inner));
    sha256(&outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_fips_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn hmac_rfc4231_vectors() {
        // Test case 2 of RFC 4231.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn key_hex_round_trip_and_debug_hides_it() {
        let key = FingerprintKey([7u8; 32]);
        assert_eq!(FingerprintKey::from_hex(&key.to_hex()), Some(key.clone()));
        assert!(FingerprintKey::from_hex("00").is_none());
        assert!(!format!("{key:?}").contains("07"));
    }

    #[test]
    fn assigned_names() {
        let t = "x\n  REDIS_PASSWORD=\"v\"\n`v` alone\napi.key: v\n";
        assert_eq!(
            assigned_name(t, t.find("\"v").unwrap_or_default() + 1),
            "REDIS_PASSWORD"
        );
        assert_eq!(assigned_name(t, t.find("`v").unwrap_or_default() + 1), "");
        assert_eq!(
            assigned_name(t, t.rfind(": v").unwrap_or_default() + 2),
            "api.key"
        );
    }
}
