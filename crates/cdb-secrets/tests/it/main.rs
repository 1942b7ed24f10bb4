//! Integration tests of cdb-secrets: detector examples, look-alikes, pragmas, baselines,
//! properties and a scan of the crate's own sources.

mod baseline;
mod decoding;
mod examples;
mod lookalikes;
mod mask;
mod pragmas;
mod props;
mod selfscan;

/// Base64 (RFC 4648) of `bytes`, standard or URL-safe, with or without `=` padding: the
/// encoded forms the scanner must see through, built independently of the crate's own encoder.
pub fn b64(bytes: &[u8], url: bool, pad: bool) -> String {
    let abc: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(char::from(abc[((n >> (18 - 6 * k)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}
