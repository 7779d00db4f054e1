//! `helpdesk-stand-in healthcheck`: the container's HEALTHCHECK, with no curl in the image.

use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub async fn run() -> ExitCode {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    match tokio::time::timeout(Duration::from_secs(3), status_line(&port)).await {
        Ok(Ok(line)) if line.contains(" 200 ") => ExitCode::SUCCESS,
        Ok(Ok(line)) => {
            eprintln!("unhealthy: {line}");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("unhealthy: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: timeout");
            ExitCode::FAILURE
        }
    }
}

async fn status_line(port: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await?;
    let request = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    Ok(text.lines().next().unwrap_or_default().to_string())
}
