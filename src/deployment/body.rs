//! An untrusted HTTP answer's body, read up to a limit and no further: a
//! `Content-Length` over it is refused unread, an endless or oversized body is
//! cut as soon as it passes it (the connection is dropped), so memory stays
//! bounded whatever a server sends.

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("answer larger than {}, cut", size(*.limit))]
    TooLarge { limit: usize },
    #[error("reading the answer: {0}")]
    Read(#[from] reqwest::Error),
}

/// At most `limit` bytes of `response`'s body.
pub async fn read(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `1.00 MiB`, `512.00 KiB`, `1000 B`.
pub fn size(bytes: usize) -> String {
    indicatif::HumanBytes(bytes as u64).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(1 << 20), "1.00 MiB");
        assert_eq!(size(512 << 10), "512.00 KiB");
        assert_eq!(size(1000), "1000 B");
        assert_eq!(
            BodyError::TooLarge { limit: 1 << 20 }.to_string(),
            "answer larger than 1.00 MiB, cut"
        );
    }
}
