//! The world server of a drill sandbox: the mock tools' client (`crates/cdb-mock-client`)
//! connects to its socket, sends its call, and gets the tool's output and exit code back.
//!
//! One server runs per sandbox, in the drill's own process, for the sandbox's lifetime; each
//! connection is one call, answered on its own thread (a pipeline's mocks run at once, and
//! one waiting for its stdin must not hold up the one writing it). The call runs exactly as a
//! mock process ran it (`mock::call`: the world file under its lock, so cdb-lab's adapter and
//! the `--shell` hooks, which use the file, see every change), with the caller's argv,
//! environment, working directory and process id. Files the arguments name are read and
//! written by the client, inside the step's jail (`proto.rs`).

// The client's own file: one definition of the wire format. The server uses its half.
#[path = "../../../cdb-mock-client/src/proto.rs"]
#[allow(dead_code)]
mod proto;

use super::{Ctx, Files, Loc};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use proto::SOCKET_VAR;

/// The client binary, built by `build.rs` (for the musl target where it is installed).
pub const CLIENT: &[u8] = include_bytes!(env!("CDB_MOCK_CLIENT"));

/// How long a call may leave the server waiting for its next message. A step's processes are
/// killed when the step ends, which closes their connections; this only bounds a client that
/// stays alive and silent (nothing the runbook does), so its thread does not wait forever.
const IDLE: std::time::Duration = std::time::Duration::from_secs(600);

/// A running server; dropping it stops it and removes its socket.
#[derive(Debug)]
pub struct Server {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Listens on `socket` and answers calls against the world file `world`.
    pub fn start(socket: &Path, world: &Path) -> io::Result<Server> {
        let listener = UnixListener::bind(socket).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "the drill's mock server cannot listen on {}: {e}",
                    socket.display()
                ),
            )
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let world = world.to_path_buf();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("cdb-drill-mocks".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if flag.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let world = world.clone();
                    // A thread that cannot start leaves its client with a closed connection,
                    // which the client reports as "drill world unavailable".
                    std::thread::Builder::new()
                        .name("cdb-drill-mock-call".into())
                        .spawn(move || {
                            // A broken connection is the client's end: nobody is left to tell.
                            answer(conn, &world).ok();
                        })
                        .ok();
                }
            })?;
        Ok(Server {
            socket: socket.to_path_buf(),
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        if UnixStream::connect(&self.socket).is_ok()
            && let Some(t) = self.thread.take()
        {
            // A panicked accept loop has nothing left to answer; the drop goes on cleaning up.
            t.join().ok();
        }
        // Clean-up: the socket lives in the sandbox, which is removed next anyway.
        std::fs::remove_file(&self.socket).ok();
    }
}

/// The client's side of the files: each request is answered before the next is sent.
#[derive(Debug)]
struct Remote(UnixStream);

impl Remote {
    fn ask(&self, tag: u8, path: &Path, data: Option<&[u8]>) -> io::Result<(bool, Vec<u8>)> {
        let mut w = &self.0;
        let mut msg = vec![tag];
        proto::put(&mut msg, path.as_os_str().as_bytes())?;
        if let Some(d) = data {
            proto::put(&mut msg, d)?;
        }
        w.write_all(&msg)?;
        let mut r = &self.0;
        let ok = proto::get_u8(&mut r)? == proto::OK;
        Ok((ok, proto::get(&mut r)?))
    }

    fn result(&self, tag: u8, path: &Path, data: Option<&[u8]>) -> io::Result<Vec<u8>> {
        match self.ask(tag, path, data)? {
            (true, bytes) => Ok(bytes),
            (false, why) => Err(io::Error::other(String::from_utf8_lossy(&why).into_owned())),
        }
    }
}

impl Files for Remote {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.result(proto::READ, path, None)
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.result(proto::WRITE, path, Some(data)).map(drop)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.result(proto::MKDIR, path, None).map(drop)
    }
    fn exists(&self, path: &Path) -> bool {
        self.ask(proto::EXISTS, path, None).is_ok_and(|(ok, _)| ok)
    }
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Answers one call.
fn answer(conn: UnixStream, world: &Path) -> io::Result<()> {
    conn.set_read_timeout(Some(IDLE))?;
    let mut r = &conn;
    let mut magic = [0; 6];
    r.read_exact(&mut magic)?;
    if &magic != proto::MAGIC {
        return Err(io::Error::other("not a mock client"));
    }
    let argv: Vec<String> = proto::get_list(&mut r)?.into_iter().map(text).collect();
    let env = proto::get_list(&mut r)?
        .into_iter()
        .filter_map(|kv| {
            let kv = text(kv);
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let cwd = PathBuf::from(std::ffi::OsStr::from_bytes(&proto::get(&mut r)?));
    let pid = text(proto::get(&mut r)?).parse().unwrap_or(0);
    let Some((tool, rest)) = argv.split_first() else {
        return Err(io::Error::other("a call without a tool"));
    };
    let mut ctx = Ctx {
        env,
        stdin: String::new(),
        out: Vec::new(),
        err: Vec::new(),
        loc: Loc::Host,
        cwd,
        files: Box::new(Remote(conn.try_clone()?)),
        pid,
    };
    // Stdin before the world's lock: a mock earlier in the pipeline may still hold it.
    if super::needs_stdin(tool, rest) {
        let mut w = &conn;
        w.write_all(&[proto::STDIN])?;
        ctx.stdin = text(proto::get(&mut r)?);
    }
    let deliver = |ctx: &Ctx, code: i32| -> io::Result<()> {
        let mut msg = vec![proto::DONE];
        msg.extend_from_slice(&u32::try_from(code.clamp(0, 255)).unwrap_or(1).to_le_bytes());
        proto::put(&mut msg, &ctx.out)?;
        proto::put(&mut msg, &ctx.err)?;
        let mut w = &conn;
        w.write_all(&msg)
    };
    if super::SHIMS.contains(&tool.as_str()) {
        super::call_then(world, tool, rest, &mut ctx, deliver)
    } else {
        ctx.errln(&format!("{tool}: command not found"));
        deliver(&ctx, 127)
    }
}
