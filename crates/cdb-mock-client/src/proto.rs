//! The wire format between a mock tool's client and the drill engine's world server, shared by
//! both sides (cdb-drill includes this file): length-prefixed byte strings over a Unix socket.
//!
//! The client sends, once: the magic [`MAGIC`], its argv (the tool's name first), its
//! environment as `NAME=VALUE` strings, its working directory and its process id. The server
//! then sends requests, each a tag byte and its fields, until [`DONE`]:
//!
//! | tag | fields | client's answer |
//! |---|---|---|
//! | [`STDIN`] | none | everything on its standard input |
//! | [`READ`] | path | [`OK`] and the file's bytes, or [`FAILED`] and the error |
//! | [`WRITE`] | path, bytes | [`OK`] and nothing, or [`FAILED`] and the error |
//! | [`MKDIR`] | path | the same (`create_dir_all`) |
//! | [`EXISTS`] | path | [`OK`] when the path exists, else [`FAILED`], and nothing |
//! | [`DONE`] | exit code (4 bytes), stdout, stderr | none: it prints them and exits |
//!
//! Files are read and written by the client, not the server: inside the drill jail, with the
//! step's own view of the file system (`/dev/stdin`, `/dev/fd/63` of a process substitution,
//! a read-only host), so a mistaken or hostile step cannot make the engine write outside the
//! sandbox.

use std::io::{self, Read, Write};

pub const MAGIC: &[u8; 6] = b"CDBM1\n";
pub const STDIN: u8 = b'I';
pub const READ: u8 = b'R';
pub const WRITE: u8 = b'W';
pub const MKDIR: u8 = b'D';
pub const EXISTS: u8 = b'E';
pub const DONE: u8 = b'X';
pub const OK: u8 = 0;
pub const FAILED: u8 = 1;

/// The environment variable naming the server's socket in a drill sandbox.
pub const SOCKET_VAR: &str = "CDB_DRILL_SOCKET";

/// The most one field may hold: a garbled or hostile peer cannot make the other side allocate
/// without bound.
pub const MAX_FIELD: u32 = 64 << 20;

pub fn put(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let n = u32::try_from(bytes.len())
        .ok()
        .filter(|n| *n <= MAX_FIELD)
        .ok_or_else(|| io::Error::other("field too long"))?;
    w.write_all(&n.to_le_bytes())?;
    w.write_all(bytes)
}

pub fn get(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let n = get_u32(r)?;
    if n > MAX_FIELD {
        return Err(io::Error::other("field too long"));
    }
    let mut buf = vec![0; n as usize];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

pub fn put_list<'a>(
    w: &mut impl Write,
    items: impl ExactSizeIterator<Item = &'a [u8]>,
) -> io::Result<()> {
    let n = u32::try_from(items.len()).map_err(io::Error::other)?;
    w.write_all(&n.to_le_bytes())?;
    for i in items {
        put(w, i)?;
    }
    Ok(())
}

pub fn get_list(r: &mut impl Read) -> io::Result<Vec<Vec<u8>>> {
    let n = get_u32(r)?;
    if n > 1 << 16 {
        return Err(io::Error::other("list too long"));
    }
    (0..n).map(|_| get(r)).collect()
}

pub fn get_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

pub fn get_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}
