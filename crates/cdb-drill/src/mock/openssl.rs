//! Mock `openssl`: `rand` (values seeded from the drill seed and a per-world counter,
//! remembered as secrets so the transcript checks can find them) and the TLS forms the
//! runbook's TLS section uses: `genpkey`, `pkey`, `req`, `x509`, `verify`, `version`. Keys and
//! certificates live in the world's registry (`crate::tls`); the files are PEM-shaped but
//! obviously fake. Exit codes and output formats follow OpenSSL 3.0 where a step depends on
//! them (`verify`: `FILE: OK`, or `error 20 at 0 depth lookup: …` and exit 2; `x509 -checkend`:
//! exit 1 when the certificate will expire).

use super::Ctx;
use crate::tls::{self, Block, Cert, Csr};
use crate::world::World;
use cdb_model::faults::FaultKind;
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
    let Some((sub, rest)) = args.split_first() else {
        ctx.errln("openssl: the drill models `rand`, `genpkey`, `pkey`, `req`, `x509`, `verify` and `version`");
        return 1;
    };
    match sub.as_str() {
        "rand" => rand(w, rest, ctx),
        "genpkey" => genpkey(w, rest, ctx),
        "pkey" => pkey(w, rest, ctx),
        "req" => req(w, rest, ctx),
        "x509" => x509(w, rest, ctx),
        "verify" => verify(w, rest, ctx),
        "version" => {
            ctx.outln("OpenSSL 3.0.13 30 Jan 2024 (Library: OpenSSL 3.0.13 30 Jan 2024)");
            0
        }
        other => {
            ctx.errln(&format!(
                "Invalid command '{other}'; type \"help\" for a list."
            ));
            1
        }
    }
}

fn unknown(ctx: &mut Ctx, cmd: &str, opt: &str) -> i32 {
    ctx.errln(&format!("{cmd}: Unknown option: {opt}"));
    ctx.errln(&format!("{cmd}: Use -help for summary."));
    1
}

/// The text of `-in FILE`, or stdin (`None`: the file cannot be read).
fn input(ctx: &Ctx, file: Option<&String>) -> Option<String> {
    match file {
        Some(f) if f != "-" => ctx.read_text(f).ok(),
        _ => Some(ctx.stdin.clone()),
    }
}

/// Writes `text` to `-out FILE`, or stdout.
fn output(ctx: &mut Ctx, cmd: &str, out: Option<&String>, text: &str) -> i32 {
    match out {
        Some(f) if f != "-" => {
            if ctx.write_file(f, text.as_bytes()).is_err() {
                ctx.errln(&format!("{cmd}: Can't open \"{f}\" for writing"));
                return 1;
            }
            0
        }
        _ => {
            ctx.out(text);
            0
        }
    }
}

/// The value of an option that takes one (`-days 30`); missing → `None`.
fn value(args: &[String], i: &mut usize) -> Option<String> {
    *i += 1;
    args.get(*i).cloned()
}

/// Steps over an option's value the mock does not use (formats are PEM only, paths it never
/// reads), as `value` would without keeping it.
fn skip_value(i: &mut usize) {
    *i += 1;
}

fn rand(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut hex = false;
    let mut b64 = false;
    let mut out_file = None;
    let mut n = None;
    let mut i = 0;
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
            if ctx.write_file(&f, format!("{text}\n").as_bytes()).is_err() {
                ctx.errln(&format!("rand: Can't open \"{f}\" for writing"));
                return 1;
            }
        }
        None => ctx.outln(&text),
    }
    0
}

/// `genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 [-out FILE]` (also RSA, ED25519).
fn genpkey(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut alg = None;
    let mut opts = Vec::new();
    let mut out = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-algorithm" => alg = value(args, &mut i),
            "-pkeyopt" => opts.extend(value(args, &mut i)),
            "-out" => out = value(args, &mut i),
            "-outform" => {
                skip_value(&mut i);
            }
            "-quiet" => {}
            o => return unknown(ctx, "genpkey", o),
        }
        i += 1;
    }
    let opt = |k: &str| {
        opts.iter()
            .find_map(|o| o.strip_prefix(&format!("{k}:")).map(str::to_owned))
    };
    let alg = match alg.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("EC") => {
            match opt("ec_paramgen_curve") {
                Some(c) if matches!(c.as_str(), "P-256" | "prime256v1" | "P-384" | "secp384r1") => {
                    format!("EC {c}")
                }
                Some(c) => {
                    ctx.errln(&format!(
                        "genpkey: Error setting ec_paramgen_curve:{c} parameter"
                    ));
                    return 1;
                }
                None => {
                    ctx.errln("genpkey: Error generating EC key: no curve (-pkeyopt ec_paramgen_curve:P-256)");
                    return 1;
                }
            }
        }
        Some("RSA") => format!(
            "RSA {}",
            opt("rsa_keygen_bits").unwrap_or_else(|| "2048".into())
        ),
        Some("ED25519") => "ED25519".into(),
        Some(a) => {
            ctx.errln(&format!("genpkey: Algorithm {a} not found"));
            return 1;
        }
        None => {
            ctx.errln("genpkey: Either the -algorithm or -paramfile option must be given");
            return 1;
        }
    };
    let text = w.tls_new_key(&alg, "a TLS private key (openssl genpkey)");
    // Without -out the real tool writes the key to stdout: a step that lets it reach the
    // terminal prints key material, and the drill's transcript check says so.
    output(ctx, "genpkey", out.as_ref(), &text)
}

/// `pkey -in KEY -pubout [-out FILE]`, `pkey -in KEY -noout`, `pkey -pubin -in PUB -pubout`.
fn pkey(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut inp = None;
    let mut out = None;
    let mut pubout = false;
    let mut pubin = false;
    let mut noout = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-in" => inp = value(args, &mut i),
            "-out" => out = value(args, &mut i),
            "-pubout" => pubout = true,
            "-pubin" => pubin = true,
            "-noout" => noout = true,
            "-inform" | "-outform" => {
                skip_value(&mut i);
            }
            o => return unknown(ctx, "pkey", o),
        }
        i += 1;
    }
    let name = inp.clone().unwrap_or_else(|| "<stdin>".into());
    let text = input(ctx, inp.as_ref()).unwrap_or_default();
    let id = tls::parse(&text).into_iter().find_map(|b| match b {
        Block::Key(id) if !pubin && w.tls.keys.contains_key(&id) => Some(id),
        Block::PubKey(id) if pubin && w.tls.keys.contains_key(&id) => Some(id),
        _ => None,
    });
    let Some(id) = id else {
        ctx.errln(&format!("Could not read key from {name}"));
        ctx.errln("pkey: Unable to load key");
        return 1;
    };
    if noout {
        return 0;
    }
    if pubout || pubin {
        let pem = w.tls_pub_pem(&id);
        return output(ctx, "pkey", out.as_ref(), &pem);
    }
    // The private key itself, as the real tool writes it.
    output(ctx, "pkey", out.as_ref(), &text_of_key(&text))
}

/// The first private-key block of a file, re-emitted.
fn text_of_key(text: &str) -> String {
    let begin = format!("-----BEGIN {}-----", tls::PRIVATE_KEY);
    let end = format!("-----END {}-----", tls::PRIVATE_KEY);
    match (text.find(&begin), text.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}\n", &text[a..b + end.len()]),
        _ => String::new(),
    }
}

/// Extensions given with `-addext` (`subjectAltName=`, `extendedKeyUsage=`, `basicConstraints=`).
#[derive(Default)]
struct Exts {
    san: Vec<String>,
    eku: Vec<String>,
    ca: Option<bool>,
}

impl Exts {
    fn add(&mut self, ext: &str) -> bool {
        let Some((k, v)) = ext.split_once('=') else {
            return false;
        };
        let items = || {
            v.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty() && *x != "critical")
                .map(str::to_owned)
        };
        match k.trim() {
            "subjectAltName" => self.san.extend(items()),
            "extendedKeyUsage" => self.eku.extend(items()),
            "basicConstraints" => self.ca = Some(v.contains("CA:TRUE") || v.contains("CA:true")),
            _ => {}
        }
        true
    }
}

fn days_arg(ctx: &mut Ctx, cmd: &str, d: Option<String>) -> Option<u64> {
    match d.as_deref().map(str::parse::<u64>) {
        None => Some(30),
        Some(Ok(n)) if n > 0 => Some(n),
        _ => {
            ctx.errln(&format!(
                "{cmd}: Invalid number of days: {}",
                d.unwrap_or_default()
            ));
            None
        }
    }
}

/// `req -new -key KEY -subj /CN=… [-addext …]… [-out CSR]` and
/// `req -x509 -new -key KEY -subj … -days N [-addext …]… -out CERT` (self-signed).
fn req(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut x509 = false;
    let mut key = None;
    let mut subj = None;
    let mut out = None;
    let mut days = None;
    let mut exts = Exts::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-new" | "-nodes" | "-noenc" | "-batch" | "-utf8" => {}
            "-x509" => x509 = true,
            "-key" => key = value(args, &mut i),
            "-subj" => subj = value(args, &mut i),
            "-out" => out = value(args, &mut i),
            "-days" => days = value(args, &mut i),
            "-addext" => {
                let e = value(args, &mut i).unwrap_or_default();
                if !exts.add(&e) {
                    ctx.errln(&format!("req: Error adding extension \"{e}\""));
                    return 1;
                }
            }
            "-config" | "-extensions" | "-reqexts" | "-keyform" | "-outform" => {
                skip_value(&mut i);
            }
            "-newkey" | "-keyout" | "-in" => {
                ctx.errln(&format!(
                    "req: `{a}` is not modelled by the drill world (generate the key with genpkey, then `req -new -key`)"
                ));
                return 1;
            }
            o if o.starts_with("-sha") => {}
            o => return unknown(ctx, "req", o),
        }
        i += 1;
    }
    let Some(keyfile) = key else {
        ctx.errln("req: the drill models `req -new -key FILE` only (no -key given)");
        return 1;
    };
    let Some(kid) = input(ctx, Some(&keyfile)).and_then(|t| w.tls.key_id(&t)) else {
        ctx.errln(&format!("Could not read private key from {keyfile}"));
        ctx.errln("req: Unable to load private key");
        return 1;
    };
    let Some(subj) = subj else {
        ctx.errln(
            "req: no -subj: openssl would prompt for the subject, and a drill step has no terminal",
        );
        return 1;
    };
    let Some(subject) = tls::subject_of(&subj) else {
        ctx.errln(&format!(
            "req: Error parsing subject \"{subj}\" (expected /type0=value0/type1=value1…)"
        ));
        return 1;
    };
    if x509 {
        let Some(days) = days_arg(ctx, "req", days) else {
            return 1;
        };
        let now = w.now_unix();
        let pem = w.tls_issue(Cert {
            subject: subject.clone(),
            issuer: subject,
            key: kid.clone(),
            signer: kid,
            serial: String::new(),
            not_before: now,
            not_after: now + days * 86_400,
            // OpenSSL 3's default config marks a `req -x509` certificate CA:TRUE.
            ca: exts.ca.unwrap_or(true),
            san: exts.san,
            eku: exts.eku,
        });
        return output(ctx, "req", out.as_ref(), &pem);
    }
    let pem = World::tls_csr_pem(&Csr {
        subject,
        key: kid,
        san: exts.san,
        eku: exts.eku,
    });
    output(ctx, "req", out.as_ref(), &pem)
}

/// What `x509` prints, in the order the options were given.
enum Print {
    Pubkey,
    Subject,
    Issuer,
    Serial,
    StartDate,
    EndDate,
    Dates,
    Fingerprint,
    Text,
}

/// `x509 [-in CERT] -noout -pubkey|-subject|-issuer|-serial|-startdate|-enddate|-dates|
/// -fingerprint [-sha256]|-text|-checkend N`, and
/// `x509 -req [-in CSR] -CA CACERT -CAkey CAKEY [-days N] [-set_serial S] [-copy_extensions copy] -out CERT`.
#[allow(clippy::too_many_lines)]
fn x509(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut inp = None;
    let mut out = None;
    let mut is_req = false;
    let mut ca = None;
    let mut ca_key = None;
    let mut sign_key = None;
    let mut days = None;
    let mut serial = None;
    let mut copy_ext = false;
    let mut noout = false;
    let mut checkend: Option<u64> = None;
    let mut digest = "SHA1";
    let mut prints = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-in" => inp = value(args, &mut i),
            "-out" => out = value(args, &mut i),
            "-req" => is_req = true,
            "-CA" => ca = value(args, &mut i),
            "-CAkey" => ca_key = value(args, &mut i),
            "-signkey" | "-key" => sign_key = value(args, &mut i),
            "-days" => days = value(args, &mut i),
            "-set_serial" => serial = value(args, &mut i),
            "-copy_extensions" => {
                copy_ext = value(args, &mut i).is_some_and(|v| v == "copy" || v == "copyall");
            }
            "-CAserial" | "-extfile" | "-extensions" | "-nameopt" | "-inform" | "-outform"
            | "-CAform" | "-CAkeyform" => {
                skip_value(&mut i);
            }
            "-CAcreateserial" => {}
            "-noout" => noout = true,
            "-pubkey" => prints.push(Print::Pubkey),
            "-subject" => prints.push(Print::Subject),
            "-issuer" => prints.push(Print::Issuer),
            "-serial" => prints.push(Print::Serial),
            "-startdate" => prints.push(Print::StartDate),
            "-enddate" => prints.push(Print::EndDate),
            "-dates" => prints.push(Print::Dates),
            "-fingerprint" => prints.push(Print::Fingerprint),
            "-text" => prints.push(Print::Text),
            "-checkend" => match value(args, &mut i).map(|v| v.parse::<u64>()) {
                Some(Ok(n)) => checkend = Some(n),
                _ => {
                    ctx.errln("x509: Invalid number for -checkend");
                    return 1;
                }
            },
            "-sha1" => digest = "SHA1",
            "-sha256" => digest = "SHA256",
            "-sha384" => digest = "SHA384",
            "-sha512" => digest = "SHA512",
            o => return unknown(ctx, "x509", o),
        }
        i += 1;
    }
    let name = inp.clone().unwrap_or_else(|| "<stdin>".into());
    let text = input(ctx, inp.as_ref());
    let now = w.now_unix();
    let id = if is_req {
        let csr = text.as_deref().map(tls::parse).and_then(|b| {
            b.into_iter().find_map(|b| match b {
                Block::Csr(c) if w.tls.keys.contains_key(&c.key) => Some(c),
                _ => None,
            })
        });
        let Some(csr) = csr else {
            ctx.errln(&format!("Could not read certificate request from {name}"));
            ctx.errln("x509: Unable to load certificate request input");
            return 1;
        };
        let (issuer, signer) = if let Some(ca_file) = &ca {
            let ca_id =
                input(ctx, Some(ca_file)).and_then(|t| w.tls.cert_ids(&t).into_iter().next());
            let Some(ca_id) = ca_id else {
                ctx.errln(&format!("Could not read certificate from {ca_file}"));
                ctx.errln("x509: Unable to load CA certificate");
                return 1;
            };
            let key_file = ca_key.clone().unwrap_or_else(|| ca_file.clone());
            let Some(kid) = input(ctx, Some(&key_file)).and_then(|t| w.tls.key_id(&t)) else {
                ctx.errln(&format!("Could not read CA private key from {key_file}"));
                ctx.errln("x509: Unable to load CA private key");
                return 1;
            };
            let ca_cert = w.tls.certs[&ca_id].clone();
            if ca_cert.key != kid {
                ctx.errln("x509: CA certificate and CA private key do not match");
                return 1;
            }
            (ca_cert.subject, kid)
        } else if let Some(kf) = &sign_key {
            let Some(kid) = input(ctx, Some(kf)).and_then(|t| w.tls.key_id(&t)) else {
                ctx.errln(&format!("Could not read private key from {kf}"));
                ctx.errln("x509: Unable to load private key");
                return 1;
            };
            (csr.subject.clone(), kid)
        } else {
            ctx.errln("x509: We need a private key to sign with, use -signkey or -CAkey or -CA with private key");
            return 1;
        };
        let Some(mut days) = days_arg(ctx, "x509", days) else {
            return 1;
        };
        // Fault `tls-short-lived`: the certificate is issued for one day (a `-days` typo).
        if w.trip(FaultKind::TlsShortLived, None) {
            days = 1;
        }
        let serial = serial
            .map(|s| {
                s.strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .unwrap_or(&s)
                    .to_uppercase()
            })
            .unwrap_or_default();
        ctx.errln("Certificate request self-signature ok");
        ctx.errln(&format!("subject={}", csr.subject));
        let cert = Cert {
            subject: csr.subject,
            issuer,
            key: csr.key,
            signer,
            serial,
            not_before: now,
            not_after: now + days * 86_400,
            ca: false,
            san: if copy_ext { csr.san } else { Vec::new() },
            eku: if copy_ext { csr.eku } else { Vec::new() },
        };
        let pem = w.tls_issue(cert);
        w.tls.cert_ids(&pem).remove(0)
    } else {
        let Some(id) = text.and_then(|t| w.tls.cert_ids(&t).into_iter().next()) else {
            ctx.errln(&format!("Could not read certificate from {name}"));
            ctx.errln("x509: Unable to load certificate");
            return 1;
        };
        id
    };
    let c = w.tls.certs[&id].clone();
    let pem = w.tls_cert_text(&id).unwrap_or_default();
    for p in prints {
        match p {
            Print::Pubkey => {
                let k = w.tls_pub_pem(&c.key);
                ctx.out(&k);
            }
            Print::Subject => ctx.outln(&format!("subject={}", c.subject)),
            Print::Issuer => ctx.outln(&format!("issuer={}", c.issuer)),
            Print::Serial => ctx.outln(&format!("serial={}", c.serial)),
            Print::StartDate => {
                ctx.outln(&format!("notBefore={}", tls::openssl_time(c.not_before)))
            }
            Print::EndDate => ctx.outln(&format!("notAfter={}", tls::openssl_time(c.not_after))),
            Print::Dates => {
                ctx.outln(&format!("notBefore={}", tls::openssl_time(c.not_before)));
                ctx.outln(&format!("notAfter={}", tls::openssl_time(c.not_after)));
            }
            Print::Fingerprint => {
                let n = if digest == "SHA1" { 20 } else { 32 };
                let fp: Vec<String> = tls::digest(&pem, n)
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                ctx.outln(&format!("{digest} Fingerprint={}", fp.join(":")));
            }
            Print::Text => {
                let serial: Vec<String> = c
                    .serial
                    .as_bytes()
                    .chunks(2)
                    .map(|p| String::from_utf8_lossy(p).to_lowercase())
                    .collect();
                ctx.outln("Certificate:\n    Data:\n        Version: 3 (0x2)");
                ctx.outln(&format!(
                    "        Serial Number:\n            {}",
                    serial.join(":")
                ));
                ctx.outln(&format!("        Issuer: {}", c.issuer));
                ctx.outln(&format!(
                    "        Validity\n            Not Before: {}\n            Not After : {}",
                    tls::openssl_time(c.not_before),
                    tls::openssl_time(c.not_after)
                ));
                ctx.outln(&format!("        Subject: {}", c.subject));
                ctx.outln(&format!(
                    "        Public Key Algorithm: {}",
                    w.tls.keys.get(&c.key).map_or("?", |k| k.alg.as_str())
                ));
                if c.ca {
                    ctx.outln(
                        "            X509v3 Basic Constraints: critical\n                CA:TRUE",
                    );
                }
                if !c.san.is_empty() {
                    ctx.outln(&format!(
                        "            X509v3 Subject Alternative Name: \n                {}",
                        c.san.join(", ")
                    ));
                }
                if !c.eku.is_empty() {
                    ctx.outln(&format!(
                        "            X509v3 Extended Key Usage: \n                {}",
                        c.eku.join(", ")
                    ));
                }
            }
        }
    }
    if !noout {
        let code = output(ctx, "x509", out.as_ref(), &pem);
        if code != 0 {
            return code;
        }
    }
    if let Some(n) = checkend {
        if c.not_after < now + n {
            ctx.outln("Certificate will expire");
            return 1;
        }
        ctx.outln("Certificate will not expire");
    }
    0
}

/// `verify -CAfile BUNDLE CERT…`: `CERT: OK` on stdout, or the error on stderr and exit 2.
fn verify(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    let mut ca_file = None;
    let mut purpose = None;
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-CAfile" => ca_file = value(args, &mut i),
            "-purpose" => match value(args, &mut i).as_deref() {
                Some("sslserver") => purpose = Some("serverAuth"),
                Some("sslclient") => purpose = Some("clientAuth"),
                Some("any") => {}
                p => {
                    ctx.errln(&format!(
                        "verify: Invalid purpose {}",
                        p.unwrap_or_default()
                    ));
                    return 1;
                }
            },
            "-untrusted" | "-CApath" | "-verify_hostname" => {
                skip_value(&mut i);
            }
            "-x509_strict" | "-show_chain" | "-no-CApath" | "-no-CAfile" => {}
            "--" => files.extend(args[i + 1..].iter().cloned()),
            o if o.starts_with('-') => return unknown(ctx, "verify", o),
            f => files.push(f.to_owned()),
        }
        if a == "--" {
            break;
        }
        i += 1;
    }
    let bundle = match &ca_file {
        Some(f) => match input(ctx, Some(f)) {
            Some(t) if !w.tls.cert_ids(&t).is_empty() => w.tls.cert_ids(&t),
            _ => {
                ctx.errln(&format!("Error loading file {f}"));
                return 1;
            }
        },
        None => Vec::new(),
    };
    if files.is_empty() {
        ctx.errln("verify: the drill models `verify -CAfile FILE CERT…` (certificates as files)");
        return 1;
    }
    let now = w.now_unix();
    let mut failed = false;
    for f in &files {
        let id = input(ctx, Some(f)).and_then(|t| w.tls.cert_ids(&t).into_iter().next());
        let Some(id) = id else {
            ctx.errln(&format!("Could not find certificate from {f}"));
            ctx.errln(&format!("error {f}: verification failed"));
            failed = true;
            continue;
        };
        let res = w
            .tls
            .verify(&id, &bundle, now)
            .and_then(|()| match purpose {
                Some(p) if !tls::purpose_ok(&w.tls.certs[&id], p) => {
                    Err((26, 0, "unsupported certificate purpose"))
                }
                _ => Ok(()),
            });
        match res {
            Ok(()) => ctx.outln(&format!("{f}: OK")),
            Err((code, depth, why)) => {
                ctx.errln(&w.tls.certs[&id].subject.clone());
                ctx.errln(&format!("error {code} at {depth} depth lookup: {why}"));
                ctx.errln(&format!("error {f}: verification failed"));
                failed = true;
            }
        }
    }
    if failed { 2 } else { 0 }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b"foob"), "Zm9vYg==");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
