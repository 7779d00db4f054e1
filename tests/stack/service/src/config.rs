//! The service's configuration, read from the environment like the Node.js services.

#[derive(Clone)]
pub struct Config {
    pub service: String,
    pub port: u16,
    pub database_url: String,
    pub redis_url: String,
    pub jwt_secret: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let service = required("SERVICE_NAME")?;
        if !["auth", "user", "ticket"].contains(&service.as_str()) {
            return Err(format!(
                "SERVICE_NAME must be auth, user or ticket, not {service:?}"
            ));
        }
        let port = required("PORT")?
            .parse()
            .map_err(|_| "PORT is not a port number".to_string())?;
        Ok(Config {
            port,
            database_url: required("DATABASE_URL")?,
            redis_url: required("REDIS_URL")?,
            jwt_secret: std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty()),
            service,
        })
    }
}

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("missing environment variable {name}"))
}
