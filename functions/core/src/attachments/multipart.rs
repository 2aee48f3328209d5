//! `multipart/form-data` bodies (RFC 7578) for the platforms' upload
//! calls: a few text fields and one file.
//!
//! The boundary is derived from the file's SHA-256, so the core needs no
//! randomness and a retry sends the very same bytes; a 32-hex-digit
//! boundary occurring inside the file is as likely as a hash collision.

use super::safe_filename;

/// A form: text fields and files, in order.
#[derive(Default)]
pub struct Form<'a> {
    parts: Vec<Part<'a>>,
}

enum Part<'a> {
    Text(&'a str, String),
    File {
        name: &'a str,
        filename: String,
        content_type: &'a str,
        bytes: &'a [u8],
    },
}

impl<'a> Form<'a> {
    pub fn text(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.parts.push(Part::Text(name, value.into()));
        self
    }

    pub fn file(
        mut self,
        name: &'a str,
        filename: &str,
        content_type: &'a str,
        bytes: &'a [u8],
    ) -> Self {
        self.parts.push(Part::File {
            name,
            filename: safe_filename(filename),
            content_type,
            bytes,
        });
        self
    }

    /// The `content-type` header and the body.
    pub fn finish(self) -> (String, Vec<u8>) {
        let seed: Vec<u8> = self
            .parts
            .iter()
            .flat_map(|p| match p {
                Part::Text(_, v) => v.as_bytes().to_vec(),
                Part::File { bytes, .. } => super::sha256_hex(bytes).into_bytes(),
            })
            .collect();
        let boundary = format!(
            "----switchboard{}",
            super::sha256_hex(&seed).get(..32).unwrap_or("boundary")
        );
        let mut body = Vec::new();
        for part in self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match part {
                Part::Text(name, value) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                            .as_bytes(),
                    );
                    body.extend_from_slice(value.as_bytes());
                }
                Part::File {
                    name,
                    filename,
                    content_type,
                    bytes,
                } => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                             Content-Type: {content_type}\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(bytes);
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_has_its_fields_and_the_file() {
        let (ct, body) = Form::default()
            .text("chat_id", "42")
            .file("photo", "../a\"b.png", "image/png", b"\x89PNG")
            .finish();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"chat_id\"\r\n\r\n42\r\n"));
        assert!(text.contains(
            "name=\"photo\"; filename=\"ab.png\"\r\nContent-Type: image/png\r\n\r\n\u{fffd}PNG\r\n"
        ));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
