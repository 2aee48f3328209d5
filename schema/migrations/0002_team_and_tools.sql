-- Teams, access and the tools agents work with.

-- Per-inbox options that are not channel settings: {"auto_assign": bool}.
ALTER TABLE inboxes ADD COLUMN options TEXT NOT NULL DEFAULT '{}';

-- Invitations: a link with a single-use token; only its hash is stored.
CREATE TABLE invitations (
  id           TEXT PRIMARY KEY,              -- iv_…
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  email        TEXT NOT NULL COLLATE NOCASE,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
  token_hash   TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the token
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  accepted_at  INTEGER
);
CREATE INDEX invitations_by_workspace ON invitations(workspace_id);

-- API keys for the workspace's own systems: shown once, stored as a hash.
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,              -- ak_…
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name         TEXT NOT NULL,
  scopes       TEXT NOT NULL,                 -- JSON array
  key_hash     TEXT NOT NULL UNIQUE,
  last_four    TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER
);
CREATE INDEX api_keys_by_workspace ON api_keys(workspace_id);

-- Failed logins per account and per address, for the throttle.
CREATE TABLE login_failures (
  key          TEXT PRIMARY KEY,              -- "email:<e>" or "ip:<addr>"
  failures     INTEGER NOT NULL,
  window_start INTEGER NOT NULL
);

-- Canned responses, by shortcode.
CREATE TABLE canned_responses (
  id           TEXT PRIMARY KEY,              -- cr_…
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  shortcode    TEXT NOT NULL,
  text         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (workspace_id, shortcode)
);

-- Who did what that must be accountable (erasures, role changes…).
CREATE TABLE audit_log (
  id           TEXT PRIMARY KEY,              -- au_…
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  actor_id     TEXT NOT NULL,
  action       TEXT NOT NULL,
  target       TEXT NOT NULL,
  detail       TEXT NOT NULL DEFAULT '{}',    -- JSON, never personal data
  created_at   INTEGER NOT NULL
);
CREATE INDEX audit_by_workspace ON audit_log(workspace_id, created_at);

-- Sessions: each token names one; logout revokes just that one.
CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,              -- se_…
  agent_id     TEXT NOT NULL REFERENCES agents(id),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  revoked_at   INTEGER
);
CREATE INDEX sessions_by_agent ON sessions(agent_id);
