//! Real keys and certificates for the drill world's TLS registry, so the TLS steps run with the
//! real `openssl` (and real TLS servers) from the same starting state as in the mock.
//!
//! The world's PEM files are records naming registry entries (cdb_drill::tls): a key id, or a
//! certificate id with its subject, issuer, public key, signing key, serial, validity, CA flag,
//! SANs and extended key usages. [`Materialiser`] gives each key id a real key of its algorithm
//! and each certificate id a real certificate with those attributes, issued with the real
//! `openssl` by the real key of its signer; [`Materialiser::rewrite_dir`] then replaces every
//! drill PEM block of a sandbox's files by its real counterpart, block for block. What a
//! certificate cannot carry over (normalise.rs says each):
//! - its dates: OpenSSL 3.0's `x509 -days` starts a certificate now, so a certificate valid
//!   from the world's now for D seconds becomes one valid from the real now for D rounded up
//!   to whole days; one that is expired or not yet valid on the world's clock cannot be made
//!   and the case is not run (`Unsupported`);
//! - its serial is the registry's, its signature and key material are new.

use cdb_drill::tls::{Block, Cert};
use cdb_drill::world::World;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a world's TLS files cannot be made real.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The lab cannot make this (a date out of reach): the case is left out, by name.
    #[error("not reproducible in the lab: {0}")]
    Unsupported(String),
    /// `openssl` failed.
    #[error("openssl: {0}")]
    Openssl(String),
}

/// The minimal `openssl req` config: no default extensions, so a certificate has exactly the
/// registry's (`-addext`).
const REQ_CONF: &str = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n";

/// Makes the real keys and certificates of one world, in a work dir.
#[derive(Debug)]
pub struct Materialiser<'w> {
    world: &'w World,
    openssl: PathBuf,
    work: PathBuf,
    keys: BTreeMap<String, PathBuf>,
    certs: BTreeMap<String, PathBuf>,
}

impl<'w> Materialiser<'w> {
    /// `work` must be a private, writable dir (keys are written there, mode 0600 by umask).
    pub fn new(world: &'w World, openssl: &Path, work: &Path) -> Result<Self, CertError> {
        std::fs::create_dir_all(work).map_err(|e| CertError::Openssl(e.to_string()))?;
        std::fs::write(work.join("req.cnf"), REQ_CONF)
            .map_err(|e| CertError::Openssl(e.to_string()))?;
        Ok(Materialiser {
            world,
            openssl: openssl.to_path_buf(),
            work: work.to_path_buf(),
            keys: BTreeMap::new(),
            certs: BTreeMap::new(),
        })
    }

    fn run(&self, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, CertError> {
        let mut child = Command::new(&self.openssl)
            .args(args)
            .current_dir(&self.work)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| CertError::Openssl(e.to_string()))?;
        if let (Some(mut s), Some(i)) = (child.stdin.take(), input) {
            use std::io::Write;
            // An openssl that exits without reading all its input fails, and says so below.
            let _ = s.write_all(i);
        }
        let out = child
            .wait_with_output()
            .map_err(|e| CertError::Openssl(e.to_string()))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(CertError::Openssl(format!(
                "{}: {}",
                args.first().copied().unwrap_or(""),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// The real key of registry key `id` (made on first use).
    pub fn key(&mut self, id: &str) -> Result<PathBuf, CertError> {
        if let Some(p) = self.keys.get(id) {
            return Ok(p.clone());
        }
        let alg = self
            .world
            .tls
            .keys
            .get(id)
            .map_or("EC P-256", |k| k.alg.as_str());
        let path = self.work.join(format!("{id}.key"));
        let p = path.to_string_lossy().into_owned();
        let args: Vec<&str> = match alg {
            a if a.starts_with("RSA") => vec![
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &p,
            ],
            "ED25519" => vec!["genpkey", "-algorithm", "ED25519", "-out", &p],
            _ => vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &p,
            ],
        };
        self.run(&args, None)?;
        self.keys.insert(id.to_owned(), path.clone());
        Ok(path)
    }

    /// The real certificate of registry certificate `id` (made on first use, its issuer first).
    pub fn cert(&mut self, id: &str) -> Result<PathBuf, CertError> {
        if let Some(p) = self.certs.get(id) {
            return Ok(p.clone());
        }
        let Some(c) = self.world.tls.certs.get(id).cloned() else {
            return Err(CertError::Unsupported(format!(
                "certificate {id} is not in the registry"
            )));
        };
        let now = self.world.now_unix();
        if c.not_after <= now || c.not_before > now + 60 {
            return Err(CertError::Unsupported(format!(
                "certificate {id} ({}) is not valid at the world's now; OpenSSL 3.0 starts a certificate at the real now",
                c.subject
            )));
        }
        let days = (c.not_after - now).div_ceil(86_400).max(1).to_string();
        let key = self.key(&c.key)?;
        let path = self.work.join(format!("{id}.crt"));
        let subj = subject_arg(&c.subject);
        let mut ext: Vec<String> = Vec::new();
        if c.ca {
            ext.push("basicConstraints=critical,CA:TRUE".into());
            ext.push("keyUsage=critical,keyCertSign,cRLSign".into());
        }
        if !c.san.is_empty() {
            ext.push(format!("subjectAltName={}", c.san.join(",")));
        }
        if !c.eku.is_empty() {
            ext.push(format!("extendedKeyUsage={}", c.eku.join(",")));
        }
        let serial = format!("0x{}", c.serial);
        let (k, o, conf) = (
            key.to_string_lossy().into_owned(),
            path.to_string_lossy().into_owned(),
            self.work.join("req.cnf").to_string_lossy().into_owned(),
        );
        if c.self_signed() {
            let mut args: Vec<&str> = vec![
                "req",
                "-x509",
                "-new",
                "-config",
                &conf,
                "-key",
                &k,
                "-subj",
                &subj,
                "-sha256",
                "-days",
                &days,
                "-set_serial",
                &serial,
                "-out",
                &o,
            ];
            for e in &ext {
                args.extend(["-addext", e.as_str()]);
            }
            self.run(&args, None)?;
        } else {
            let (ca_cert, ca_key) = self.issuer(&c)?;
            let mut req: Vec<&str> =
                vec!["req", "-new", "-config", &conf, "-key", &k, "-subj", &subj];
            for e in &ext {
                req.extend(["-addext", e.as_str()]);
            }
            let csr = self.run(&req, None)?;
            let (ca_c, ca_k) = (
                ca_cert.to_string_lossy().into_owned(),
                ca_key.to_string_lossy().into_owned(),
            );
            self.run(
                &[
                    "x509",
                    "-req",
                    "-CA",
                    &ca_c,
                    "-CAkey",
                    &ca_k,
                    "-days",
                    &days,
                    "-sha256",
                    "-set_serial",
                    &serial,
                    "-copy_extensions",
                    "copyall",
                    "-out",
                    &o,
                ],
                Some(&csr),
            )?;
        }
        self.certs.insert(id.to_owned(), path.clone());
        Ok(path)
    }

    /// The certificate and key that sign `c`: the registry's certificate of that subject and
    /// signing key, else one made for the signing only (the signer's own certificate is not in
    /// any file, only its key: the signature and issuer name are what count).
    fn issuer(&mut self, c: &Cert) -> Result<(PathBuf, PathBuf), CertError> {
        let found = self
            .world
            .tls
            .certs
            .iter()
            .find(|(_, x)| x.subject == c.issuer && x.key == c.signer)
            .map(|(id, _)| id.clone());
        let key = self.key(&c.signer)?;
        if let Some(id) = found {
            return Ok((self.cert(&id)?, key));
        }
        let path = self.work.join(format!("issuer-{}.crt", c.signer));
        let (k, o, conf, subj) = (
            key.to_string_lossy().into_owned(),
            path.to_string_lossy().into_owned(),
            self.work.join("req.cnf").to_string_lossy().into_owned(),
            subject_arg(&c.issuer),
        );
        self.run(
            &[
                "req",
                "-x509",
                "-new",
                "-config",
                &conf,
                "-key",
                &k,
                "-subj",
                &subj,
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-out",
                &o,
            ],
            None,
        )?;
        Ok((path, key))
    }

    /// `text` with every drill PEM block replaced by its real counterpart (`None`: no drill
    /// block in it, leave the file as it is).
    pub fn rewrite(&mut self, text: &str) -> Result<Option<String>, CertError> {
        let blocks = cdb_drill::tls::parse(text);
        if blocks.is_empty() {
            return Ok(None);
        }
        let mut out = String::new();
        for b in blocks {
            let real = match b {
                Block::Key(id) => read(&self.key(&id)?)?,
                Block::Cert(id) => read(&self.cert(&id)?)?,
                Block::PubKey(id) => {
                    let k = self.key(&id)?.to_string_lossy().into_owned();
                    String::from_utf8_lossy(&self.run(&["pkey", "-in", &k, "-pubout"], None)?)
                        .into_owned()
                }
                Block::Csr(_) => {
                    return Err(CertError::Unsupported(
                        "a certificate request in a file".into(),
                    ));
                }
            };
            out.push_str(&real);
        }
        Ok(Some(out))
    }

    /// Rewrites every regular file under `dir` (not following links) that holds drill PEM
    /// blocks, keeping its mode; returns how many it rewrote.
    pub fn rewrite_dir(&mut self, dir: &Path) -> Result<usize, CertError> {
        let mut n = 0;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(0);
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let Ok(t) = e.file_type() else { continue };
            let p = e.path();
            if t.is_dir() {
                n += self.rewrite_dir(&p)?;
            } else if t.is_file()
                && let Ok(text) = std::fs::read_to_string(&p)
                && let Some(real) = self.rewrite(&text)?
            {
                // In place (same inode): the world's mounts keep seeing the file.
                std::fs::write(&p, real).map_err(|e| CertError::Openssl(e.to_string()))?;
                n += 1;
            }
        }
        Ok(n)
    }
}

fn read(p: &Path) -> Result<String, CertError> {
    std::fs::read_to_string(p).map_err(|e| CertError::Openssl(format!("{}: {e}", p.display())))
}

/// `CN = a, O = b` (as the registry and `openssl x509 -subject` show it) → `/CN=a/O=b`.
pub fn subject_arg(subject: &str) -> String {
    subject
        .split(", ")
        .filter_map(|p| p.split_once(" = "))
        .map(|(k, v)| format!("/{k}={v}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_become_openssl_arguments() {
        assert_eq!(subject_arg("CN = cdb_redis"), "/CN=cdb_redis");
        assert_eq!(subject_arg("CN = a, O = b"), "/CN=a/O=b");
    }
}
