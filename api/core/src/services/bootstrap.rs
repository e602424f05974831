//! What an instance needs before it serves: the signing secret and, on an empty database,
//! the first administrator.

use std::io::Write;
use std::path::Path;

use entity::ids::UserId;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
};

use entity::users;

use crate::auth::password::Passwords;
use crate::auth::refresh;
use crate::config::Settings;
use crate::domain::Role;
use crate::services::now;
use secrecy::ExposeSecret;

/// `XUNCHA_JWT_SECRET`, or a secret generated once and kept in the data folder (readable by
/// the owner only). Several instances must share one: set the variable for them.
pub fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.expose_secret().as_bytes().to_vec());
    }
    let path = settings.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= 32 => return Ok(secret.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!("{} is shorter than 32 characters", path.display()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => anyhow::bail!("reading {}: {err}", path.display()),
    }
    let secret = format!("{}{}", refresh::generate(), refresh::generate());
    write_private(&path, &secret)?;
    tracing::info!(path = %path.display(), "generated a JWT signing secret");
    Ok(secret.into_bytes())
}

/// Writes a new file readable by its owner only; refuses to replace one.
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// On an empty database, creates `admin` with `XUNCHA_ADMIN_PASSWORD`, or with a random
/// password printed once.
pub async fn ensure_admin(
    db: &DatabaseConnection,
    settings: &Settings,
    passwords: &Passwords,
) -> anyhow::Result<()> {
    if users::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let (chosen, printed) = match &settings.admin_password {
        Some(password) => (password.expose_secret().to_owned(), false),
        None => (refresh::generate()[..20].to_owned(), true),
    };
    let hash = passwords
        .hash(chosen.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let at = now();
    let created = users::ActiveModel {
        id: Set(UserId::now_v7()),
        username: Set("admin".into()),
        display_name: Set("Administrator".into()),
        password_hash: Set(hash),
        role: Set(Role::Admin),
        department_id: Set(None),
        shopfront_id: Set(None),
        disabled: Set(false),
        password_changed_at: Set(at),
        last_login_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await;
    match created {
        Ok(_) if printed => {
            tracing::warn!("created user 'admin' with a random password, printed once on stdout");
            // A closed stdout must not stop the server (println! would panic).
            let _ = writeln!(
                std::io::stdout(),
                "\n  Xuncha: created user 'admin' with password: {chosen}\n  (shown once; set XUNCHA_ADMIN_PASSWORD to choose it)\n"
            );
        }
        Ok(_) => tracing::info!("created user 'admin' with XUNCHA_ADMIN_PASSWORD"),
        // Another instance starting on the same empty database got there first.
        Err(err) if users::Entity::find().count(db).await? > 0 => {
            tracing::debug!(error = %err, "admin created concurrently");
        }
        Err(err) => return Err(err.into()),
    }
    Ok(())
}
