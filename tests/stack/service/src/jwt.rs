//! HS256 JSON Web Tokens: verification as the auth service does it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[derive(serde::Deserialize)]
pub struct Claims {
    pub sub: serde_json::Value,
    pub exp: u64,
    #[serde(default)]
    pub jti: Option<String>,
}

/// Checks the signature and expiry of `token`; returns its claims.
pub fn verify(token: &str, secret: &str) -> Result<Claims, &'static str> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed token");
    };
    let header: serde_json::Value = decode_json(header)?;
    if header["alg"] != "HS256" {
        return Err("unsupported algorithm");
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "malformed signature")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad key")?;
    mac.update(token_head(token).as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| "invalid signature")?;
    let claims: Claims = decode_json(payload)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if claims.exp <= now {
        return Err("token expired");
    }
    Ok(claims)
}

/// `header.payload`, the signed part of a token.
fn token_head(token: &str) -> &str {
    token
        .rsplit_once('.')
        .map(|(head, _)| head)
        .unwrap_or(token)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, &'static str> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "malformed token")?;
    serde_json::from_slice(&bytes).map_err(|_| "malformed token")
}
