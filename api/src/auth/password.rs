//! Argon2id password hashes (PHC strings), computed on the blocking pool so a login never
//! stalls the async workers.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes with Argon2id and the crate's defaults (19 MiB, 2 passes: OWASP's baseline).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let hashed = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await?;
    hashed.map_err(|err| anyhow::anyhow!("argon2: {err}"))
}

/// True when `password` matches `phc`. Without a stored hash, verifies against a fixed
/// one anyway so an unknown username costs the same time as a wrong password.
pub async fn verify(password: String, phc: Option<String>) -> anyhow::Result<bool> {
    let known = phc.is_some();
    let matched = tokio::task::spawn_blocking(move || {
        let phc = phc.as_deref().unwrap_or_else(|| DUMMY_HASH.as_str());
        Argon2::default()
            .verify_password(password.as_bytes(), phc)
            .is_ok()
    })
    .await?;
    Ok(known && matched)
}

/// The hash of a random password nobody knows, with the same parameters as real ones.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(super::refresh::generate().as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}
