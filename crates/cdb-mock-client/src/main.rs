//! A mock tool of the drill sandbox (`docker`, `psql`, `redis-cli`, `curl`, …; the sandbox links
//! each name to this binary): it sends its call to the drill engine's world server over the
//! socket named by `CDB_DRILL_SOCKET`, does the file reads and writes the server asks for, and
//! prints what the server answers.
//!
//! Why a client: the sweep makes tens of thousands of mock calls, and starting the whole drill
//! binary for each (loading the world, saving it) was a third of its time. This one is small,
//! has no dependencies, and is built for the musl target where that is installed: a static
//! musl binary starts in a fraction of the time a glibc one needs (glibc reads the CPU's cache
//! layout with `cpuid` at every start, which traps in a virtual machine).

// Shared with the server (cdb-drill's `mock/server.rs` includes the same file); the client
// uses its half.
#[allow(dead_code)]
mod proto;

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    use std::os::unix::ffi::OsStrExt;
    let mut argv: Vec<Vec<u8>> = std::env::args_os().map(|a| a.as_bytes().to_vec()).collect();
    // The tool is the name this binary was started by (a link in the sandbox's `bin/`).
    let tool = argv
        .first()
        .map(|a| {
            let name = a.rsplit(|b| *b == b'/').next().unwrap_or(a);
            String::from_utf8_lossy(name).into_owned()
        })
        .unwrap_or_default();
    if let Some(first) = argv.first_mut() {
        *first = tool.clone().into_bytes();
    }
    match run(&argv) {
        Ok(code) => std::process::ExitCode::from(code),
        Err((code, why)) => {
            eprintln!("{tool}: {why}");
            std::process::ExitCode::from(code)
        }
    }
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    eprintln!("the drill's mock tools run only in a drill sandbox on Linux");
    std::process::ExitCode::from(127)
}

/// Makes the call; an error is the exit code and the reason.
#[cfg(unix)]
fn run(argv: &[Vec<u8>]) -> Result<u8, (u8, String)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixStream;
    let Some(socket) = std::env::var_os(proto::SOCKET_VAR) else {
        return Err((
            127,
            format!(
                "{} is not set: mock tools only run inside a drill sandbox",
                proto::SOCKET_VAR
            ),
        ));
    };
    let unavailable = |e: std::io::Error| (125, format!("drill world unavailable: {e}"));
    let stream = UnixStream::connect(&socket).map_err(unavailable)?;
    let env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        })
        .collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut w = std::io::BufWriter::new(&stream);
    let hello = (|| {
        use std::io::Write;
        w.write_all(proto::MAGIC)?;
        proto::put_list(&mut w, argv.iter().map(Vec::as_slice))?;
        proto::put_list(&mut w, env.iter().map(Vec::as_slice))?;
        proto::put(&mut w, cwd.as_os_str().as_bytes())?;
        proto::put(&mut w, std::process::id().to_string().as_bytes())?;
        w.flush()
    })();
    drop(w);
    hello.map_err(unavailable)?;
    serve(&stream).map_err(unavailable)
}

/// Answers the server's requests until it sends the result; returns the exit code.
#[cfg(unix)]
fn serve(stream: &std::os::unix::net::UnixStream) -> std::io::Result<u8> {
    use std::io::{Read, Write};
    use std::os::unix::ffi::OsStrExt;
    let mut r = std::io::BufReader::new(stream);
    let mut w = stream;
    let path = |b: Vec<u8>| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&b));
    let answer = |w: &mut &std::os::unix::net::UnixStream, res: std::io::Result<Vec<u8>>| match res
    {
        Ok(bytes) => {
            w.write_all(&[proto::OK])?;
            proto::put(w, &bytes)
        }
        Err(e) => {
            w.write_all(&[proto::FAILED])?;
            proto::put(w, e.to_string().as_bytes())
        }
    };
    loop {
        match proto::get_u8(&mut r)? {
            proto::STDIN => {
                let mut buf = Vec::new();
                // An unreadable stdin reads as empty, as the tools' own `read` would end.
                std::io::stdin().read_to_end(&mut buf).ok();
                proto::put(&mut w, &buf)?;
            }
            proto::READ => {
                let p = path(proto::get(&mut r)?);
                answer(&mut w, std::fs::read(p))?;
            }
            proto::WRITE => {
                let p = path(proto::get(&mut r)?);
                let data = proto::get(&mut r)?;
                answer(&mut w, std::fs::write(p, data).map(|()| Vec::new()))?;
            }
            proto::MKDIR => {
                let p = path(proto::get(&mut r)?);
                answer(&mut w, std::fs::create_dir_all(p).map(|()| Vec::new()))?;
            }
            proto::EXISTS => {
                let p = path(proto::get(&mut r)?);
                let tag = if p.exists() { proto::OK } else { proto::FAILED };
                w.write_all(&[tag])?;
                proto::put(&mut w, &[])?;
            }
            proto::DONE => {
                let code = proto::get_u32(&mut r)?;
                let out = proto::get(&mut r)?;
                let err = proto::get(&mut r)?;
                // A closed pipe downstream (`docker ps | head -1`) is not this tool's error.
                std::io::stdout().write_all(&out).ok();
                std::io::stdout().flush().ok();
                std::io::stderr().write_all(&err).ok();
                return Ok(u8::try_from(code.min(255)).unwrap_or(255));
            }
            other => {
                return Err(std::io::Error::other(format!(
                    "unknown request {other} from the drill engine"
                )));
            }
        }
    }
}
