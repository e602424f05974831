//! Short-lived access tokens: HS256 JWTs whose checks pin the algorithm and require
//! `exp`, `iss` and `aud`.

use std::time::Duration;

use entity::ids::UserId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "xuncha";
pub const AUDIENCE: &str = "xuncha-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's `password_changed_at` in milliseconds when the token was issued; a
    /// password change makes every earlier token invalid.
    pub pwd: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        // Ours never carry `nbf`; a token that does is held to it.
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: UserId, password_epoch_ms: i64) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs())?,
            pwd: password_epoch_ms,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a token that passes every check, or `None`.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[7u8; 32], Duration::from_secs(60))
    }

    #[test]
    fn an_issued_token_verifies() {
        let id = UserId::now_v7();
        let token = keys().issue(id, 42).unwrap();
        let claims = keys().verify(&token).unwrap();
        assert_eq!((claims.sub, claims.pwd), (id, 42));
    }

    #[test]
    fn another_key_or_a_tampered_payload_is_refused() {
        let token = keys().issue(UserId::now_v7(), 1).unwrap();
        let other = JwtKeys::new(&[8u8; 32], Duration::from_secs(60));
        assert!(other.verify(&token).is_none());

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["sub"] = serde_json::json!(UserId::now_v7());
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert!(keys().verify(&parts.join(".")).is_none());
    }

    #[test]
    fn alg_none_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let now = chrono::Utc::now().timestamp();
        let payload = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": UserId::now_v7(), "iss": ISSUER, "aud": AUDIENCE,
                "iat": now, "exp": now + 60, "pwd": 0})
            .to_string(),
        );
        assert!(keys().verify(&format!("{header}.{payload}.")).is_none());
    }
}
