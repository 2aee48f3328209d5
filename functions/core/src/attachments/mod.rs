//! Attachments kept in our own storage (R2): their ids and storage keys,
//! what the bytes really are, how they may be served, where a platform's
//! URL may lead, and the platform requests that fetch inbound media
//! (`fetch`) and send agents' files (`send`).
//!
//! An attachment id names its conversation (`at_` + the conversation id's
//! 20 hex digits + 32 random hex digits), so the worker can find the
//! object `{workspace_id}/{conversation_id}/{attachment_id}` from the id
//! and the caller's workspace alone: a guessed id of another workspace
//! names a key that does not exist.

pub mod fetch;
pub mod multipart;
pub mod send;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The size limit when a workspace has not set one (25 MB).
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// The most a workspace may set `attachment_max_mb` to.
pub const MAX_LIMIT_MB: u64 = 100;
/// The workspace setting (in `settings`) with the limit in megabytes.
pub const SETTING_MAX_MB: &str = "attachment_max_mb";

/// Where an attachment stands, on the message that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentState {
    /// Being copied from the platform.
    Pending,
    /// In our storage, served from `url`.
    Stored,
    /// The copy failed for good; `error` says why. The message stays.
    Failed,
    /// Larger than the workspace's limit: kept as the platform's link.
    TooLarge,
}

/// The workspace's limit from its settings (`attachment_max_mb`), else 25 MB.
pub fn max_bytes(settings: &serde_json::Map<String, serde_json::Value>) -> u64 {
    settings
        .get(SETTING_MAX_MB)
        .and_then(serde_json::Value::as_u64)
        .filter(|mb| (1..=MAX_LIMIT_MB).contains(mb))
        .map(|mb| mb * 1024 * 1024)
        .unwrap_or(DEFAULT_MAX_BYTES)
}

/// Checks a value for `settings.attachment_max_mb`.
pub fn check_max_mb(value: &serde_json::Value) -> Result<(), String> {
    match value.as_u64() {
        Some(mb) if (1..=MAX_LIMIT_MB).contains(&mb) => Ok(()),
        _ => Err(format!(
            "settings.{SETTING_MAX_MB} must be a whole number of megabytes from 1 to {MAX_LIMIT_MB}"
        )),
    }
}

/// A new attachment id for `conversation_id` (`cv_` + 20 hex digits).
pub fn new_id(conversation_id: &str, random: &[u8; 16]) -> Option<String> {
    let hex = conversation_id.strip_prefix("cv_")?;
    (hex.len() == 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("at_{hex}{}", hex::encode(random)))
}

/// The conversation an attachment id belongs to, or `None` for anything
/// that is not an attachment id.
pub fn conversation_of(attachment_id: &str) -> Option<String> {
    let rest = attachment_id.strip_prefix("at_")?;
    if rest.len() != 52
        || !rest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    rest.get(..20).map(|hex| format!("cv_{hex}"))
}

/// The R2 key: workspace, conversation, attachment.
pub fn object_key(workspace_id: &str, conversation_id: &str, attachment_id: &str) -> String {
    format!("{workspace_id}/{conversation_id}/{attachment_id}")
}

/// Every key of a conversation starts with this (erasure lists it).
pub fn conversation_prefix(workspace_id: &str, conversation_id: &str) -> String {
    format!("{workspace_id}/{conversation_id}/")
}

/// The URL messages carry for a stored copy.
pub fn api_path(attachment_id: &str) -> String {
    format!("/api/attachments/{attachment_id}")
}

/// How long a signed link for a platform to fetch a file lasts (Meta
/// fetches at once; a retry signs a new one).
pub const LINK_TTL_SECS: i64 = 15 * 60;

fn link_mac(secret: &[u8], workspace_id: &str, attachment_id: &str, exp: i64) -> String {
    let exp = exp.to_string();
    hex::encode(crate::verify::hmac_sha256(
        secret,
        &[
            b"attachment-link\0",
            workspace_id.as_bytes(),
            b"\0",
            attachment_id.as_bytes(),
            b"\0",
            exp.as_bytes(),
        ],
    ))
}

/// The path and query of a link a platform fetches a stored file from
/// without a session (Instagram sends files by URL only): the workspace,
/// an expiry and an HMAC over both with the server's secret.
pub fn signed_link(
    secret: &[u8],
    workspace_id: &str,
    attachment_id: &str,
    now_secs: i64,
) -> String {
    let exp = now_secs + LINK_TTL_SECS;
    let sig = link_mac(secret, workspace_id, attachment_id, exp);
    format!("/api/attachments/{attachment_id}/link?ws={workspace_id}&exp={exp}&sig={sig}")
}

/// Whether a signed link's parts are genuine and unexpired (constant time).
pub fn check_link(
    secret: &[u8],
    workspace_id: &str,
    attachment_id: &str,
    exp: i64,
    sig: &str,
    now_secs: i64,
) -> bool {
    let want = link_mac(secret, workspace_id, attachment_id, exp);
    exp >= now_secs
        && exp <= now_secs + LINK_TTL_SECS
        && !secret.is_empty()
        && crate::verify::constant_time_eq(want.as_bytes(), sig.as_bytes())
}

/// Lower-case hex SHA-256 of the bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The claimed type without parameters, lower-cased (`image/PNG; x=y` → `image/png`).
fn bare(claimed: &str) -> String {
    claimed
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Markup a browser would run if it rendered it: HTML, SVG, XML.
fn markup_type(bytes: &[u8]) -> Option<&'static str> {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(bytes);
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if !t.starts_with('<') {
        return None;
    }
    if t.contains("<svg") {
        Some("image/svg+xml")
    } else if t.starts_with("<?xml") && !t.contains("<html") {
        Some("application/xml")
    } else {
        Some("text/html")
    }
}

/// What the bytes are. Their signature wins over the claim when the two
/// disagree (a PNG sent as `application/pdf` is a PNG; markup sent as
/// `image/png` is HTML). Bytes without a known signature keep a claim that
/// is not a media type (plain text, CSV…); a media claim they cannot back
/// becomes `application/octet-stream`.
pub fn sniff(bytes: &[u8], claimed: Option<&str>) -> String {
    if let Some(kind) = infer::get(bytes) {
        return match kind.mime_type() {
            // Opus in an Ogg container (voice notes): browsers and
            // Telegram know it as Ogg.
            "audio/opus" => "audio/ogg",
            other => other,
        }
        .to_string();
    }
    if let Some(markup) = markup_type(bytes) {
        return markup.to_string();
    }
    match claimed.map(bare) {
        Some(c)
            if !c.is_empty()
                && c.contains('/')
                && !is_media(&c)
                && !is_markup(&c)
                && !is_executable(&c) =>
        {
            c
        }
        _ => "application/octet-stream".to_string(),
    }
}

fn is_media(ct: &str) -> bool {
    ct.starts_with("image/") || ct.starts_with("audio/") || ct.starts_with("video/")
}

fn is_markup(ct: &str) -> bool {
    ct.contains("html") || ct.contains("xml") || ct.contains("javascript") || ct == "text/css"
}

/// Programs a platform or a desktop would run.
pub fn is_executable(ct: &str) -> bool {
    matches!(
        ct,
        "application/x-msdownload"
            | "application/vnd.microsoft.portable-executable"
            | "application/x-executable"
            | "application/x-elf"
            | "application/x-mach-binary"
            | "application/x-sh"
            | "application/x-dosexec"
            | "application/java-archive"
            | "application/vnd.android.package-archive"
            | "application/x-msi"
    )
}

/// Whether a stored type may be shown inline by a browser: images, audio
/// and video, but never SVG (it runs script) or any markup.
pub fn serves_inline(ct: &str) -> bool {
    let ct = bare(ct);
    is_media(&ct) && !is_markup(&ct)
}

/// The message kind a stored type becomes.
pub fn kind_for(ct: &str) -> &'static str {
    let ct = bare(ct);
    if ct.starts_with("image/") && serves_inline(&ct) {
        "image"
    } else if ct.starts_with("audio/") {
        "audio"
    } else if ct.starts_with("video/") {
        "video"
    } else {
        "file"
    }
}

/// Checks what an agent or a visitor uploads: not empty, not above the
/// limit, all of it arrived, not a program, and what it claims to be when
/// it claims a media type. Returns the type to store.
pub fn check_upload(
    bytes: &[u8],
    declared_len: Option<u64>,
    claimed: Option<&str>,
    max: u64,
) -> Result<String, UploadRefusal> {
    if bytes.is_empty() {
        return Err(UploadRefusal::new(400, "the file is empty (zero bytes)"));
    }
    let len = bytes.len() as u64;
    if len > max {
        return Err(UploadRefusal::new(
            413,
            format!(
                "the file is larger than this workspace's limit of {}",
                mb(max)
            ),
        ));
    }
    if declared_len.is_some_and(|d| d != len) {
        return Err(UploadRefusal::new(
            400,
            "the upload was truncated: fewer bytes arrived than Content-Length announced",
        ));
    }
    let sniffed = sniff(bytes, claimed);
    if is_executable(&sniffed) || claimed.map(bare).is_some_and(|c| is_executable(&c)) {
        return Err(UploadRefusal::new(
            415,
            "programs cannot be sent as attachments",
        ));
    }
    if let Some(c) = claimed.map(bare).filter(|c| is_media(c)) {
        let family = |t: &str| t.split('/').next().unwrap_or_default().to_string();
        if family(&c) != family(&sniffed) || !serves_inline(&sniffed) {
            return Err(UploadRefusal::new(
                415,
                format!("the file claims to be {c} but its bytes are {sniffed}"),
            ));
        }
    }
    Ok(sniffed)
}

/// Why an upload was refused: a status and a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRefusal {
    pub status: u16,
    pub reason: String,
}

impl UploadRefusal {
    fn new(status: u16, reason: impl Into<String>) -> Self {
        UploadRefusal {
            status,
            reason: reason.into(),
        }
    }
}

/// `25 MB` for a limit in bytes.
pub fn mb(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1024 * 1024))
}

/// A file name safe for a header and a download: no path, no control
/// characters or quotes, at most 100 characters; `attachment` if nothing
/// is left.
pub fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '\\'))
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// `Content-Disposition` for a stored file: `inline` only for what
/// [`serves_inline`] allows, `attachment` for everything else, with an
/// ASCII fallback name and the UTF-8 one (RFC 6266 / 5987).
pub fn content_disposition(ct: &str, filename: &str) -> String {
    let name = safe_filename(filename);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let how = if serves_inline(ct) {
        "inline"
    } else {
        "attachment"
    };
    format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Whether `url` may be fetched: https to a public host, or anything on
/// one of the `trusted` hosts (the configured Graph and Telegram API
/// bases). The trusted list exists because the tests point those bases at
/// fakes on 127.0.0.1; in production they are graph.facebook.com and
/// api.telegram.org, which are public anyway, so the exemption never opens
/// a private address there. Workers cannot resolve names, so a name is
/// judged by itself: loopback, private, link-local and unique-local
/// literals, `localhost` and internal suffixes are refused.
pub fn check_fetch_url(url: &str, trusted: &[String]) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "the platform gave a URL without a scheme".to_string())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if authority.contains('@') {
        return Err("the platform's URL carries credentials".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    if trusted
        .iter()
        .any(|t| t.eq_ignore_ascii_case(host_port) && !t.is_empty())
    {
        return Ok(());
    }
    if scheme != "https" {
        return Err(format!("the platform's URL is {scheme}, not https"));
    }
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default().to_string()
    } else {
        host_port
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    if host.is_empty() {
        return Err("the platform's URL has no host".into());
    }
    if is_private_host(&host) {
        return Err(format!(
            "the platform's URL leads to a non-public address ({host})"
        ));
    }
    Ok(())
}

/// The `host[:port]` of a base URL, for [`check_fetch_url`]'s trusted list.
pub fn host_of(base: &str) -> String {
    base.split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_private_host(host: &str) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    let private_v4 = |ip: Ipv4Addr| {
        let [a, b, ..] = ip.octets();
        ip.is_loopback()
            || ip.is_private()
            || ip.is_link_local()
            || ip.is_unspecified()
            || ip.is_broadcast()
            || ip.is_multicast()
            || ip.is_documentation()
            || a == 0
            || (a == 100 && (64..128).contains(&b))
            || (a == 198 && (18..20).contains(&b))
    };
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => private_v4(ip),
        Ok(IpAddr::V6(ip)) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return private_v4(v4);
            }
            let first = ip.segments().first().copied().unwrap_or(0);
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
        Err(_) => {
            let h = host.trim_end_matches('.');
            // Decimal or hex forms of an address (`127.1`, `0x7f.0.0.1`)
            // that a resolver would still read as one: refused whole.
            let numeric = h.split('.').all(|label| {
                let hex = label
                    .strip_prefix("0x")
                    .or_else(|| label.strip_prefix("0X"));
                match hex {
                    Some(x) => x.bytes().all(|b| b.is_ascii_hexdigit()),
                    None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
                }
            });
            numeric
                || h == "localhost"
                || h.ends_with(".localhost")
                || h.ends_with(".local")
                || h.ends_with(".internal")
                || h.ends_with(".lan")
                || h.ends_with(".home.arpa")
                || !h.contains('.')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

    #[test]
    fn ids_name_their_conversation() {
        let id = new_id("cv_0123456789abcdef0123", &[7u8; 16]).unwrap();
        assert!(id.starts_with("at_0123456789abcdef0123"));
        assert_eq!(
            conversation_of(&id).as_deref(),
            Some("cv_0123456789abcdef0123")
        );
        assert_eq!(conversation_of("at_../../x"), None);
        assert_eq!(conversation_of("cv_0123456789abcdef0123"), None);
        assert_eq!(new_id("cv_short", &[0; 16]), None);
    }

    #[test]
    fn bytes_win_over_the_claim() {
        assert_eq!(sniff(PNG, Some("application/pdf")), "image/png");
        assert_eq!(sniff(PDF, Some("image/png")), "application/pdf");
        assert_eq!(
            sniff(b"<html><script>alert(1)</script>", Some("image/png")),
            "text/html"
        );
        assert_eq!(sniff(b"  <svg onload=alert(1)>", None), "image/svg+xml");
        assert_eq!(sniff(b"a,b\n1,2\n", Some("text/csv")), "text/csv");
        assert_eq!(
            sniff(b"garbage", Some("image/png")),
            "application/octet-stream"
        );
    }

    #[test]
    fn only_media_is_inline() {
        assert!(serves_inline("image/png"));
        assert!(serves_inline("audio/ogg"));
        assert!(!serves_inline("image/svg+xml"));
        assert!(!serves_inline("text/html"));
        assert!(!serves_inline("application/pdf"));
        assert!(content_disposition("text/html", "x.html").starts_with("attachment;"));
        assert!(content_disposition("image/jpeg", "a\"b.jpg")
            .starts_with("inline; filename=\"ab.jpg\""));
    }

    #[test]
    fn uploads_are_checked() {
        let max = 1024;
        assert_eq!(
            check_upload(PNG, None, Some("image/png"), max).unwrap(),
            "image/png"
        );
        assert_eq!(check_upload(&[], None, None, max).unwrap_err().status, 400);
        assert_eq!(
            check_upload(&[1u8; 2000], None, None, max)
                .unwrap_err()
                .status,
            413
        );
        assert_eq!(
            check_upload(PDF, Some(999), None, max).unwrap_err().status,
            400
        );
        let html = check_upload(b"<html>hi</html>", None, Some("image/png"), max).unwrap_err();
        assert_eq!(html.status, 415);
        assert!(html.reason.contains("text/html"), "{}", html.reason);
        // Markup that does not pretend to be an image is stored as what it
        // is, and then served only as a download.
        assert_eq!(
            check_upload(b"<html>hi</html>", None, Some("text/html"), max).unwrap(),
            "text/html"
        );
        let exe = check_upload(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff", None, None, max);
        assert_eq!(exe.unwrap_err().status, 415);
    }

    #[test]
    fn private_addresses_are_refused() {
        let none: Vec<String> = vec![];
        for bad in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://localhost/x",
            "https://metadata.google.internal/x",
            "https://2130706433/x",
            "https://0x7f000001/x",
            "http://cdn.example.com/x",
            "https://user:pw@cdn.example.com/x",
        ] {
            assert!(check_fetch_url(bad, &none).is_err(), "{bad} was allowed");
        }
        assert!(check_fetch_url("https://scontent.xx.fbcdn.net/v/t1/x.jpg?oe=1", &none).is_ok());
        assert!(check_fetch_url("https://8.8.8.8/x", &none).is_ok());
        let trusted = vec![host_of("http://127.0.0.1:4567")];
        assert!(check_fetch_url("http://127.0.0.1:4567/media/1", &trusted).is_ok());
        assert!(check_fetch_url("http://127.0.0.1:4568/media/1", &trusted).is_err());
    }

    #[test]
    fn signed_links_expire_and_name_one_file() {
        let id = new_id("cv_0123456789abcdef0123", &[1u8; 16]).unwrap();
        let link = signed_link(b"k", "ws_1", &id, 1_000);
        let q = |k: &str| {
            link.split(['?', '&'])
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .unwrap()
                .to_string()
        };
        let (exp, sig) = (q("exp").parse::<i64>().unwrap(), q("sig"));
        assert!(check_link(b"k", "ws_1", &id, exp, &sig, 1_000));
        assert!(!check_link(b"k", "ws_2", &id, exp, &sig, 1_000));
        assert!(!check_link(b"other", "ws_1", &id, exp, &sig, 1_000));
        assert!(!check_link(b"k", "ws_1", &id, exp, &sig, exp + 1));
        assert!(!check_link(b"k", "ws_1", &id, exp + 3_600, &sig, 1_000));
    }

    #[test]
    fn limits_come_from_settings() {
        let mut s = serde_json::Map::new();
        assert_eq!(max_bytes(&s), DEFAULT_MAX_BYTES);
        s.insert(SETTING_MAX_MB.into(), 2.into());
        assert_eq!(max_bytes(&s), 2 * 1024 * 1024);
        assert!(check_max_mb(&serde_json::json!(0)).is_err());
        assert!(check_max_mb(&serde_json::json!("5")).is_err());
        assert!(check_max_mb(&serde_json::json!(5)).is_ok());
    }
}
