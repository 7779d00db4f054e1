//! Who restores a foreign backup: a role that is not a superuser, cannot create
//! roles and is in none of pg_execute_server_program / pg_read_server_files /
//! pg_write_server_files (nor in any superuser role), so the server itself
//! refuses `COPY … PROGRAM`, `lo_import`/`lo_export` and `ALTER SYSTEM`
//! whatever the validator believed. The session logs in AS that role (never
//! `SET ROLE`, which a dump could undo). When the service's own user is already
//! such a role it restores; otherwise one is created for the restore by the
//! service's user — a random name and password (a secret, redacted; the server
//! gets only its SCRAM verifier) — given ownership of what the dump replaces,
//! and afterwards (success or not) everything it owns goes back to that user
//! and the role is dropped. A role left by a killed run is swept the next time.

use super::pg_session::{self, Login};
use crate::secrets::Secrets;
use std::time::Duration;
use tokio_postgres::Client;

const PREFIX: &str = "helpdesk_restore_";

/// Whether the session's user is unprivileged as above.
const UNPRIVILEGED: &str = "SELECT NOT r.rolsuper AND NOT r.rolcreaterole AND NOT EXISTS (\
     SELECT 1 FROM pg_roles g WHERE g.oid <> r.oid AND (g.rolsuper OR g.rolname IN \
     ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')) \
     AND pg_has_role(r.oid, g.oid, 'MEMBER')) FROM pg_roles r WHERE r.rolname = current_user";

/// Gives `ROLE` what the session's user owns outside the system schemas (not
/// extension members; sequences and row types follow their table), and the
/// right to create in every such schema.
const HAND_OVER: &str = r#"DO $hand_over$
DECLARE o record; me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
BEGIN
  FOR o IN SELECT n.oid, n.nspname, n.nspowner FROM pg_namespace n
      WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                        AND d.objid = n.oid AND d.deptype = 'e') LOOP
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO ROLE', o.nspname);
    IF o.nspowner = me THEN EXECUTE format('ALTER SCHEMA %I OWNER TO ROLE', o.nspname); END IF;
  END LOOP;
  FOR o IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%' AND c.relowner = me
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                        AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i')) LOOP
    EXECUTE format('ALTER %s %s OWNER TO ROLE', CASE o.relkind WHEN 'S' THEN 'SEQUENCE'
      WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
      WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, o.name);
  END LOOP;
  FOR o IN SELECT p.oid::regprocedure AS name, p.prokind FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%' AND p.proowner = me
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                        AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO ROLE', CASE o.prokind WHEN 'a' THEN 'AGGREGATE'
      WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, o.name);
  END LOOP;
  FOR o IN SELECT t.oid::regtype AS name, t.typtype FROM pg_type t
      JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%' AND t.typowner = me
        AND t.typtype IN ('e', 'd', 'r')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                        AND d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO ROLE', CASE o.typtype WHEN 'd' THEN 'DOMAIN'
      ELSE 'TYPE' END, o.name);
  END LOOP;
END
$hand_over$"#;

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("preparing an unprivileged role for the restore: {0}")]
    Create(String),
    #[error(
        "dropping the restore role {role}: {reason} (drop it by hand: REASSIGN OWNED BY {role} TO CURRENT_USER; DROP OWNED BY {role}; DROP ROLE {role})"
    )]
    Drop { role: String, reason: String },
    #[error("the server did not answer within {0:?} while preparing or dropping the restore role")]
    Stalled(Duration),
}

/// The role a foreign dump is restored as.
pub enum Restorer {
    /// The service's own user, already unprivileged.
    OwnUser,
    /// A role made for this restore, dropped by `drop`.
    Made { name: String, password: String },
}

impl Restorer {
    /// `OwnUser` when the `admin` session's user is unprivileged, else a new role.
    pub async fn prepare(
        admin: &Client,
        database: &str,
        secrets: &Secrets,
        stall: Duration,
    ) -> Result<Restorer, RoleError> {
        let create = |e: tokio_postgres::Error| RoleError::Create(pg_session::reason(&e));
        let unprivileged: bool = within(stall, admin.query_one(UNPRIVILEGED, &[]))
            .await?
            .map_err(create)?
            .get(0);
        if unprivileged {
            return Ok(Restorer::OwnUser);
        }
        let random = |n| crate::files::random_hex(n).map_err(|e| RoleError::Create(e.to_string()));
        let name = format!("{PREFIX}{}", random(8)?);
        let password = random(24)?;
        secrets.add(&password);
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        let database = crate::deployment::postgres::quote_identifier(database);
        let sql = format!(
            "BEGIN; CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION \
             NOBYPASSRLS NOINHERIT CONNECTION LIMIT 4 PASSWORD '{verifier}'; \
             GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {database} TO {name}; {}; COMMIT",
            HAND_OVER.replace(" ROLE'", &format!(" {name}'"))
        );
        within(stall, admin.batch_execute(&sql))
            .await?
            .map_err(create)?;
        Ok(Restorer::Made { name, password })
    }

    /// How to log in as this restorer.
    pub fn login<'a>(&'a self, own: Login<'a>) -> Login<'a> {
        match self {
            Restorer::OwnUser => own,
            Restorer::Made { name, password } => Login {
                user: name,
                password: Some(password),
                database: own.database,
            },
        }
    }

    /// Gives back what the made role owns and drops it (nothing for `OwnUser`).
    pub async fn drop(self, admin: &Client, stall: Duration) -> Result<(), RoleError> {
        match self {
            Restorer::OwnUser => Ok(()),
            Restorer::Made { name, .. } => drop_role(admin, &name, stall).await,
        }
    }
}

/// Drops every restore role a killed run left behind on `admin`'s server.
pub async fn sweep(admin: &Client, stall: Duration) -> Result<(), RoleError> {
    let left = within(
        stall,
        admin.query(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'helpdesk\\_restore\\_%'",
            &[],
        ),
    )
    .await?
    .map_err(|e| RoleError::Drop {
        role: format!("{PREFIX}*"),
        reason: pg_session::reason(&e),
    })?;
    for row in left {
        let name: String = row.get(0);
        if is_ours(&name) {
            drop_role(admin, &name, stall).await?;
        }
    }
    Ok(())
}

fn is_ours(name: &str) -> bool {
    name.strip_prefix(PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

async fn drop_role(admin: &Client, name: &str, stall: Duration) -> Result<(), RoleError> {
    debug_assert!(is_ours(name));
    let sql = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'; \
         BEGIN; REASSIGN OWNED BY {name} TO CURRENT_USER; DROP OWNED BY {name}; DROP ROLE {name}; COMMIT"
    );
    within(stall, admin.batch_execute(&sql))
        .await?
        .map_err(|e| RoleError::Drop {
            role: name.to_string(),
            reason: pg_session::reason(&e),
        })
}

async fn within<T>(stall: Duration, future: impl Future<Output = T>) -> Result<T, RoleError> {
    tokio::time::timeout(stall, future)
        .await
        .map_err(|_| RoleError::Stalled(stall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_the_doctors_shape_are_swept() {
        assert!(is_ours("helpdesk_restore_0af3"));
        assert!(!is_ours("helpdesk_restore_"));
        assert!(!is_ours("helpdesk_restore_x; DROP"));
        assert!(!is_ours("user"));
    }

    #[test]
    fn every_grant_goes_to_the_role() {
        let sql = HAND_OVER.replace(" ROLE'", " helpdesk_restore_ab'");
        assert!(!sql.contains(" ROLE'"));
        assert_eq!(sql.matches("helpdesk_restore_ab").count(), 5);
    }
}
