//! Mock `openssl rand`: random values seeded from the drill seed and a per-world counter,
//! remembered as secrets so the transcript checks can find them.

use super::Ctx;
use crate::world::World;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    if args.first().map(String::as_str) != Some("rand") {
        ctx.errln(&format!(
            "openssl: `{}` is not modelled by the drill world (only `rand`)",
            args.first().cloned().unwrap_or_default()
        ));
        return 1;
    }
    let mut hex = false;
    let mut b64 = false;
    let mut out_file = None;
    let mut n = None;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "-hex" => hex = true,
            "-base64" => b64 = true,
            "-out" => {
                out_file = args.get(i + 1).cloned();
                i += 1;
            }
            s => match s.parse::<usize>() {
                Ok(v) if v <= 4096 => n = Some(v),
                _ => {
                    ctx.errln(&format!(
                        "rand: Use -help for summary. (bad argument `{s}`)"
                    ));
                    return 1;
                }
            },
        }
        i += 1;
    }
    let Some(n) = n else {
        ctx.errln("rand: Missing number of bytes");
        return 1;
    };
    let bytes = w.rand_bytes(n);
    let text = if hex {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    } else if b64 {
        base64(&bytes)
    } else {
        // Raw bytes are not printable; the drill stores them as hex, which no runbook should print anyway.
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    w.remember("a value from openssl rand", &text);
    match out_file {
        Some(f) => {
            if std::fs::write(ctx.cwd.join(&f), format!("{text}\n")).is_err() {
                ctx.errln(&format!("rand: Can't open \"{f}\" for writing"));
                return 1;
            }
        }
        None => ctx.outln(&text),
    }
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b"foob"), "Zm9vYg==");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
