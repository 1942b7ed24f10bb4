//! PostgreSQL: sessions across `ALTER ROLE`, `pg_terminate_backend`'s `WHERE`, `pg_hba` trust.

use crate::lab;
use cdb_lab::{Host, PgServer};

/// Evidence for the drill world's "a PostgreSQL session opened before a password change
/// survives it" (issue 11, item 2): `ALTER ROLE … PASSWORD` does not end live sessions;
/// only new logins see the new password.
#[test]
fn session_survives_alter_role_password() {
    let Some(pg) = lab(PgServer::start()) else {
        return;
    };
    let old = pg.password().to_owned();
    let new = format!("{old}-rotated");
    let mut session = pg.session(Host::Remote, Some(&old)).unwrap();
    assert_eq!(session.query("SELECT 1;").unwrap(), ["1"]);

    let alter = pg.psql(
        Host::Socket,
        None,
        &format!("ALTER ROLE claire_user PASSWORD '{new}';"),
    );
    assert!(alter.success(), "{}", alter.stderr);

    // The old session keeps working, reads and writes.
    assert_eq!(session.query("SELECT 2;").unwrap(), ["2"]);
    session
        .query("CREATE TABLE after_rotation (n int);")
        .unwrap();
    session
        .query("INSERT INTO after_rotation VALUES (7);")
        .unwrap();
    assert_eq!(
        session.query("SELECT n FROM after_rotation;").unwrap(),
        ["7"]
    );

    let with_old = pg.psql(Host::Remote, Some(&old), "SELECT 1;");
    assert_eq!(with_old.code, Some(2), "{with_old:?}");
    assert!(
        with_old
            .stderr
            .contains("password authentication failed for user \"claire_user\""),
        "{}",
        with_old.stderr
    );
    let with_new = pg.psql(Host::Remote, Some(&new), "SELECT current_user;");
    assert!(with_new.success(), "{}", with_new.stderr);
    assert_eq!(with_new.stdout.trim(), "claire_user");
}

/// Evidence for "`pg_terminate_backend` honours its `WHERE` clause" (issue 11, item 2):
/// terminating `claire_user`'s client backends started before a cutoff taken from the
/// server's clock in the `ALTER ROLE` transaction ends the old session and leaves a newer one;
/// `backend_type = 'client backend'` keeps background processes out (the logical replication
/// launcher runs as `claire_user`, the bootstrap superuser).
#[test]
fn terminate_backend_honours_where_clause() {
    let Some(pg) = lab(PgServer::start()) else {
        return;
    };
    let old = pg.password().to_owned();
    let new = format!("{old}-rotated");
    let mut before = pg.session(Host::Remote, Some(&old)).unwrap();

    // now() is the transaction's start: the cutoff and the password change share one clock
    // reading.
    let rotate = pg.psql(
        Host::Socket,
        None,
        &format!(
            "BEGIN;\nALTER ROLE claire_user PASSWORD '{new}';\n\
             SELECT now()::text;\nCOMMIT;\n"
        ),
    );
    assert!(rotate.success(), "{}", rotate.stderr);
    let cutoff = rotate.stdout.trim().to_owned();
    assert!(!cutoff.is_empty());

    let mut after = pg.session(Host::Remote, Some(&new)).unwrap();
    assert_ne!(before.backend_pid(), after.backend_pid());

    // The backend_type filter matters: claire_user is the bootstrap superuser (as with the
    // image's POSTGRES_USER), and the logical replication launcher runs as that user, so
    // `usename = 'claire_user'` alone would match it too.
    // The launcher starts shortly after the server accepts connections: wait for its row.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (launcher_user, launcher_pid) = loop {
        let row = pg.psql(
            Host::Socket,
            None,
            "SELECT coalesce(usename, '(none)'), pid FROM pg_stat_activity \
             WHERE backend_type = 'logical replication launcher';",
        );
        let line = row.stdout.trim().to_owned();
        if !line.is_empty() || std::time::Instant::now() > deadline {
            let (user, pid) = line.split_once('|').unwrap_or((&line, ""));
            break (user.to_owned(), pid.to_owned());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(launcher_user, "claire_user");

    // The runbook's form: the call in the select list, so it runs only on the rows the WHERE
    // keeps. (This test once called it inside the WHERE, beside the filters: PostgreSQL may
    // evaluate the conditions in any order, and it terminated the logical replication launcher
    // too, which the postmaster restarts 5 s later; the wait for the launcher's row below hid
    // it.)
    let terminate = pg.psql(
        Host::Socket,
        None,
        &format!(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE usename = 'claire_user' AND backend_type = 'client backend' \
             AND backend_start < '{cutoff}'::timestamptz AND pid <> pg_backend_pid();"
        ),
    );
    assert!(terminate.success(), "{}", terminate.stderr);
    assert_eq!(
        terminate.stdout.trim(),
        format!("{}|t", before.backend_pid()),
        "exactly the old session is terminated"
    );

    let gone = before.query("SELECT 1;").unwrap_err();
    assert!(
        gone.contains("terminating connection due to administrator command"),
        "{gone}"
    );
    assert_eq!(after.query("SELECT 3;").unwrap(), ["3"]);

    // Still the same launcher: the terminate call ended no process but the old session.
    let launcher_after = pg.psql(
        Host::Socket,
        None,
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'logical replication launcher';",
    );
    assert_eq!(
        launcher_after.stdout.trim(),
        launcher_pid,
        "the launcher was ended"
    );
    let alive = pg.psql(
        Host::Socket,
        None,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = {};",
            after.backend_pid()
        ),
    );
    assert_eq!(alive.stdout.trim(), "1");
}

/// Evidence for the official image's trust (issue 11; issue 13's "`-h cdb_postgres` reaches an
/// address that is not trusted"): the socket and 127.0.0.1 accept any password, the
/// non-trusted address (127.0.0.2, standing for another container) only the right one.
#[test]
fn loopback_is_trusted_and_remote_needs_the_password() {
    let Some(pg) = lab(PgServer::start()) else {
        return;
    };
    let wrong = "not-the-password";
    for host in [Host::Socket, Host::Loopback] {
        let out = pg.psql(host, Some(wrong), "SELECT inet_client_addr()::text;");
        assert!(out.success(), "{host:?}: {}", out.stderr);
    }
    let via_loopback = pg.psql(Host::Loopback, None, "SELECT host(inet_client_addr());");
    assert_eq!(via_loopback.stdout.trim(), "127.0.0.1");

    let refused = pg.psql(Host::Remote, Some(wrong), "SELECT 1;");
    assert_eq!(refused.code, Some(2));
    assert!(
        refused.stderr.contains("password authentication failed"),
        "{}",
        refused.stderr
    );
    let no_password = pg.psql(Host::Remote, None, "SELECT 1;");
    assert_eq!(no_password.code, Some(2));

    let right = pg.psql(
        Host::Remote,
        Some(pg.password()),
        "SELECT host(inet_client_addr());",
    );
    assert!(right.success(), "{}", right.stderr);
    assert_eq!(right.stdout.trim(), "127.0.0.2");
}

/// The runbook's own SQL, run on a real server (issue 12, defect 4): the cut-off that
/// `database-rotate-alter-role` takes from the server's clock in the same call as the
/// `ALTER ROLE`, then the statement of `database-revoke-old-sessions`, as the steps print
/// them (their `printf` formats, read from the runbook), end the session opened before the
/// password change and leave the one opened after it, and never a background process.
#[test]
fn the_runbooks_sql_ends_only_client_sessions_older_than_its_cut_off() {
    let Some(pg) = lab(PgServer::start()) else {
        return;
    };
    let runbook = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md"),
    )
    .unwrap();
    let alter_fmt = printf_format(&runbook, "database-rotate-alter-role", "ALTER ROLE");
    // The revoke step first records the server's time, then ends the sessions (one call).
    let revoke_fmt = printf_format(
        &runbook,
        "database-revoke-old-sessions",
        "SELECT extract(epoch FROM clock_timestamp());",
    );
    assert!(
        revoke_fmt.contains("SELECT pg_terminate_backend"),
        "{revoke_fmt}"
    );
    let old = pg.password().to_owned();
    let new = format!("{old}-rotated");
    let mut before = pg.session(Host::Remote, Some(&old)).unwrap();

    let alter = pg.psql(Host::Socket, None, &alter_fmt.replacen("%s", &new, 1));
    assert!(alter.success(), "{}", alter.stderr);
    let cut = alter.stdout.lines().last().unwrap_or("").trim().to_owned();
    assert!(
        !cut.is_empty() && cut.bytes().all(|b| b.is_ascii_digit()),
        "the step's cut-off is whole seconds on the server's clock: {:?}",
        alter.stdout
    );
    // The cut-off is rounded up: a session opened in the same second counts as old (it is
    // ended and logs in again, harmless); one opened after that second is new.
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    let mut after = pg.session(Host::Remote, Some(&new)).unwrap();

    let revoke = pg.psql(Host::Socket, None, &revoke_fmt.replacen("%s", &cut, 1));
    assert!(revoke.success(), "{}", revoke.stderr);
    let terminated_at = revoke.stdout.lines().next().unwrap_or("").trim();
    assert!(
        terminated_at
            .split_once('.')
            .is_some_and(|(s, f)| s.parse::<u64>().is_ok() && f.parse::<u64>().is_ok()),
        "the termination time is Unix seconds with a fraction (what `docker logs --since` \
         takes): {terminated_at:?}"
    );
    let ended = revoke.stdout.lines().filter(|l| l.trim() == "t").count();
    assert_eq!(ended, 1, "exactly the old session: {:?}", revoke.stdout);
    assert!(
        before.query("SELECT 1;").is_err(),
        "the old session was ended"
    );
    assert_eq!(after.query("SELECT 4;").unwrap(), ["4"]);
    let launcher = pg.psql(
        Host::Socket,
        None,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication launcher';",
    );
    assert_eq!(launcher.stdout.trim(), "1", "the launcher is left running");
}

/// The SQL a step sends: the first `printf "…"` format in step `id` that contains `marker`,
/// with the escapes `printf` expands.
fn printf_format(runbook: &str, id: &str, marker: &str) -> String {
    let start = runbook
        .find(&format!("{{#{id} "))
        .unwrap_or_else(|| panic!("no step {id}"));
    let body = &runbook[start..];
    let body = &body[..body.find("\n```").unwrap_or(body.len())];
    let at = body
        .find(&format!("printf \"{marker}"))
        .unwrap_or_else(|| panic!("step {id} sends no `{marker}`"));
    let fmt = &body[at + "printf \"".len()..];
    let fmt = &fmt[..fmt.find('"').unwrap_or(fmt.len())];
    fmt.replace("\\n", "\n")
}
