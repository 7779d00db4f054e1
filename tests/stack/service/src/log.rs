//! One JSON line per event on stdout, like the Node.js services' logger.

use serde_json::json;

pub fn info(message: &str) {
    emit("info", json!({ "message": message }));
}

pub fn error(message: &str) {
    emit("error", json!({ "message": format!("Error: {message}") }));
}

pub fn request(method: &str, path: &str, status: u16, millis: u128) {
    let level = if status >= 500 { "error" } else { "info" };
    let mut fields =
        json!({ "method": method, "path": path, "status": status, "duration_ms": millis });
    if millis > 1000 {
        fields["message"] = json!(format!("slow request: {method} {path} took {millis} ms"));
    }
    emit(level, fields);
}

fn emit(level: &str, mut fields: serde_json::Value) {
    fields["level"] = json!(level);
    fields["service"] = json!(std::env::var("SERVICE_NAME").unwrap_or_default());
    fields["time"] = json!(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    println!("{fields}");
}
