//! A realistic runbook full of placeholders, references and look-alikes scans clean.

use cdb_secrets::Scanner;

const RUNBOOK: &str = r#"# Rotate the Redis password

<!-- step: rotate-redis -->
Rotate the REDIS_PASSWORD before the drill; the old value stays valid until step 4.

```yaml
services:
  cdb_redis:
    image: redis:7.2.4-alpine@sha256:3134997edb04277814aa51a4175a588d45eb4299272f8eb2e0e81b9b3b5e4f1e
    environment:
      REDIS_PASSWORD_FILE: /run/secrets/REDIS_PASSWORD
      POSTGRES_PASSWORD_FILE: /run/secrets/POSTGRES_PASSWORD
    secrets: [REDIS_PASSWORD]
  grafana:
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD}
      GF_DATABASE_URL: postgresql://claire_user:${PW}@cdb_postgres:5432/claire
    ports: ["127.0.0.1:3000:3000"]
  ci:
    token: ${{ secrets.GH_TOKEN }}
    password: ""
    api_key: null
    secret: "{{ vault_secret }}"
    password_min_length: 32
    token_ttl: 3600s
    auth: <REDACTED>
```

```sh
export REDISCLI_AUTH="$(cat "$SECRETS_PATH/REDIS_PASSWORD")"
NEW_PW=$(openssl rand -hex 32)
printf '%s' "$NEW_PW" > "$SECRETS_PATH/REDIS_PASSWORD"
docker exec -i -e REDISCLI_AUTH cdb_redis redis-cli PING
psql "postgresql://user:<password>@127.0.0.1:5432/claire" -tAc 'SELECT 1'
redis-cli -u "redis://:%s@cdb_redis:6379" PING
PGPASSWORD=$PGPASSWORD psql -h 127.0.0.1 -U claire_user
curl -fsS http://127.0.0.1:3000/d/abc123/overview?orgId=1
echo "password: ****"
vault kv get -field=password vault://kv/cdb/redis
```

| item | value |
|---|---|
| commit | 4b825dc642cb6eb9a060e54bf8d69288fbee4904 |
| request id | 123e4567-e89b-12d3-a456-426614174000 |
| host key | SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8 |
| md5 fp | 43:51:43:a1:b5:fc:8b:b7:0a:3a:a9:b1:0f:66:73:a8 |
| checksum | sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 |
| AWS docs key | AKIAIOSFODNN7EXAMPLE |
| version | 1.2.3+build.5, v2.10.0, 2024-05-01T10:00:00+01:00 |
| colour | #1f2937 and rgb(10, 20, 30) |
| timeout | 30s, port 6379, 10.5 ms |
| contacts | ops@example.com, security@cdb-project.org, noreply@github.com |
| ranges | 10.0.0.0/8, 192.0.2.10, 198.51.100.7, 203.0.113.9, 127.0.0.1, 0.0.0.0 |

10. Restart the stack with `docker compose -f compose.blue.yml up -d --force-recreate cdb_redis`.
11. The new password is `<new-password>`; set `password=changeme` only in the lab.
12. `gh secret set REDIS_PASSWORD < "$SECRETS_PATH/REDIS_PASSWORD"`
13. `ACL SETUSER default on >$NEW_PW` and `CONFIG SET requirepass %s`.

```toml
[database]
password = "${DB_PASSWORD}"
url = "postgres://app@db/app"
token = "file:/run/secrets/API_TOKEN"
```

```json
{"password": "<password>", "token": "$TOKEN", "client_secret": "xxxxxxxxxxxxxxxx"}
```

```rust
let token = std::fs::read_to_string(secrets_path.join("GH_TOKEN"))?;
let password = Secret::new(read(&path)?);
fn rotate(password: &str, token: Option<&str>) -> Result<(), Error> { todo!() }
```
"#;

#[test]
fn runbook_scans_clean() {
    let hits = Scanner::new().scan(RUNBOOK);
    let report: Vec<String> = hits
        .iter()
        .map(|h| format!("{}:{} {} {}", h.line, h.column, h.rule, h.redacted(RUNBOOK)))
        .collect();
    assert!(hits.is_empty(), "{report:#?}");
}
