//! The kill switch, the exchange keys and the alerting mail as the steps see them through
//! `docker exec` (issue 11, divergence 3; issue 12, defects 1 and 2). Each assertion is a bash
//! step that the old world failed: it had no kill-switch file, ran no program inside the
//! Python services, and named the exchange files without `.txt`.

const SF: &str = "/app/kill_switch/.cdb_kill_switch.state";

fn run(bodies: &[&str]) -> serde_json::Value {
    let (code, j) = crate::run_tiny(crate::mocks::MATRIX, "database", "1m", bodies, &[]);
    let steps: Vec<(String, String)> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step")
        .map(|e| {
            (
                e["id"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (id, status) in &steps {
        assert_eq!(status, "passed", "{id}: {j:#}");
    }
    assert_eq!(steps.len(), bodies.len(), "{j:#}");
    let _ = code;
    j
}

#[test]
fn the_kill_switch_is_a_file_on_the_volume_and_survives_a_recreate() {
    let engage = r#"docker exec cdb_risk python -c 'import os; from core.safety.kill_switch import KillSwitch, KillSwitchReason; KillSwitch(os.environ["CDB_KILL_SWITCH_STATE_FILE"]).activate(KillSwitchReason.MANUAL, "drill")'"#;
    let j = run(&[
        &format!("docker exec cdb_execution grep -qx 'state=inactive' {SF}"),
        // Stopping the order path is not the kill switch.
        &format!(
            "docker stop cdb_execution >/dev/null && docker start cdb_execution >/dev/null && docker exec cdb_risk grep -qx 'state=inactive' {SF}"
        ),
        // KillSwitch() without a path writes in the working directory: the services never see it.
        &format!(
            "docker exec cdb_risk python -c 'from core.safety.kill_switch import KillSwitch, KillSwitchReason; KillSwitch().activate(KillSwitchReason.MANUAL, \"x\")' && docker exec cdb_risk grep -qx 'state=inactive' {SF}"
        ),
        // Through the service's own code, on the volume both containers mount.
        &format!(
            "{engage} && docker exec cdb_execution grep -qx 'state=active' {SF} && docker exec cdb_execution grep -qx 'reason=manual' {SF}"
        ),
        &format!(
            "docker compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_execution cdb_risk >/dev/null 2>&1 && docker exec cdb_execution grep -qx 'state=active' {SF}"
        ),
        // Only cdb_risk and cdb_execution mount the volume.
        &format!("docker exec cdb_market grep -qx 'state=active' {SF} 2>/dev/null || test $? = 2"),
    ]);
    let inv = j["invariants"].as_array().unwrap();
    assert!(inv.iter().all(|i| i["passed"] == true), "{j:#}");
}

#[test]
fn exchange_keys_and_the_app_password_are_proven_from_inside_the_services() {
    let account = r#"p='import hashlib, hmac, time, urllib.request
k = open("/run/secrets/mexc_api_key").read().strip()
s = open("/run/secrets/mexc_api_secret").read().strip()
q = "recvWindow=5000&timestamp=%d" % int(time.time() * 1000)
q += "&signature=" + hmac.new(s.encode(), q.encode(), hashlib.sha256).hexdigest()
urllib.request.urlopen(urllib.request.Request("https://api.mexc.com/api/v3/account?" + q, headers={"X-MEXC-APIKEY": k}), timeout=15).read()'"#;
    let login = r#"l='import smtplib
u = open("/run/secrets/smtp_user").read().strip()
p = open("/run/secrets/smtp_password").read().strip()
c = smtplib.SMTP("smtp.gmail.com", 587, timeout=20)
c.starttls()
c.login(u, p)'"#;
    run(&[
        // The Compose file's names: MEXC_API_KEY.txt, MEXC_API_SECRET.txt (trade keys alike).
        "test -s \"$SECRETS_PATH/MEXC_API_KEY.txt\" && test -s \"$SECRETS_PATH/MEXC_TRADE_API_SECRET.txt\" && test ! -e \"$SECRETS_PATH/MEXC_API_KEY\"",
        &format!("{account}; docker exec cdb_risk python -c \"$p\""),
        // A program on stdin needs `docker exec -i`; without it Python runs nothing and says nothing.
        &format!(
            "{account}; printf '%s' \"$p\" | docker exec cdb_risk python - && printf '%s' \"$p\" | docker exec -i cdb_risk python -"
        ),
        // A key replaced by rename: the running container still mounts (and runs on) the old one,
        // MEXC refuses the new random text, and /health says 200 throughout.
        &format!(
            "{account}; f=\"$SECRETS_PATH/MEXC_API_KEY.txt\"; openssl rand -hex 16 > \"$f.tmp\" && mv -f \"$f.tmp\" \"$f\" && ! docker exec -i cdb_risk cmp -s /run/secrets/mexc_api_key - < \"$f\" && docker exec cdb_risk python -c \"$p\" && docker compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_risk >/dev/null 2>&1 && docker exec -i cdb_risk cmp -s /run/secrets/mexc_api_key - < \"$f\" && ! docker exec cdb_risk python -c \"$p\" 2>/dev/null && curl -fsS -o /dev/null http://127.0.0.1:8002/health"
        ),
        &format!("{login}; docker exec cdb_reports python -c \"$l\""),
        &format!(
            "{login}; openssl rand -hex 8 > \"$SECRETS_PATH/SMTP_PASSWORD\" && docker compose -f compose.red.yml up -d --no-deps --force-recreate cdb_reports >/dev/null 2>&1 && ! docker exec cdb_reports python -c \"$l\" 2>/dev/null && test \"$(docker inspect -f '{{{{.State.Health.Status}}}}' cdb_reports)\" = healthy"
        ),
    ]);
}
