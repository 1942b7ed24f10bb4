//! An in-process harness for the mock tools (issue 14): a drill world from `World::new_with` in
//! a temp dir laid out as a sandbox is, and `call`, which hands one tool invocation to
//! `cdb_drill::mock::answer` as the world server does, with no runbook, bash, jail, client or
//! server in between. The world stays readable (and writable) between calls.
//!
//! A test here claims something about a tool's answers and the world's state; a claim that
//! needs bash, the jail, pipes between real processes, the engine's judging of a transcript or
//! the runbook's own steps stays a drill (`crate::run_tiny` and the other modules).

use cdb_drill::mock::{self, Ctx};
use cdb_drill::world::{ViolationKind, World};
use std::path::{Path, PathBuf};

/// The seed `drill` uses when none is given (`cli::Options`), so values and clocks match what
/// the through-bash form of these tests saw.
const SEED: u64 = 1;

/// One call's answer.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Out {
    /// Standard output without its final newline (as `$(…)` in a step would read it).
    pub fn text(&self) -> &str {
        self.out.strip_suffix('\n').unwrap_or(&self.out)
    }
    /// Standard output and error, in that order (as `2>&1` would show them, near enough for
    /// the `grep`s these tests replace).
    pub fn both(&self) -> String {
        format!("{}{}", self.out, self.err)
    }
    /// Asserts exit 0 and returns standard output.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "{self:#?}");
        &self.out
    }
}

/// A world and the sandbox folders its files live in.
pub struct Stack {
    _dir: tempfile::TempDir,
    root: PathBuf,
    pub w: World,
    /// The drill clock at which the next step starts (simulated seconds).
    t: u64,
    /// The time each step takes (a runbook step's `time=`).
    step_secs: u64,
    steps: usize,
}

impl Stack {
    /// The stack as a drill of a class without start overlays begins it; steps of `step_secs`.
    pub fn new(step_secs: u64) -> Stack {
        Stack::with_overlays(step_secs, &[])
    }

    /// As a drill of `class` begins it: with the class's start overlays (the tls class
    /// starts with `tls.yml`: `cdb_model::overlays::default_overlays`).
    pub fn for_class(step_secs: u64, class: &str) -> Stack {
        let overlays = cdb_drill::overlays::default_overlays(class);
        let overlays: Vec<&str> = overlays.iter().map(String::as_str).collect();
        Stack::with_overlays(step_secs, &overlays)
    }

    /// As [`Stack::new`], started with the Compose overlays `overlays` (the tls class starts
    /// with `tls.yml`).
    pub fn with_overlays(step_secs: u64, overlays: &[&str]) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        // The sandbox's own root is canonical (sandbox.rs): labels and paths print alike.
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for d in ["secrets", "stack", "tmp", "home"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        // The Compose files `docker compose -f` checks for, as `Sandbox::new` writes them.
        for p in &cdb_drill::stack::kit().projects {
            let mut y = String::from(
                "# drill sandbox: the services of this project (the mocks answer for them)\nservices:\n",
            );
            for sv in &p.services {
                y.push_str(&format!("  {sv}:\n    container_name: {sv}\n"));
            }
            std::fs::write(root.join("stack").join(&p.file), y).unwrap();
        }
        for f in cdb_drill::overlays::OVERLAY_FILES {
            std::fs::write(
                root.join("stack").join(f),
                "# drill sandbox: an overlay (TLS for the servers and their clients)\nservices: {}\n",
            )
            .unwrap();
        }
        let overlays: Vec<String> = overlays.iter().map(|o| (*o).to_owned()).collect();
        let w = World::new_with(SEED, &root, &root.join("secrets"), &overlays).unwrap();
        let mut s = Stack {
            _dir: dir,
            root,
            w,
            t: 0,
            step_secs,
            steps: 0,
        };
        s.step();
        s
    }

    /// Leaks the secret files `names`, as `engine::start_world` does for a scenario's
    /// `leaked:`: the values are leaked, and whoever holds one is connected with it.
    pub fn leak(&mut self, names: &[&str]) {
        for n in names {
            let v = self.w.read_secret_file(n).unwrap();
            self.w.leaked.insert(v);
        }
        cdb_drill::redis_conns::leaker_connects(&mut self.w);
        self.w.open_leaker_sessions();
        self.w.open_leaker_grafana_session();
    }

    /// Ends the current step and starts the next, as the engine does between two pre-check
    /// steps: the bot trades where its order path is open, and the clock advances by the
    /// step's time.
    pub fn step(&mut self) {
        if self.steps > 0 {
            cdb_drill::exchange::after_step(&mut self.w, cdb_docs::Phase::PreCheck);
            self.t += self.step_secs;
        }
        self.steps += 1;
        self.w.current_step = Some(format!("t-pre-check-s{}", self.steps - 1));
        self.w.clock = self.t;
    }

    pub fn secrets(&self) -> PathBuf {
        self.root.join("secrets")
    }
    /// `$CDB_TLS_DIR`.
    pub fn tls(&self) -> PathBuf {
        self.w.tls_dir()
    }
    /// `$TMPDIR`.
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// The bytes of the secret file `name` as `cat "$SECRETS_PATH/NAME"` prints them.
    pub fn secret(&self, name: &str) -> String {
        std::fs::read_to_string(self.secrets().join(name)).unwrap()
    }
    pub fn write_secret(&self, name: &str, text: &str) {
        std::fs::write(self.secrets().join(name), text).unwrap();
    }

    /// `tool ARGS…` with nothing on stdin and the step's environment.
    pub fn call(&mut self, tool: &str, args: &[&str]) -> Out {
        self.call_with(tool, args, "", &[])
    }

    /// `VAR=value… tool ARGS… < stdin`, from the stack folder (a step's working directory),
    /// with the environment every step gets (`Sandbox::step_env`) plus `env`.
    pub fn call_with(
        &mut self,
        tool: &str,
        args: &[&str],
        stdin: &str,
        env: &[(&str, &str)],
    ) -> Out {
        let mut ctx = Ctx::local(self.root.join("stack"));
        let base = [
            ("HOME", self.root.join("home")),
            ("SECRETS_PATH", self.secrets()),
            ("CDB_TLS_DIR", self.tls()),
            ("TMPDIR", self.tmp()),
        ];
        for (k, v) in base {
            ctx.env.insert(k.to_owned(), v.display().to_string());
        }
        for (k, v) in [("LANG", "C"), ("TERM", "dumb")].iter().chain(env) {
            ctx.env.insert((*k).to_owned(), (*v).to_owned());
        }
        // The mocks read stdin only for the forms that read it (mock::needs_stdin), as the
        // client does.
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        if mock::needs_stdin(tool, &args) {
            ctx.stdin = stdin.to_owned();
        }
        let code = mock::answer(&mut self.w, tool, &args, &mut ctx);
        Out {
            code,
            out: String::from_utf8(ctx.out).unwrap(),
            err: String::from_utf8(ctx.err).unwrap(),
        }
    }

    /// `docker ARGS…` split on spaces (no argument here holds one).
    pub fn docker(&mut self, line: &str) -> Out {
        let args: Vec<&str> = line.split(' ').collect();
        self.call("docker", &args)
    }

    /// `docker inspect -f FORMAT SERVICE`, its one line.
    pub fn inspect(&mut self, format: &str, service: &str) -> String {
        let o = self.call("docker", &["inspect", "-f", format, service]);
        o.ok().trim_end().to_owned()
    }

    /// The services the final `services-healthy` invariant would name, with their problems.
    pub fn sick(&self) -> Vec<String> {
        cdb_drill::world::all_services()
            .filter_map(|s| {
                let p = self.w.problems(s);
                (!p.is_empty()).then(|| format!("{s}: {}", p.join(", ")))
            })
            .collect()
    }

    /// The details of the violations of `kind` (`SecretInArgv`; any other kind is what the
    /// `no-forbidden-action` invariant names).
    pub fn violations(&self, kind: ViolationKind) -> Vec<String> {
        self.w
            .violations
            .iter()
            .filter(|v| v.kind == kind)
            .map(|v| v.detail.clone())
            .collect()
    }
}

/// Whether `path` exists and is not empty (`test -s`).
pub fn non_empty(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

/// The harness itself: a call reaches the tool, is logged with its step, and a secret value on
/// its command line is a violation (as through the world server).
#[test]
fn a_call_is_answered_logged_and_checked_for_secrets() {
    let mut s = Stack::new(60);
    let o = s.call("openssl", &["rand", "-hex", "4"]);
    assert_eq!(o.code, 0);
    assert_eq!(o.text().len(), 8, "{o:?}");
    let last = s.w.calls.last().unwrap();
    assert_eq!(
        (last.tool.as_str(), last.step.as_deref()),
        ("openssl", Some("t-pre-check-s0"))
    );
    assert!(s.violations(ViolationKind::SecretInArgv).is_empty());
    let pw = s.secret("REDIS_PASSWORD");
    s.call(
        "docker",
        &["exec", "cdb_redis", "redis-cli", "-a", &pw, "PING"],
    );
    let v = s.violations(ViolationKind::SecretInArgv);
    assert!(
        v.iter()
            .any(|d| d.contains("`docker` holds the value of REDIS_PASSWORD")),
        "{v:?}"
    );
    assert_eq!(s.call("nosuch", &[]).code, 127);
}

/// The harness starts from the world a drill of the same seed starts from, at the same clock:
/// the same calls answer the same through bash, the jail, the client and the world server as
/// in process. (A harness that drifted from the sandbox, say in its seed, clock or stack
/// folder, would make the in-process tests claim things about another world.)
#[test]
fn the_harness_answers_as_a_drill_step_does() {
    let inspect = "{{.Image}} {{index .Config.Labels \"com.docker.compose.project.config_files\"}}";
    let count = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend';";
    let body = format!(
        "openssl rand -hex 4 | tr 0-9a-f g-v\ndate -u +%s\ndocker inspect -f '{inspect}' cdb_redis\nREDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")\" docker exec -e REDISCLI_AUTH cdb_redis redis-cli CLIENT LIST | cut -d' ' -f1,4-\nprintf \"%s\" \"{count}\" | docker exec -i cdb_postgres psql -U claire_user -d claire_de_binare -qtA"
    );
    // (CLIENT LIST without its addresses: the journal redacts private addresses.)
    let (_, j) = crate::run_tiny(crate::mocks::MATRIX, "database", "1m", &[&body], &[]);
    let step = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "step")
        .unwrap();
    assert_eq!(step["status"], "passed", "{step:#}");
    let through_bash = step["stdout"].as_str().unwrap();

    let mut s = Stack::new(60);
    let pw = s.secret("REDIS_PASSWORD");
    let mut here = String::new();
    // A seeded value, shifted out of hex (`tr 0-9a-f g-v`): the journal redacts the value itself.
    let rand = s.call("openssl", &["rand", "-hex", "4"]);
    here += &rand
        .ok()
        .chars()
        .map(|c| match c.to_digit(16) {
            Some(d) => char::from(b'g' + u8::try_from(d).unwrap()),
            None => c,
        })
        .collect::<String>();
    here += s.call("date", &["-u", "+%s"]).ok();
    // The journal shows the sandbox's root as `$SANDBOX`, as the drill's own transcript does.
    let root = s.root.display().to_string();
    here += &s
        .call("docker", &["inspect", "-f", inspect, "cdb_redis"])
        .ok()
        .replace(&root, "$SANDBOX");
    let list = [
        "exec",
        "-e",
        "REDISCLI_AUTH",
        "cdb_redis",
        "redis-cli",
        "CLIENT",
        "LIST",
    ];
    let o = s.call_with("docker", &list, "", &[("REDISCLI_AUTH", &pw)]);
    for l in o.ok().lines() {
        // `cut -d' ' -f1,4-`; the reply's own final newline leaves an empty line, as real
        // redis-cli prints it.
        let f: Vec<&str> = l.split(' ').collect();
        here += &format!(
            "{}\n",
            [&f[..1], f.get(3..).unwrap_or_default()].concat().join(" ")
        );
    }
    let psql = [
        "exec",
        "-i",
        "cdb_postgres",
        "psql",
        "-U",
        "claire_user",
        "-d",
        "claire_de_binare",
        "-qtA",
    ];
    here += s.call_with("docker", &psql, count, &[]).ok();
    here += "PASS database-pre-check-s0\n";
    assert_eq!(here, through_bash);
}
