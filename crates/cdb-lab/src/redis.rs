//! `RedisServer`: a Redis instance with `requirepass` from its config file, and a RESP client.
//!
//! The password is in `redis.conf` inside the instance dir (mode 0600), never on a command
//! line. The client speaks RESP2 over TCP itself: it is a few lines, and it keeps passwords
//! off `redis-cli`'s command line.

use crate::error::LabError;
use crate::instance::{self, Instance, Options};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const SERVER: &str = "Redis";

/// A running Redis instance; dropping it stops the server and removes its dir.
pub struct RedisServer {
    instance: Instance,
    port: u16,
    password: String,
    version: String,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is left out on purpose: a Debug print must not show it.
        f.debug_struct("RedisServer")
            .field("dir", &self.instance.dir())
            .field("port", &self.port)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl RedisServer {
    /// Starts an instance with default options.
    pub fn start() -> Result<Self, LabError> {
        Self::start_with(&Options::default())
    }

    /// Writes `redis.conf` (port, dir, `requirepass`, no persistence) and starts the server.
    pub fn start_with(opts: &Options) -> Result<Self, LabError> {
        let program = match &opts.bin_dir {
            Some(dir) => instance::find_program("redis-server", &[&dir.to_string_lossy()])?,
            None => instance::find_program("redis-server", &["/usr/bin", "/usr/local/bin"])?,
        };
        let version = redis_version(&program);
        // Redis runs as root without complaint, so it keeps this process's user; setpriv
        // only ties its life to the supervisor.
        let prefix = instance::setpriv_prefix(None)?;
        let port = instance::pick_port(SERVER, opts.port)?;
        let dir = instance::make_dir("cdb-lab-redis-", opts.parent.as_deref(), None)?;
        let password = instance::generate_password();
        let started = write_config(&dir, port, &password).and_then(|conf| {
            let mut argv: Vec<OsString> = prefix;
            argv.push(program.into());
            argv.push(conf.into());
            let instance = Instance::spawn(SERVER, &dir, "TERM", &argv)?;
            let server = RedisServer {
                instance,
                port,
                password,
                version,
            };
            server.wait_ready()?;
            Ok(server)
        });
        if started.is_err() && dir.exists() {
            // The start's error is the one to report; a dir left in the temp folder is harmless.
            let _ = std::fs::remove_dir_all(&dir);
        }
        started
    }

    fn wait_ready(&self) -> Result<(), LabError> {
        self.instance.wait_ready(|| {
            RedisConn::connect(self.port)
                .and_then(|mut c| c.cmd(&["PING"]))
                .is_ok_and(|r| matches!(r, Reply::Error(_) | Reply::Simple(_)))
        })
    }

    /// The `requirepass` value of the config file (generated for this run).
    pub fn password(&self) -> &str {
        &self.password
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance dir (config, log); removed when the server is dropped.
    pub fn dir(&self) -> &Path {
        self.instance.dir()
    }

    pub fn pid(&self) -> u32 {
        self.instance.pid()
    }

    /// The server's version as `major.minor.patch`, from `redis-server --version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the server process is alive.
    pub fn running(&self) -> bool {
        self.instance.running()
    }

    /// Whether the version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self
            .version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        have >= (major, minor)
    }

    /// A new connection, not yet authenticated.
    pub fn connect(&self) -> io::Result<RedisConn> {
        RedisConn::connect(self.port)
    }

    /// Stops the server (`SIGTERM`) and starts it again from the same config file, as a
    /// container restart does.
    pub fn restart(&mut self) -> Result<(), LabError> {
        self.instance.restart()?;
        self.wait_ready()
    }
}

fn write_config(dir: &Path, port: u16, password: &str) -> Result<std::path::PathBuf, LabError> {
    let conf = dir.join("redis.conf");
    let text = format!(
        "# Written by cdb-lab for one test run.\n\
         bind 127.0.0.1\nport {port}\ndir {}\nsave \"\"\nappendonly no\n\
         daemonize no\nlogfile \"\"\nrequirepass {password}\n",
        dir.display()
    );
    let write = || -> io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&conf)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(text.as_bytes())
    };
    write().map_err(|e| LabError::Dir {
        path: conf.clone(),
        cause: e.to_string(),
    })?;
    Ok(conf)
}

/// Its version, for the lab's closing line only ("0.0.0" when it cannot be asked: the server's
/// start, which follows, fails clearly if the program is broken).
fn redis_version(program: &Path) -> String {
    let out = std::process::Command::new(program)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .unwrap_or("0.0.0")
        .to_owned()
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text: simple strings, errors, integers and bulk strings.
    pub fn text(&self) -> String {
        match self {
            Reply::Simple(s) | Reply::Error(s) => s.clone(),
            Reply::Int(n) => n.to_string(),
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Reply::Bulk(None) | Reply::Array(None) => String::new(),
            Reply::Array(Some(items)) => {
                items.iter().map(Reply::text).collect::<Vec<_>>().join("\n")
            }
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

/// One TCP connection to Redis.
#[derive(Debug)]
pub struct RedisConn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RedisConn {
    /// Connects to 127.0.0.1:`port`; reads time out after 10 s so a test never hangs.
    pub fn connect(port: u16) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(RedisConn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Sends one command and reads its reply; an error means the connection is gone.
    pub fn cmd(&mut self, args: &[&str]) -> io::Result<Reply> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out)?;
        read_reply(&mut self.reader)
    }

    /// `AUTH password` (the `default` user); `Ok(true)` when accepted.
    pub fn auth(&mut self, password: &str) -> io::Result<bool> {
        Ok(!self.cmd(&["AUTH", password])?.is_error())
    }
}

fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad reply line {line:?}"),
        )
    };
    let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    Ok(match kind {
        "+" => Reply::Simple(rest.to_owned()),
        "-" => Reply::Error(rest.to_owned()),
        ":" => Reply::Int(rest.parse().map_err(|_| bad())?),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                Reply::Bulk(None)
            } else {
                let mut buf = vec![0u8; usize::try_from(n).map_err(|_| bad())? + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(buf.len() - 2);
                Reply::Bulk(Some(buf))
            }
        }
        "*" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                Reply::Array(None)
            } else {
                let items = (0..n).map(|_| read_reply(r)).collect::<io::Result<_>>()?;
                Reply::Array(Some(items))
            }
        }
        _ => return Err(bad()),
    })
}
