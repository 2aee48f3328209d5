//! A small JSON client for the public API.

use serde_json::{json, Value};
use std::time::Duration;

/// An answer: status and JSON body (`Value::Null` when not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Answer {
    fn from(resp: ureq::Response) -> Answer {
        let status = resp.status();
        let text = resp.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text }
    }

    /// Panics with the body when the status is not `want`.
    pub fn expect_status(self, want: u16) -> Answer {
        assert_eq!(
            self.status, want,
            "expected {want}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// Asserts a 4xx with the one-line `{error}` body every refusal has.
    pub fn expect_error(self, want: u16) -> Answer {
        let a = self.expect_status(want);
        let reason = a.body["error"].as_str().unwrap_or_default();
        assert!(
            !reason.is_empty() && !reason.contains('\n'),
            "error body must be one line: {}",
            a.text
        );
        a
    }
}

/// Calls `base` + path, optionally as an agent.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    agent: ureq::Agent,
}

pub fn send(req: ureq::Request, body: Option<&[u8]>) -> Answer {
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    match result {
        Ok(resp) => Answer::from(resp),
        Err(ureq::Error::Status(_, resp)) => Answer::from(resp),
        Err(e) => panic!("request failed: {e}"),
    }
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            token: None,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    /// The same client against another server (after a restart on a new port).
    pub fn with_base(&self, base: &str) -> Api {
        Api {
            base: base.to_string(),
            ..self.clone()
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub fn request(&self, method: &str, path: &str) -> ureq::Request {
        let mut r = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            r = r.set("authorization", &format!("Bearer {t}"));
        }
        r
    }

    pub fn get(&self, path: &str) -> Answer {
        send(self.request("GET", path), None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        send(
            self.request("POST", path)
                .set("content-type", "application/json"),
            Some(&bytes),
        )
    }

    pub fn send_patch(&self, path: &str, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        send(
            self.request("PATCH", path)
                .set("content-type", "application/json"),
            Some(&bytes),
        )
    }

    pub fn delete(&self, path: &str) -> Answer {
        send(self.request("DELETE", path), None)
    }

    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut r = self.request("POST", path);
        for (k, v) in headers {
            r = r.set(k, v);
        }
        send(r, Some(body))
    }

    /// Signs up a new workspace; returns an API client holding its owner's token.
    pub fn signup(&self, workspace: &str, email: &str) -> (Api, Value) {
        let a = self
            .post(
                "/api/signup",
                &json!({"workspace": workspace, "name": "Owner", "email": email, "password": "correct horse battery"}),
            )
            .expect_status(201);
        let token = a.body["token"]
            .as_str()
            .expect("signup returns a token")
            .to_string();
        (self.with_token(&token), a.body)
    }

    /// Creates an inbox; returns its JSON (`id`, `webhook_url`, …).
    pub fn create_inbox(&self, channel: &str, settings: Value) -> Value {
        self.post(
            "/api/inboxes",
            &json!({"channel": channel, "name": format!("{channel} inbox"), "settings": settings}),
        )
        .expect_status(201)
        .body
    }

    /// The conversation list (`status=all`).
    pub fn conversations(&self) -> Vec<Value> {
        self.get("/api/conversations?status=all")
            .expect_status(200)
            .body["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn messages(&self, conversation_id: &str) -> Vec<Value> {
        self.get(&format!("/api/conversations/{conversation_id}/messages"))
            .expect_status(200)
            .body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `check` holds for the conversation list (the index may
    /// trail a webhook by milliseconds).
    pub fn wait_for_conversations(&self, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let list = self.conversations();
            if check(&list) {
                return list;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "conversation list never matched: {list:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
