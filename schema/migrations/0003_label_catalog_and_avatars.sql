-- The settings pages: the workspace's label catalog and agents' avatars.

-- Labels the workspace offers, with a color. Conversations carry label
-- names (in their own objects and the workspace object's index); a rename
-- or delete here is carried to them by the workspace object.
CREATE TABLE labels (
  id           TEXT PRIMARY KEY,              -- lb_…
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name         TEXT NOT NULL COLLATE NOCASE,
  color        TEXT NOT NULL,                 -- #rrggbb
  created_at   INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);

-- An agent's picture: an https URL, shown beside their name.
ALTER TABLE agents ADD COLUMN avatar_url TEXT;
