//! Starting and stopping: no leftovers (dropped or killed owner), and clear start errors.

use crate::lab;
use cdb_lab::{LabError, Options, PgServer, RedisServer, processes_using};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waits up to `within` for `dir` to be gone and no process to use it.
fn assert_gone(dir: &Path, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let users = processes_using(dir);
        if !dir.exists() && users.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} left behind: exists={}, processes={users:?}",
            dir.display(),
            dir.exists()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Evidence for issue 13's "no leftovers": dropping the servers (with an open session and
/// connection) stops every server process and removes their dirs.
#[test]
fn dropped_servers_leave_nothing() {
    let Some(pg) = lab(PgServer::start()) else {
        return;
    };
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    // Through TCP, so the client's own command line does not name the dir.
    let session = pg.session(cdb_lab::Host::Loopback, None).unwrap();
    let backend = session.backend_pid();
    let _conn = redis.connect().unwrap();
    let dirs = [pg.dir().to_path_buf(), redis.dir().to_path_buf()];
    assert!(
        processes_using(&dirs[0]).contains(&backend),
        "the backend runs in the data dir"
    );
    drop(pg);
    drop(redis);
    // Drop waits for the supervisors, so everything is gone at once.
    for dir in &dirs {
        assert_gone(dir, Duration::ZERO);
    }
    drop(session);
}

/// Set in the child process of `killed_owner_leaves_nothing`.
const OWNER_CHILD: &str = "CDB_LAB_TEST_OWNER_CHILD";

/// The child's part of `killed_owner_leaves_nothing` (the same test, run again in a child
/// process with `OWNER_CHILD` set): it starts both servers, prints their dirs, and waits to be
/// killed. A test of its own would run, and sleep, under `--include-ignored`.
fn owner_child() {
    let (Ok(pg), Ok(redis)) = (PgServer::start(), RedisServer::start()) else {
        println!("no servers");
        return;
    };
    let _session = pg.session(cdb_lab::Host::Socket, None).unwrap();
    println!("dir {}", pg.dir().display());
    println!("dir {}", redis.dir().display());
    println!("ready");
    std::thread::sleep(Duration::from_secs(120));
}

/// Evidence for issue 13's "no leftovers, interrupted or not": when the process owning the
/// servers is killed with SIGKILL (no Drop runs), the supervisors see their input close, stop
/// the servers and remove the dirs.
#[test]
fn killed_owner_leaves_nothing() {
    if std::env::var_os(OWNER_CHILD).is_some() {
        return owner_child();
    }
    if lab(PgServer::start()).is_none() || lab(RedisServer::start()).is_none() {
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "lifecycle::killed_owner_leaves_nothing",
            "--exact",
            "--nocapture",
        ])
        .env(OWNER_CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut dirs: Vec<PathBuf> = Vec::new();
    for line in out.lines() {
        let line = line.unwrap();
        if let Some(dir) = line.strip_prefix("dir ") {
            dirs.push(dir.into());
        }
        if line == "ready" {
            break;
        }
    }
    assert_eq!(dirs.len(), 2, "the child started both servers");
    assert!(dirs.iter().all(|d| !processes_using(d).is_empty()));
    child.kill().unwrap();
    child.wait().unwrap();
    for dir in &dirs {
        assert_gone(dir, Duration::from_secs(20));
    }
}

/// The watchdog behind the watchdog: if the supervisor itself is killed, the server gets
/// `SIGKILL` from the kernel (`PR_SET_PDEATHSIG`), and Drop still removes the dir.
#[test]
fn killed_supervisor_takes_the_server_with_it() {
    let Some(redis) = lab(RedisServer::start()) else {
        return;
    };
    let server = redis.pid();
    let stat = std::fs::read_to_string(format!("/proc/{server}/stat")).unwrap();
    let supervisor: u32 = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let killed = Command::new("kill")
        .args(["-KILL", &supervisor.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{server}")).exists()
        && !std::fs::read_to_string(format!("/proc/{server}/stat"))
            .unwrap_or_default()
            .contains(") Z")
    {
        assert!(
            Instant::now() < deadline,
            "redis-server {server} outlived its supervisor"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = redis.dir().to_path_buf();
    drop(redis);
    assert_gone(&dir, Duration::ZERO);
}

fn timed<T>(start: impl FnOnce() -> Result<T, LabError>) -> (LabError, Duration) {
    let t = Instant::now();
    let result = start();
    let Err(e) = result else {
        panic!("the server started")
    };
    (e, t.elapsed())
}

/// Bad input: a port held by another process gives one error naming the port, at once.
#[test]
fn port_taken_is_one_clear_error() {
    if lab(PgServer::start()).is_none() || lab(RedisServer::start()).is_none() {
        return;
    }
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let opts = Options {
        port: Some(port),
        ..Options::default()
    };
    for (e, took) in [
        timed(|| PgServer::start_with(&opts)),
        timed(|| RedisServer::start_with(&opts)),
    ] {
        assert!(matches!(e, LabError::PortTaken { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains(&format!("127.0.0.1:{port} is already in use")),
            "{e}"
        );
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

/// Bad input: a parent dir the server cannot write gives one error naming the dir, in
/// bounded time, and leaves nothing behind.
#[test]
fn unwritable_data_dir_is_one_clear_error() {
    if lab(PgServer::start()).is_none() {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let locked = parent.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    let opts = Options {
        parent: Some(locked.clone()),
        ..Options::default()
    };
    let (e, took) = timed(|| PgServer::start_with(&opts));
    let msg = e.to_string();
    assert!(msg.contains(&locked.display().to_string()), "{msg}");
    assert!(
        msg.contains("Permission denied") || msg.contains("permission denied"),
        "{msg}"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(
        std::fs::read_dir(&locked).unwrap().count(),
        0,
        "nothing left in {}",
        locked.display()
    );
}

/// Bad input: a missing package is `LabError::Missing`, naming the install command, and the
/// skip policy skips it for a contributor but fails it under `CI=true`.
#[test]
fn missing_package_names_the_install_command() {
    let nowhere = Options {
        bin_dir: Some("/nonexistent/cdb-lab".into()),
        ..Options::default()
    };
    for e in [
        PgServer::start_with(&nowhere).unwrap_err(),
        RedisServer::start_with(&nowhere).unwrap_err(),
    ] {
        assert!(e.is_missing(), "{e:?}");
        assert!(
            e.to_string()
                .contains("sudo apt-get install postgresql redis-server"),
            "{e}"
        );
        assert!(e.to_string().contains("/nonexistent/cdb-lab"), "{e}");
    }
    let skipped = cdb_lab::skip_or_fail::<()>(PgServer::start_with(&nowhere).map(|_| ()), false);
    assert!(skipped.is_none());
    let in_ci = std::panic::catch_unwind(|| {
        cdb_lab::skip_or_fail::<()>(PgServer::start_with(&nowhere).map(|_| ()), true)
    });
    let message = *in_ci.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("CI=true"), "{message}");
}
