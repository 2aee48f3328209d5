-- Configuration: workspaces, their agents and their inboxes. Written rarely,
-- read through a cache. Message traffic never touches D1.

CREATE TABLE workspaces (
  id          TEXT PRIMARY KEY,               -- ws_…
  name        TEXT NOT NULL,
  settings    TEXT NOT NULL DEFAULT '{}',     -- JSON
  created_at  INTEGER NOT NULL                -- ms since the epoch
);

CREATE TABLE agents (
  id                   TEXT PRIMARY KEY,      -- ag_…
  workspace_id         TEXT NOT NULL REFERENCES workspaces(id),
  name                 TEXT NOT NULL,
  email                TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password_hash        TEXT NOT NULL,         -- hex PBKDF2-SHA256
  password_salt        TEXT NOT NULL,         -- hex, 16 bytes
  password_iterations  INTEGER NOT NULL,
  role                 TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
  language             TEXT,
  -- Tokens carry the version they were issued under; bumping it revokes them.
  token_version        INTEGER NOT NULL DEFAULT 1,
  created_at           INTEGER NOT NULL,
  removed_at           INTEGER
);
CREATE INDEX agents_by_workspace ON agents(workspace_id);

CREATE TABLE inboxes (
  id            TEXT PRIMARY KEY,             -- in_…
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  channel       TEXT NOT NULL,
  name          TEXT NOT NULL,
  settings      TEXT NOT NULL,                -- JSON, secrets included; never returned
  created_at    INTEGER NOT NULL,
  deleted_at    INTEGER                       -- deleted inboxes answer 404, history stays
);
CREATE INDEX inboxes_by_workspace ON inboxes(workspace_id);
