//! The TLS overlay of the drill world (stack facts: "TLS CA key, server and client keys and
//! certificates | redis, postgres and their clients"; "The TLS overlay").
//!
//! Every key and certificate the drill issues (the world's initial set, or the mock `openssl`)
//! is kept in a registry: id → key, or id → certificate (subject, issuer, public key id,
//! signing key id, validity on the simulated clock). The files are PEM-shaped but obviously
//! fake: the base64 body is a small text record (`cdb-drill certificate` / `id=c3` / …) that
//! names the registry entry, so `openssl verify`, `x509 -checkend` and `pkey -pubout` answer
//! from the registry and verification is real. A private key file holds a per-seed random
//! nonce, and its whole text is remembered as a secret: printing one breaks the transcript
//! invariant, as printing a real key would.
//!
//! Where the files are: the host folder `.cdb_local/tls/` (the operator's `CDB_TLS_DIR`; in a
//! drill `$SANDBOX/.cdb_local/tls`), as upstream's `infrastructure/compose/tls.yml` mounts it
//! and `infrastructure/tls/generate_certs.sh` fills it: `ca.key`/`ca.crt`, `redis.key`/
//! `redis.crt` (CN and SAN `cdb_redis`), `postgres.key`/`postgres.crt` (`cdb_postgres`),
//! `client.key`/`client.crt` (`cdb-client`). Their world names are their file names.
//! `cdb_redis` loads `redis.*` and `ca.crt` (its `--tls-*-file` options, from the folder
//! mounted at `/tls`); `cdb_postgres` loads `postgres.*` and `ca.crt`, bind-mounted one by one
//! as `/var/lib/postgresql/server.{crt,key}` and `root.crt`; every client loads `ca.crt`,
//! `client.crt` and `client.key` from the folder at `/tls`. A link works when each side's CA
//! verifies the other's certificate and each side's key matches its certificate.
//!
//! The generator writes `ca.key` into the same folder, and tls.yml mounts the whole folder
//! into Redis and every client: the CA key is readable in each of those containers. The kit
//! keeps its CA key out of the folder, as `TLS_CA_KEY` in `$SECRETS_PATH` ([`CA_KEY`]).

use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// The files of the TLS folder (`.cdb_local/tls/`, upstream `generate_certs.sh`), in the
/// runbook's order. `ca.key` is there only where upstream's generator left it.
pub const FILES: &[&str] = &[
    "ca.key",
    "ca.crt",
    "redis.key",
    "redis.crt",
    "postgres.key",
    "postgres.crt",
    "client.key",
    "client.crt",
];

/// The kit's place for the CA key: `$SECRETS_PATH/TLS_CA_KEY`, never in the mounted folder.
pub const CA_KEY: &str = "TLS_CA_KEY";

/// The folder below the sandbox that plays `.cdb_local/tls/` (`CDB_TLS_DIR` of the steps).
pub const DIR: &str = ".cdb_local/tls";

/// The TLS servers.
pub const SERVERS: &[&str] = &["cdb_postgres", "cdb_redis"];

/// Whether a world name is a file of the TLS folder (not `$SECRETS_PATH`).
pub fn in_folder(name: &str) -> bool {
    FILES.contains(&name)
}

/// The certificate and key file a server loads (tls.yml: Redis `--tls-cert-file
/// /tls/redis.crt --tls-key-file /tls/redis.key`; PostgreSQL `postgres.crt`/`postgres.key`
/// mounted as `server.crt`/`server.key`).
pub fn server_files(server: &str) -> (&'static str, &'static str) {
    if server == "cdb_redis" {
        ("redis.crt", "redis.key")
    } else {
        ("postgres.crt", "postgres.key")
    }
}

/// The certificate files of the set that a container may load.
pub const CERTS: &[&str] = &["redis.crt", "postgres.crt", "client.crt"];

/// The TLS files a service reads when it is created.
pub fn reads(service: &str) -> &'static [&'static str] {
    match service {
        "cdb_redis" => &["ca.crt", "redis.crt", "redis.key"],
        "cdb_postgres" => &["ca.crt", "postgres.crt", "postgres.key"],
        "cdb_prometheus" | "cdb_cadvisor" => &[],
        _ if crate::world::project_of(service).is_none() => &[],
        _ => &["ca.crt", "client.crt", "client.key"],
    }
}

/// The files `cdb_postgres` mounts one by one (tls.yml): container path → folder file.
const POSTGRES_MOUNTS: &[(&str, &str)] = &[
    ("/var/lib/postgresql/server.crt", "postgres.crt"),
    ("/var/lib/postgresql/server.key", "postgres.key"),
    ("/var/lib/postgresql/root.crt", "ca.crt"),
];

/// Whether `service` mounts the whole folder at `/tls` (tls.yml: Redis and the clients) rather
/// than single files (PostgreSQL). A folder mount shows the host folder as it is now, a file
/// replaced by rename included; a single-file mount keeps the inode it was created with.
pub fn folder_mounted(service: &str) -> bool {
    service != "cdb_postgres"
}

/// The folder file that `path` is in `service`'s container under the overlay (None: not one).
pub fn container_file(service: &str, path: &str) -> Option<&'static str> {
    if folder_mounted(service) {
        let f = path.strip_prefix("/tls/")?;
        FILES.iter().copied().find(|x| *x == f)
    } else {
        POSTGRES_MOUNTS
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, f)| *f)
    }
}

/// Whether `path` is where the overlay mounts a TLS file in some container.
pub fn is_mount_path(path: &str) -> bool {
    path.strip_prefix("/tls/").is_some_and(in_folder)
        || POSTGRES_MOUNTS.iter().any(|(p, _)| *p == path)
}

/// The PEM label of a private key (spelled in two parts so this source never looks like one).
pub const PRIVATE_KEY: &str = concat!("PRIVATE", " KEY");

/// A private key in the registry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Key {
    /// `EC P-256`, `RSA 2048`, `ED25519`.
    pub alg: String,
}

/// A certificate in the registry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cert {
    /// As `openssl x509 -subject` shows it: `CN = cdb_server`.
    pub subject: String,
    pub issuer: String,
    /// The key id of its public key.
    pub key: String,
    /// The key id that signed it.
    pub signer: String,
    /// Upper-case hex.
    pub serial: String,
    /// Unix seconds.
    pub not_before: u64,
    pub not_after: u64,
    pub ca: bool,
    pub san: Vec<String>,
    pub eku: Vec<String>,
}

impl Cert {
    pub fn self_signed(&self) -> bool {
        self.signer == self.key && self.subject == self.issuer
    }
}

/// A certificate request (public: not registered, its record is the whole of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Csr {
    pub subject: String,
    pub key: String,
    pub san: Vec<String>,
    pub eku: Vec<String>,
}

/// The registry.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Tls {
    pub keys: BTreeMap<String, Key>,
    pub certs: BTreeMap<String, Cert>,
    pub next_key: u32,
    pub next_cert: u32,
}

/// One PEM block of a drill file, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Key(String),
    PubKey(String),
    Cert(String),
    Csr(Csr),
}

/// Why a chain does not verify: (OpenSSL error number, depth, text).
pub type VerifyError = (u32, u32, &'static str);

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|&b| b == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// A PEM block: `-----BEGIN LABEL-----`, the record in base64 wrapped at 64, `-----END LABEL-----`.
pub fn pem(label: &str, record: &str) -> String {
    let b = crate::mock::openssl::base64(record.as_bytes());
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(chunk));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn fields(record: &str) -> (String, BTreeMap<String, String>) {
    let mut lines = record.lines();
    let head = lines.next().unwrap_or("").to_owned();
    let map = lines
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (head, map)
}

fn list(v: Option<&String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Every drill PEM block in `text`, in order (anything else is ignored, as a real parser
/// skips text around PEM blocks; a block whose body is not a drill record is dropped).
pub fn parse(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut label: Option<String> = None;
    let mut body = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(l) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
        {
            label = Some(l.to_owned());
            body.clear();
        } else if let Some(l) = line
            .strip_prefix("-----END ")
            .and_then(|r| r.strip_suffix("-----"))
        {
            if label.as_deref() == Some(l)
                && let Some(rec) = b64_decode(&body).and_then(|b| String::from_utf8(b).ok())
            {
                let (head, f) = fields(&rec);
                let id = f.get("id").cloned().unwrap_or_default();
                let block = match (l, head.as_str()) {
                    (PRIVATE_KEY, "cdb-drill private key") => Some(Block::Key(id)),
                    ("PUBLIC KEY", "cdb-drill public key") => Some(Block::PubKey(id)),
                    ("CERTIFICATE", "cdb-drill certificate") => Some(Block::Cert(id)),
                    ("CERTIFICATE REQUEST", "cdb-drill certificate request") => {
                        Some(Block::Csr(Csr {
                            subject: f.get("subject").cloned().unwrap_or_default(),
                            key: f.get("key").cloned().unwrap_or_default(),
                            san: list(f.get("san")),
                            eku: list(f.get("eku")),
                        }))
                    }
                    _ => None,
                };
                out.extend(block);
            }
            label = None;
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    out
}

/// `Jan  1 09:00:00 2028 GMT`, as `openssl x509 -enddate` prints a time.
pub fn openssl_time(unix: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let (y, m, d) = crate::mock::util::civil(days);
    let rem = unix % 86_400;
    format!(
        "{} {d:>2} {:02}:{:02}:{:02} {y} GMT",
        MONTHS[(m as usize).saturating_sub(1) % 12],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A deterministic digest of `text` (`n` bytes), for fingerprints.
pub fn digest(text: &str, n: usize) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = Vec::with_capacity(n);
    let mut k = 0u64;
    while out.len() < n {
        k += 1;
        let mut z = h ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// `/CN=a/O=b` → `CN = a, O = b` (None when it is not a `/K=V/…` subject).
pub fn subject_of(subj: &str) -> Option<String> {
    let parts: Vec<&str> = subj
        .strip_prefix('/')?
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for p in parts {
        let (k, v) = p.split_once('=')?;
        if k.is_empty() {
            return None;
        }
        out.push(format!("{k} = {v}"));
    }
    Some(out.join(", "))
}

/// Whether a certificate may serve `purpose` (`serverAuth`, `clientAuth`): a certificate
/// without an extended key usage may serve any, as OpenSSL's purpose check decides.
pub fn purpose_ok(c: &Cert, purpose: &str) -> bool {
    c.eku.is_empty() || c.eku.iter().any(|e| e == purpose)
}

impl Tls {
    /// The certificate ids of the registered certificates in `text` (a file or a bundle).
    pub fn cert_ids(&self, text: &str) -> Vec<String> {
        parse(text)
            .into_iter()
            .filter_map(|b| match b {
                Block::Cert(id) if self.certs.contains_key(&id) => Some(id),
                _ => None,
            })
            .collect()
    }

    /// The first registered private key in `text`.
    pub fn key_id(&self, text: &str) -> Option<String> {
        parse(text).into_iter().find_map(|b| match b {
            Block::Key(id) if self.keys.contains_key(&id) => Some(id),
            _ => None,
        })
    }

    /// Whether certificate `id` verifies against the trust anchors `bundle` at `now`, as
    /// `openssl verify -CAfile` decides it (issuer by subject and signing key, CA flag, dates).
    pub fn verify(&self, id: &str, bundle: &[String], now: u64) -> Result<(), VerifyError> {
        let Some(c) = self.certs.get(id) else {
            return Err((20, 0, "unable to get local issuer certificate"));
        };
        let dates = |c: &Cert, depth: u32| -> Result<(), VerifyError> {
            if now < c.not_before {
                Err((9, depth, "certificate is not yet valid"))
            } else if now > c.not_after {
                Err((10, depth, "certificate has expired"))
            } else {
                Ok(())
            }
        };
        if c.self_signed() {
            if bundle.iter().any(|b| b == id) {
                return dates(c, 0);
            }
            return Err((18, 0, "self-signed certificate"));
        }
        let issuer = bundle
            .iter()
            .filter_map(|b| self.certs.get(b))
            .find(|ca| ca.subject == c.issuer && ca.key == c.signer);
        let Some(ca) = issuer else {
            return Err((20, 0, "unable to get local issuer certificate"));
        };
        if !ca.ca {
            return Err((79, 1, "invalid CA certificate"));
        }
        dates(c, 0)?;
        dates(ca, 1)
    }

    fn add_key(&mut self, alg: &str) -> String {
        self.next_key += 1;
        let id = format!("k{}", self.next_key);
        self.keys.insert(id.clone(), Key { alg: alg.into() });
        id
    }
}

impl World {
    /// Now on the simulated clock, in Unix seconds.
    pub fn now_unix(&self) -> u64 {
        crate::mock::util::EPOCH_START + self.clock
    }

    /// A new private key: registered, its PEM text remembered as a secret under `label`.
    pub fn tls_new_key(&mut self, alg: &str, label: &str) -> String {
        let id = self.tls.add_key(alg);
        let nonce = self.rand_hex(16);
        let text = pem(
            PRIVATE_KEY,
            &format!("cdb-drill private key\nid={id}\nalg={alg}\nnonce={nonce}\n"),
        );
        self.remember(label, &text);
        text
    }

    /// The public key of key `id`, as `openssl pkey -pubout` and `x509 -pubkey` print it.
    pub fn tls_pub_pem(&self, id: &str) -> String {
        let alg = self
            .tls
            .keys
            .get(id)
            .map(|k| k.alg.clone())
            .unwrap_or_default();
        pem(
            "PUBLIC KEY",
            &format!("cdb-drill public key\nid={id}\nalg={alg}\n"),
        )
    }

    /// Issues a certificate; returns its PEM text.
    pub fn tls_issue(&mut self, mut cert: Cert) -> String {
        self.tls.next_cert += 1;
        let id = format!("c{}", self.tls.next_cert);
        if cert.serial.is_empty() {
            cert.serial = self.rand_hex(16).to_uppercase();
        }
        let text = self.tls_cert_pem(&id, &cert);
        self.tls.certs.insert(id, cert);
        text
    }

    fn tls_cert_pem(&self, id: &str, c: &Cert) -> String {
        pem(
            "CERTIFICATE",
            &format!(
                "cdb-drill certificate\nid={id}\nsubject={}\nissuer={}\nkey={}\nsigner={}\nnotAfter={}\nca={}\n",
                c.subject,
                c.issuer,
                c.key,
                c.signer,
                openssl_time(c.not_after),
                c.ca
            ),
        )
    }

    /// The PEM text of registered certificate `id`.
    pub fn tls_cert_text(&self, id: &str) -> Option<String> {
        self.tls.certs.get(id).map(|c| self.tls_cert_pem(id, c))
    }

    /// A CSR's PEM text.
    pub fn tls_csr_pem(csr: &Csr) -> String {
        pem(
            "CERTIFICATE REQUEST",
            &format!(
                "cdb-drill certificate request\nsubject={}\nkey={}\nsan={}\neku={}\n",
                csr.subject,
                csr.key,
                csr.san.join(","),
                csr.eku.join(",")
            ),
        )
    }

    /// The TLS set the stack runs with when the drill starts, in the TLS folder as upstream's
    /// `infrastructure/tls/generate_certs.sh` writes it: a CA (`CN = CDB-CA`) and its key
    /// `ca.key` beside the certificates, one server certificate per server (`CN = cdb_redis`,
    /// SANs `cdb_redis`, `localhost`, `redis`; `CN = cdb_postgres`, SANs `cdb_postgres`,
    /// `localhost`, `postgres`), one client certificate (`CN = cdb-client`) shared by every
    /// service; no extended key usage (the script sets none). Dates: the CA issued 400 days ago
    /// for two years, the leaves 300 days ago for 397 days, so they expire in 97 days.
    pub fn tls_initial_set(&mut self) -> io::Result<()> {
        let now = self.now_unix();
        std::fs::create_dir_all(self.tls_dir())?;
        let ca_key = self.tls_new_key("EC P-256", "ca.key");
        let ca = self.tls.key_id(&ca_key).unwrap_or_default();
        let ca_subject = "CN = CDB-CA".to_owned();
        let ca_cert = self.tls_issue(Cert {
            subject: ca_subject.clone(),
            issuer: ca_subject.clone(),
            key: ca.clone(),
            signer: ca.clone(),
            serial: String::new(),
            not_before: now - 400 * 86_400,
            not_after: now - 400 * 86_400 + 730 * 86_400,
            ca: true,
            san: Vec::new(),
            eku: Vec::new(),
        });
        self.write_secret_file("ca.key", &ca_key)?;
        self.write_secret_file("ca.crt", &ca_cert)?;
        for (stem, cn, san) in [
            ("redis", "cdb_redis", "redis"),
            ("postgres", "cdb_postgres", "postgres"),
            ("client", "cdb-client", ""),
        ] {
            let key_file = format!("{stem}.key");
            let key_text = self.tls_new_key("EC P-256", &key_file);
            let key = self.tls.key_id(&key_text).unwrap_or_default();
            let sans = if san.is_empty() {
                Vec::new()
            } else {
                vec![
                    format!("DNS:{cn}"),
                    "DNS:localhost".to_owned(),
                    format!("DNS:{san}"),
                ]
            };
            let cert = self.tls_issue(Cert {
                subject: format!("CN = {cn}"),
                issuer: ca_subject.clone(),
                key,
                signer: ca.clone(),
                serial: String::new(),
                not_before: now - 300 * 86_400,
                not_after: now - 300 * 86_400 + 397 * 86_400,
                ca: false,
                san: sans,
                eku: Vec::new(),
            });
            self.write_secret_file(&key_file, &key_text)?;
            self.write_secret_file(&format!("{stem}.crt"), &cert)?;
        }
        Ok(())
    }

    fn tls_read(&self, service: &str, name: &str) -> String {
        self.containers
            .get(service)
            .and_then(|c| c.read.get(name).cloned())
            .unwrap_or_default()
    }

    /// Why a server cannot serve TLS with what it loaded (None: it can).
    pub fn tls_server_problem(&self, server: &str) -> Option<String> {
        let (cert_file, key_file) = server_files(server);
        let cert = self
            .tls
            .cert_ids(&self.tls_read(server, cert_file))
            .into_iter()
            .next();
        let Some(cert) = cert.and_then(|id| self.tls.certs.get(&id)) else {
            return Some("its TLS server certificate cannot be loaded".into());
        };
        let Some(key) = self.tls.key_id(&self.tls_read(server, key_file)) else {
            return Some("its TLS server key cannot be loaded".into());
        };
        if cert.key != key {
            return Some("its TLS server key does not match its certificate".into());
        }
        if self.now_unix() > cert.not_after {
            return Some("its TLS server certificate has expired".into());
        }
        None
    }

    /// Whether `client` can open a TLS connection to `server` with what both loaded.
    pub fn tls_link(&self, client: &str, server: &str) -> Result<(), String> {
        if !self.containers.contains_key(client) || !self.containers.contains_key(server) {
            return Err(format!("no TLS link from {client} to {server}"));
        }
        // Which side runs with the TLS overlay (overlays.rs). The kit's `tls.yml`
        // (stack/compose/tls.yml) runs Redis with `--port 0 --tls-port 6379`: TLS only, so a
        // plain client's connection is reset. PostgreSQL with `ssl=on` still accepts plain
        // clients (the official image's pg_hba.conf `host all all all scram-sha-256` matches
        // SSL and non-SSL connections), so a client that lost the overlay connects in plain
        // text. A client with `REDIS_TLS=true` / `POSTGRES_SSLMODE=verify-ca` fails against a
        // server without TLS (libpq: "server does not support SSL, but SSL was required").
        match (self.tls_on(client), self.tls_on(server)) {
            (false, false) => return Ok(()),
            (false, true) if server == "cdb_redis" => {
                return Err(
                    "cdb_redis accepts TLS only (tls.yml) and it connects without TLS".into(),
                );
            }
            (false, true) => return Ok(()),
            (true, false) => {
                return Err(format!(
                    "its TLS connection to {server} fails: the server runs without TLS"
                ));
            }
            (true, true) => {}
        }
        if self.tls_server_problem(server).is_some() {
            return Err(format!(
                "its TLS connection to {server} fails: the server has no valid certificate and key"
            ));
        }
        let now = self.now_unix();
        let server_cert = self
            .tls
            .cert_ids(&self.tls_read(server, server_files(server).0))
            .remove(0);
        let client_ca = self.tls.cert_ids(&self.tls_read(client, "ca.crt"));
        if client_ca.is_empty() {
            return Err("it has no TLS CA certificate".into());
        }
        if let Err((_, _, why)) = self.tls.verify(&server_cert, &client_ca, now) {
            return Err(format!(
                "its TLS CA does not verify {server}'s certificate ({why})"
            ));
        }
        if !self
            .tls
            .certs
            .get(&server_cert)
            .is_some_and(|c| purpose_ok(c, "serverAuth"))
        {
            return Err(format!(
                "{server}'s certificate is not for a server (unsupported certificate purpose)"
            ));
        }
        let cert = self
            .tls
            .cert_ids(&self.tls_read(client, "client.crt"))
            .into_iter()
            .next();
        let Some(cert) = cert else {
            return Err("it has no TLS client certificate".into());
        };
        let key = self.tls.key_id(&self.tls_read(client, "client.key"));
        if key.as_deref() != self.tls.certs.get(&cert).map(|c| c.key.as_str()) {
            return Err("its TLS client key does not match its certificate".into());
        }
        let server_ca = self.tls.cert_ids(&self.tls_read(server, "ca.crt"));
        if let Err((_, _, why)) = self.tls.verify(&cert, &server_ca, now) {
            return Err(format!(
                "{server} rejects its TLS client certificate ({why})"
            ));
        }
        if !self
            .tls
            .certs
            .get(&cert)
            .is_some_and(|c| purpose_ok(c, "clientAuth"))
        {
            return Err(format!(
                "{server} rejects its TLS client certificate (unsupported certificate purpose)"
            ));
        }
        Ok(())
    }

    /// The TLS reasons a service is unhealthy: a server that cannot serve, a client whose
    /// link to a running server it uses fails.
    pub fn tls_problems(&self, service: &str) -> Vec<String> {
        if SERVERS.contains(&service) {
            if !self.tls_on(service) {
                return Vec::new();
            }
            return self.tls_server_problem(service).into_iter().collect();
        }
        if reads(service).is_empty() {
            return Vec::new();
        }
        let needs = crate::world::reads(service);
        let mut p = Vec::new();
        for (server, secret) in [
            ("cdb_postgres", "POSTGRES_PASSWORD"),
            ("cdb_redis", "REDIS_PASSWORD"),
        ] {
            if needs.contains(&secret)
                && self.running(server)
                && let Err(e) = self.tls_link(service, server)
                && !p.contains(&e)
            {
                p.push(e);
            }
        }
        p
    }

    /// Where a leaked private key (its file's text) is still valid: certificates of it in use,
    /// CAs of it trusted, certificates of it that still verify under a CA someone trusts.
    pub fn tls_accepted_by(&self, value: &str) -> Vec<String> {
        let Some(k) = self.tls.key_id(value) else {
            return Vec::new();
        };
        let now = self.now_unix();
        let mut used = BTreeSet::new();
        let mut trusted = BTreeSet::new();
        let mut chains = BTreeSet::new();
        for (name, c) in &self.containers {
            let get = |n: &str| c.read.get(n).cloned().unwrap_or_default();
            for f in CERTS {
                for id in self.tls.cert_ids(&get(f)) {
                    if self.tls.certs.get(&id).is_some_and(|x| x.key == k) {
                        used.insert(name.clone());
                    }
                }
            }
            let bundle = self.tls.cert_ids(&get("ca.crt"));
            if bundle
                .iter()
                .any(|id| self.tls.certs.get(id).is_some_and(|x| x.key == k))
            {
                trusted.insert(name.clone());
            }
            if self
                .tls
                .certs
                .iter()
                .any(|(id, x)| x.key == k && !x.ca && self.tls.verify(id, &bundle, now).is_ok())
            {
                chains.insert(name.clone());
            }
        }
        let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(" ");
        let mut at = Vec::new();
        if !used.is_empty() {
            at.push(format!("the TLS certificate loaded by {}", join(&used)));
        }
        if !trusted.is_empty() {
            at.push(format!("the TLS CA trusted by {}", join(&trusted)));
        }
        if !chains.is_empty() {
            at.push(format!(
                "a certificate of the key that the CA trusted by {} still verifies",
                join(&chains)
            ));
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The world's mounts are the kit's tls.yml (stack/compose/tls.yml, mirroring upstream):
    /// every bind mount of `.cdb_local/tls` there is a folder at `/tls` (a service that
    /// [`folder_mounted`]) or one file whose container path [`container_file`] maps back to it.
    /// A test, so the table cannot drift from the Compose file.
    #[test]
    fn the_mounts_are_the_kit_tls_overlay() {
        let text = include_str!("../../../stack/compose/tls.yml");
        let file = cdb_stack::parse_file("stack/compose/tls.yml", text).expect("tls.yml parses");
        let mut seen = 0;
        for svc in &file.services {
            let name = svc.name.value.as_str();
            for m in &svc.volumes {
                let cdb_stack::MountKind::Bind(src) = &m.value.kind else {
                    continue;
                };
                let Some(rest) = src.split(".cdb_local/tls").nth(1) else {
                    continue;
                };
                seen += 1;
                match rest.strip_prefix('/') {
                    None => {
                        assert_eq!(m.value.target, "/tls", "{name}");
                        assert!(folder_mounted(name), "{name} mounts the folder");
                        for f in reads(name) {
                            assert_eq!(container_file(name, &format!("/tls/{f}")), Some(*f));
                        }
                    }
                    Some(f) => {
                        assert!(!folder_mounted(name), "{name} mounts single files");
                        assert_eq!(container_file(name, &m.value.target), Some(f), "{name}");
                        assert!(reads(name).contains(&f), "{name} loads {f}");
                    }
                }
            }
        }
        // Redis and five clients mount the folder, PostgreSQL three files.
        assert_eq!(seen, 9);
        assert_eq!(reads("cdb_redis"), ["ca.crt", "redis.crt", "redis.key"]);
        assert_eq!(
            reads("cdb_postgres"),
            ["ca.crt", "postgres.crt", "postgres.key"]
        );
        assert_eq!(reads("cdb_risk"), ["ca.crt", "client.crt", "client.key"]);
    }

    /// Per-server certificates: Redis loads redis.*, PostgreSQL postgres.*. A PostgreSQL
    /// certificate swapped for Redis' takes PostgreSQL down at its next start (key and
    /// certificate no longer match) and leaves Redis as it is. On the old layout (one
    /// `TLS_SERVER_CERT` for both) the two could not differ.
    #[test]
    fn each_server_loads_its_own_certificate() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut w = World::new_with(7, d.path(), &d.path().join("s"), &["tls.yml".to_owned()])
            .expect("world");
        assert!(w.tls_dir().join("postgres.crt").is_file());
        assert!(!d.path().join("s/TLS_SERVER_CERT").exists());
        let redis_cert = std::fs::read_to_string(w.tls_dir().join("redis.crt")).expect("redis.crt");
        let c = w.containers["cdb_redis"].read["redis.crt"].clone();
        assert_eq!(c, redis_cert.trim());
        assert!(!w.containers["cdb_postgres"].read.contains_key("redis.crt"));
        w.write_secret_file("postgres.crt", &redis_cert)
            .expect("write");
        let files = w.files_of("cdb_redis");
        w.create_from("cdb_redis", files);
        assert_eq!(w.inspect_health("cdb_redis"), crate::world::Health::Healthy);
        let files = w.files_of("cdb_postgres");
        w.create_from("cdb_postgres", files);
        assert_eq!(
            w.inspect_health("cdb_postgres"),
            crate::world::Health::Unhealthy
        );
        assert_eq!(
            w.tls_server_problem("cdb_postgres").as_deref(),
            Some("its TLS server key does not match its certificate")
        );
    }

    #[test]
    fn pem_round_trip_and_subjects() {
        let t = pem("CERTIFICATE", "cdb-drill certificate\nid=c9\n");
        assert!(t.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(parse(&t), vec![Block::Cert("c9".into())]);
        assert_eq!(parse("junk"), vec![]);
        assert_eq!(
            subject_of("/CN=a/O=b c").as_deref(),
            Some("CN = a, O = b c")
        );
        assert_eq!(subject_of("CN=a"), None);
        assert_eq!(openssl_time(1_830_330_000), "Jan  1 09:00:00 2028 GMT");
    }
}
